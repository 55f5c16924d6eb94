"""Run under torchrun by test_conformance.py: train every smoke config in CONFIG_DIR (one YAML per method) in
this one pair of processes, each into OUT_DIR/<name>, so the suite pays the start of torchrun, torch and gloo
once rather than once per method. A method that fails leaves OUT_DIR/<name>.error (rank 0) and the others run."""

import os
import sys
import traceback
from pathlib import Path

import gankit


def main(config_dir: str, out_dir: str) -> None:
    # The runs share one process group (gankit leaves it at exit): a second run in the same torchrun
    # processes must not hang on setting the group up again.
    for path in sorted(Path(config_dir).glob("*.yaml")):
        try:
            gankit.train(gankit.load_config(str(path)), Path(out_dir) / path.stem, progress=False)
        except Exception:  # reported by the test of this method; the next method still runs
            if os.environ.get("RANK", "0") == "0":
                (Path(out_dir) / f"{path.stem}.error").write_text(traceback.format_exc())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
