"""SEGAN runs scored on the validation speaker (lucas), the split settings are chosen on: segmental SNR and PESQ.

The test speakers are for ``benchmarks/segan.py`` only. Prints one JSON line per system: the noisy input itself,
then each run named (its newest checkpoint, enhanced as ``gankit enhance`` does).

    OMP_NUM_THREADS=1 python benchmarks/segan_validation.py runs/val/segan-ssnr1 --data ../shared/data/fsdd
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.audio_quality import pesq_score, segmental_snr  # noqa: E402
from gankit.train.restore import load_method  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="*", help="segan run folders")
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fsdd"), help="folder of FSDD's WAVs")
    p.add_argument("--n", type=int, default=200, help="validation clips (the first N; 200 as the preset's eval)")
    args = p.parse_args()
    val = load_dataset("fsdd-noisy", split="val", root=args.data)
    noisy, clean = val.extra["noisy"][: args.n], val.x[: args.n]
    systems = {"noisy input": noisy} | {run: load_method(run)[0].enhance(noisy) for run in args.runs}
    for name, est in systems.items():
        pesq = pesq_score(clean, est)
        scores = {"segsnr": float(segmental_snr(clean, est).mean()), "pesq": float(pesq.nanmean()),
                  "pesq_clips": int((~pesq.isnan()).sum()), "clips": len(clean)}  # fmt: skip
        print(json.dumps({name: scores}), flush=True)


if __name__ == "__main__":
    main()
