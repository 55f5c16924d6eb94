"""Evaluation speed and the FID floor/ceiling table; prints JSON.

    python benchmarks/eval_speed.py                       # speed: features/s, evaluate wall time
    python benchmarks/eval_speed.py --floor-ceiling --run runs/default   # the README's table, n = 1,000 for Inception

Speed: features/s of each extractor through gankit (``gankit.metrics.extract``) and through a bare
forward loop over the same network (the same preprocessed batches, no gankit code), in the same run;
and the wall time of ``gankit evaluate`` with the domain classifier on 10,000 samples (an .npz of
generated or test images; reference features cached first, as in normal use).

Floor/ceiling: FID of the Fashion-MNIST train split (n images) against the test split (n images), the
floor; and of uniform noise images against the test split, the ceiling; per extractor; with ``--run DIR``
also the FID of n samples of that run (``gankit.sample``, seed 0) at the same n, the README's last column.
Written to ``benchmarks/results/floor-ceiling/`` (``results.json``, ``table.md``) with the hardware and date.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _speed(name: str, n: int, repeats: int = 3) -> dict:
    from gankit.data import load_dataset
    from gankit.metrics.extractors import extract, get_extractor, inception_input, quantize

    ex = get_extractor(name)
    x = load_dataset("fashion-mnist", split="test").x[:n]
    extract(ex, x[: ex.batch_size])  # warm-up

    def bare() -> None:  # the network alone on the same batches, preprocessing written out by hand
        with torch.inference_mode():
            for xb in x.split(ex.batch_size):
                if name == "inception":
                    ex.net(inception_input(xb))
                else:
                    ex.net.features_and_logits(quantize(xb) / 127.5 - 1.0)

    # alternate the two, best of `repeats` each: the CPU is shared, so single timings are noisy
    best = {"gankit": float("inf"), "bare": float("inf")}
    for _ in range(repeats):
        for key, fn in (("gankit", lambda: extract(ex, x)), ("bare", bare)):
            t = time.perf_counter()
            fn()
            best[key] = min(best[key], time.perf_counter() - t)
    gankit_fps, bare_fps = n / best["gankit"], n / best["bare"]
    return {"images": n, "batch_size": ex.batch_size, "gankit_features_per_s": gankit_fps, "bare_forward_per_s": bare_fps, "ratio": gankit_fps / bare_fps, "repeats": repeats}


def _evaluate_wall(n: int, source: str | None) -> dict:
    from gankit.data import load_dataset
    from gankit.images import to_uint8
    from gankit.metrics.reference import reference_features

    reference_features("fashion-mnist", "test", "fashion-mnist-classifier", n)  # cached, as after a first run
    reference_features("fashion-mnist", "train", "fashion-mnist-classifier", 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            source = str(Path(tmp) / "test.npz")
            np.savez(source, images=to_uint8(load_dataset("fashion-mnist", split="test").x[:n]))
        cmd = [sys.executable, "-m", "gankit", "evaluate", source, "-n", str(n), "--no-progress", "--json", str(Path(tmp) / "r.json"), "--out-dir", tmp]
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        wall = time.perf_counter() - t
        res = json.loads((Path(tmp) / "r.json").read_text())
    return {"command": " ".join(["gankit", "evaluate", source, "-n", str(n)]), "wall_s": wall, "n": n, "target_s": 60, "fid": res.get("fid")}


def floor_ceiling(extractor: str, n: int, run: str | None = None) -> dict:
    from gankit.metrics.extractors import extract
    from gankit.metrics.fid import fid
    from gankit.metrics.reference import reference_features

    test_f = reference_features("fashion-mnist", "test", extractor, n, progress=True)[0]
    train_f = reference_features("fashion-mnist", "train", extractor, n, progress=True)[0]
    noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    noise_f = extract(extractor, noise, progress=True, desc="uniform noise")[0]
    out = {"extractor": extractor, "n": n, "floor_train_vs_test": fid(train_f, test_f), "ceiling_noise_vs_test": fid(noise_f, test_f)}
    if run is not None:
        import gankit

        samples = gankit.sample(run, n, seed=0)
        out |= {"run": run, "run_vs_test": fid(extract(extractor, samples, progress=True, desc="run samples")[0], test_f)}
    return out


def _write_floor_ceiling(rows: list[dict], command: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import hardware, write_results  # benchmarks/common.py

    report = {"command": command, "hardware": hardware(), "date": time.strftime("%Y-%m-%d"), "rows": rows}
    lines = [f"`{command}` on {report['hardware']}, {report['date']}.", "",
             "| extractor | n per side | floor: train vs test | ceiling: uniform noise vs test | the run |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in rows:
        run = f"{r['run_vs_test']:.1f} (`{r['run']}`)" if "run" in r else "-"
        lines.append(f"| `{r['extractor']}` | {r['n']:,} | {r['floor_train_vs_test']:.2f} | {r['ceiling_noise_vs_test']:.1f} | {run} |")
    write_results(Path(__file__).resolve().parent / "results" / "floor-ceiling", "", report, "\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--floor-ceiling", action="store_true", help="compute the FID floor/ceiling table instead of the speeds")
    ap.add_argument("--inception-n", type=int, default=None,
                    help="images for Inception (about 3-9 images/s on 2 cores; default 1,000 for --floor-ceiling, else 200)")
    ap.add_argument("--run", help="--floor-ceiling: also score n samples of this run directory")
    ap.add_argument("--classifier-n", type=int, default=10_000)
    ap.add_argument("--source", help="an .npz of samples for the evaluate timing (default: 10,000 test images)")
    ap.add_argument("--skip-inception", action="store_true")
    args = ap.parse_args()
    out: dict = {"torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    names = ["fashion-mnist-classifier"] + ([] if args.skip_inception else ["inception"])
    if args.floor_ceiling:
        inception_n = args.inception_n or 1000
        rows = [floor_ceiling(nm, args.classifier_n if nm != "inception" else inception_n, args.run) for nm in names]
        _write_floor_ceiling(rows, "python " + " ".join(["benchmarks/eval_speed.py", *sys.argv[1:]]))
        return
    else:
        out["features_per_s"] = {nm: _speed(nm, args.classifier_n if nm != "inception" else args.inception_n or 200) for nm in names}
        out["evaluate_classifier_10k"] = _evaluate_wall(args.classifier_n, args.source)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
