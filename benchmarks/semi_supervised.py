"""The semi-supervised GAN (Salimans et al. 2016, sec. 5) against the same classifier trained on the labels alone.

Fashion-MNIST and mnist-5k, 100 labels each (10 per class), presets ``ssgan-fashion-mnist`` and ``ssgan-mnist-5k``,
``ssgan.variant`` ssgan and supervised at the same steps, one run per seed (``data.seed`` and ``train.seed``: the
labelled images and the initialisation). Each run keeps its best checkpoint by validation accuracy (a split carved
from the training data); then :func:`gankit.semi_supervised.test_accuracy` reads the test split once per run.
Writes ``results[-quick].json`` and ``table[-quick].md`` to ``--out`` and prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/semi_supervised.py --quick --jobs 2   # short runs: under 20 min on 2 cores
    OMP_NUM_THREADS=1 python benchmarks/semi_supervised.py --jobs 2           # the presets' steps

``--jobs N`` trains N runs at a time (one process each, one thread each with OMP_NUM_THREADS=1). A run directory
that exists already (``--runs``/DATASET-VARIANT-seedS) is scored again, not retrained; the table reports the
training time of every run (summed) beside the wall clock of the invocation.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing


from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.semi_supervised import test_accuracy  # noqa: E402

PRESETS = {"fashion-mnist": "ssgan-fashion-mnist", "mnist-5k": "ssgan-mnist-5k"}
QUICK_STEPS = {"fashion-mnist": 1500, "mnist-5k": 1500}
VARIANTS = ("ssgan", "supervised")
ANCHOR = "Salimans et al. 2016, Table 1 (feature matching): 0.93% test error on MNIST (60,000 images) with 100 labels"


def train_and_test(dataset: str, variant: str, seed: int, steps: int | None, args) -> dict:
    run_dir = Path(args.runs) / f"{dataset}-{variant}-seed{seed}"
    overrides = [f"ssgan.variant={variant}", f"data.seed={seed}", f"train.seed={seed}", "train.sample_every=100000"]
    if steps is not None:
        overrides += [f"train.steps={steps}", f"eval.eval_every={min(steps, max(50, steps // 10))}"]
    t = train_once(PRESETS[dataset], run_dir, overrides, args.progress)
    best = json.loads((run_dir / "best" / "best.json").read_text())
    out = {"dataset": dataset, "variant": variant, "seed": seed, "steps": t["steps"], "train_seconds": t["seconds"],
           "val_acc": best["value"], **test_accuracy(run_dir)}  # fmt: skip
    print(json.dumps(out), file=sys.stderr, flush=True)
    return out


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0
    return mean, std


def summarise(results: list[dict]) -> dict:
    """Mean and standard deviation (over seeds) of test and validation accuracy per dataset and variant, and the
    GAN's gain over the supervised baseline in points."""
    table = {}
    for dataset in PRESETS:
        rows = {}
        for variant in VARIANTS:
            rs = [r for r in results if r["dataset"] == dataset and r["variant"] == variant]
            if rs:
                test, val = _mean_std([r["test_acc"] for r in rs]), _mean_std([r["val_acc"] for r in rs])
                rows[variant] = {"test_mean": test[0], "test_std": test[1], "val_mean": val[0], "seeds": len(rs),
                                 "steps": rs[0]["steps"]}  # fmt: skip
        if len(rows) == 2:
            rows["gain_points"] = 100 * (rows["ssgan"]["test_mean"] - rows["supervised"]["test_mean"])
        table[dataset] = rows
    return table


def _cell(row: dict) -> str:
    return f"{100 * row['test_mean']:.1f} ± {100 * row['test_std']:.1f}"


def markdown_table(summary: dict, command: str, minutes: float, train_minutes: float, hardware: str) -> str:
    lines = [
        f"`{command}`: {minutes:.1f} min wall clock ({train_minutes:.1f} min of training, summed over runs) on "
        f"{hardware}.",
        "Test accuracy (%) of the classifier at its best validation accuracy, mean ± std over seeds; 100 labels "
        "(10 per class). Published anchor: " + ANCHOR + ".",
        "",
        "| data | steps | seeds | supervised (labels alone) | semi-supervised GAN | gain (points) |",
        "|---|---|---|---|---|---|",
    ]
    for dataset, rows in summary.items():
        if len(rows) < 3:
            continue
        sup, gan = rows["supervised"], rows["ssgan"]
        lines.append(f"| {dataset} | {gan['steps']} | {gan['seeds']} | {_cell(sup)} | {_cell(gan)} | "
                     f"{rows['gain_points']:+.1f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=f"short runs ({QUICK_STEPS}) instead of the presets' steps")
    p.add_argument("--steps", type=int, default=None, help="steps per run (overrides --quick; a smoke of the plumbing)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--datasets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "semi-supervised"))
    p.add_argument("--runs", default=None, help="where the runs go (default runs/semi-supervised[-quick])")
    p.add_argument("--jobs", type=int, default=1, help="runs trained at a time (a process each)")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    suffix = "-quick" if args.quick else ""
    args.runs = args.runs or str(ROOT / "runs" / f"semi-supervised{suffix}")

    start = time.monotonic()
    todo = [
        (dataset, variant, seed, args.steps or (QUICK_STEPS[dataset] if args.quick else None), args)
        for dataset in args.datasets
        for seed in args.seeds
        for variant in VARIANTS
    ]
    todo.sort(key=lambda job: (job[1] != "ssgan", job[0] != "fashion-mnist"))  # the longest runs first
    if args.jobs > 1:  # spawn: a fresh interpreter per worker, nothing inherited from this one's torch state
        spawn = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=spawn) as pool:
            results = list(pool.map(train_and_test, *zip(*todo)))
    else:
        results = [train_and_test(*job) for job in todo]
    minutes = (time.monotonic() - start) / 60
    train_minutes = sum(r["train_seconds"] for r in results) / 60
    summary = summarise(results)
    command = "OMP_NUM_THREADS=1 python benchmarks/semi_supervised.py" + (" --quick" if args.quick else "")
    command += f" --jobs {args.jobs}" if args.jobs > 1 else ""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(summary, command, minutes, train_minutes, hardware())
    report = {"benchmark": "semi_supervised", "command": command, "hardware": hardware(), "minutes": minutes,
              "train_minutes": train_minutes, "anchor": ANCHOR, "summary": summary, "results": results}  # fmt: skip
    write_results(out, suffix, report, table)
    return report


if __name__ == "__main__":
    main()
