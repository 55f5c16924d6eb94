"""Class-conditional GANs on Fashion-MNIST: how G and D see the class, at one budget.

Trains the preset ``cgan-fashion-mnist`` (the default DCGAN's nets and optimiser) in each variant of
``cgan.g_conditioning`` x ``cgan.d_conditioning`` below, then scores each run with ``gankit.evaluate``
against the test split: the shipped Fashion-MNIST classifier's accuracy on the requested class, intra-class
FID (per class, mean over the ten) and FID of the class-balanced mix, both in that classifier's features
(the dataset's default extractor, not Inception: compare rows of this table, not with papers).
Writes ``results.json`` and ``table.md`` to ``--out`` and prints the JSON.

    python benchmarks/conditional_fashion_mnist.py --quick     # 1,500 steps a row: under 20 minutes on 2 cores
    python benchmarks/conditional_fashion_mnist.py             # the preset's 3,500 steps a row
    python benchmarks/conditional_fashion_mnist.py --only projection,cbn --seeds 0 1 2
    python benchmarks/conditional_fashion_mnist.py --cas       # + the best recipe and its CAS
    python benchmarks/conditional_fashion_mnist.py --cas --smoke   # a check of the script (seconds), temporary folder

With ``--cas`` the best recipe (:data:`BEST`: projection D with an EMA of G, a longer run) is trained too and
gets ``gankit cas`` (a classifier trained on 60,000 of its samples, tested on the real test split, beside the
same classifier trained on real data) and, without --quick, ``gankit cas --mix 0.5``, in a second table.

A run directory that exists already (``--out``/runs/ROW-seedS) is scored again, not retrained.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing


import gankit  # noqa: E402
from common import hardware  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.config import load_config  # noqa: E402


@dataclass(frozen=True)
class Row:
    key: str  # --only name
    label: str  # the table's first column
    overrides: tuple[str, ...]  # on top of the preset
    steps: int | None = None  # its own budget (None: the table's --steps)
    quick_steps: int | None = None  # its own budget with --quick


ROWS = [
    Row("concat", "G concat, D concat (Mirza & Osindero 2014)", ("cgan.d_conditioning=concat",)),
    Row("projection", "G concat, D projection (Miyato & Koyama 2018)", ("cgan.d_conditioning=projection",)),
    Row("acgan", "G concat, AC-GAN D (Odena et al. 2017)", ("cgan.d_conditioning=acgan",)),
    Row(
        "cbn",
        "G conditional BN, D projection",
        ("cgan.g_conditioning=batchnorm", "cgan.d_conditioning=projection"),
    ),
]
PRESET = "cgan-fashion-mnist"
# The generator CAS is measured on (--cas): the best of the rows above, with an EMA of G's weights and a longer
# run; not part of the equal-budget comparison.
BEST = Row(
    "best",
    "G concat, D projection, EMA of G (0.999)",
    ("cgan.d_conditioning=projection", "gan.ema_decay=0.999"),
    steps=8000,
    quick_steps=3500,
)
# --smoke: every step of the script in seconds (a check of the script, not a result): 2 G steps of tiny nets on
# mnist-5k, whose 4,000 images make CAS's real-data baseline cheap (Fashion-MNIST's is 60,000 images)
SMOKE = ("data.name=mnist-5k", "model.g_width=8", "model.d_width=8", "train.batch_size=16")


def train_and_score(row: Row, seed: int, args) -> dict:
    run_dir = Path(args.out) / "runs" / f"{row.key}-seed{seed}"
    steps = args.steps if args.smoke else (row.quick_steps if args.quick else row.steps) or args.steps
    overrides = [*row.overrides, f"train.seed={seed}", f"train.steps={steps}", "train.checkpoint_every=100000"]
    overrides += SMOKE if args.smoke else []
    timing = run_dir / "train_seconds.json"
    if not (run_dir / "checkpoints").is_dir():  # trained by an earlier invocation: score it again
        seconds = gankit.train(load_config(PRESET, overrides), run_dir, progress=args.progress).seconds
        timing.write_text(json.dumps({"seconds": seconds, "hardware": hardware()}))
    seconds = json.loads(timing.read_text())["seconds"] if timing.is_file() else None
    if args.train_only:
        return {"row": row.key, "seed": seed, "steps": steps, "train_seconds": seconds}
    t0 = time.monotonic()
    scores = gankit.evaluate(
        run_dir, f"{args.data}:test", n=args.samples, metrics=["fid", "conditional"], seed=seed, progress=False
    )
    out = {
        "row": row.key,
        "seed": seed,
        "steps": steps,
        "train_seconds": seconds,
        "eval_seconds": time.monotonic() - t0,
        **{k: scores[k] for k in ("class_accuracy", "intra_fid", "fid", "intra_fid_by_class") if k in scores},
    }
    print(json.dumps({k: v for k, v in out.items() if k != "intra_fid_by_class"}), file=sys.stderr, flush=True)
    return out


def _fmt(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    mean = sum(values) / len(values)
    std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown_table(results: list[dict], rows: list[Row], args, minutes: float, hardware: str) -> str:
    train_minutes = sum(r["train_seconds"] or 0 for r in results) / 60
    lines = [
        f"Fashion-MNIST, preset `{PRESET}` at {args.steps} G steps a row, seeds {args.seeds}; {args.samples} "
        f"class-balanced samples against the test split. Training {train_minutes:.1f} min in all (as recorded "
        f"by the runs), this invocation {minutes:.1f} min, on {hardware}.",
        "Class accuracy: the shipped Fashion-MNIST classifier (92.3% on real test images) on the requested class. "
        "FIDs in that classifier's features (not Inception): compare rows, not papers.",
        "",
        "| variant | overrides | class accuracy | intra-class FID | FID |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        rs = [r for r in results if r["row"] == row.key]
        acc = _fmt([r["class_accuracy"] for r in rs if "class_accuracy" in r], 3)
        intra = _fmt([r["intra_fid"] for r in rs if "intra_fid" in r], 2)
        fid = _fmt([r["fid"] for r in rs if "fid" in r], 2)
        lines.append(f"| {row.label} | `{' '.join(row.overrides)}` | {acc} | {intra} | {fid} |")
    return "\n".join(lines) + "\n"


def cas_table(args) -> tuple[dict, str]:
    """Train (or reuse) the :data:`BEST` row, score it, and run ``gankit cas`` on it (and ``--mix 0.5``
    without --quick): (JSON, Markdown)."""
    best = train_and_score(BEST, args.seeds[0], args)
    run_dir = Path(args.out) / "runs" / f"{BEST.key}-seed{args.seeds[0]}"
    t0 = time.monotonic()
    epochs = {"epochs": 1} if args.smoke else {}
    alone = gankit.cas(run_dir, progress=args.progress, **epochs, **({"n": args.samples} if args.smoke else {}))
    res = {**{k: v for k, v in best.items() if k != "intra_fid_by_class"}, "cas": alone["cas"]}
    res |= {"real_accuracy": alone["real_accuracy"], "cas_by_class": alone["cas_by_class"]}
    if not args.quick:
        mixed = gankit.cas(run_dir, mix=0.5, progress=args.progress, **epochs)
        res |= {"mix_accuracy": mixed["mix_accuracy"], "mix_change": mixed["mix_change"]}
    res["cas_minutes"] = (time.monotonic() - t0) / 60
    train = f"{res['train_seconds'] / 60:.1f} min" if res["train_seconds"] else "earlier"
    lines = [
        f"CAS (Ravuri & Vinyals 2019) of `{BEST.label}` (`{' '.join(BEST.overrides)}`, {res['steps']} steps, "
        f"seed {res['seed']}; trained in {train}; class accuracy {res['class_accuracy']:.3f}, intra-class FID "
        f"{res['intra_fid']:.2f}, FID {res['fid']:.2f}): the shipped classifier's architecture and recipe "
        f"trained on 60,000 class-balanced samples, tested on the real test split; {res['cas_minutes']:.1f} min.",
        "",
        "| trained on | test accuracy |",
        "|---|---|",
        f"| real training split (60,000) | {res['real_accuracy']:.3f} |",
        f"| samples only (60,000): CAS | {res['cas']:.3f} |",
    ]
    if "mix_accuracy" in res:
        lines.append(
            f"| real + 30,000 samples (--mix 0.5) | {res['mix_accuracy']:.3f} ({100 * res['mix_change']:+.1f} points) |"
        )
    by_class = ", ".join(f"{k} {v:.2f}" for k, v in res["cas_by_class"].items())
    lines += ["", f"CAS by class: {by_class}."]
    return res, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1,500 G steps a row (default: the preset's 3,500)")
    p.add_argument("--only", default="", help=f"comma-separated rows (default all: {','.join(r.key for r in ROWS)})")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--steps", type=int, default=None, help="G steps a row (overrides --quick)")
    p.add_argument("--samples", type=int, default=10_000, help="samples scored per run (default 10000)")
    p.add_argument("--out", default=None, help="default benchmarks/results/conditional[-quick]")
    p.add_argument("--progress", action="store_true")
    p.add_argument("--train-only", action="store_true", help="train the runs, score nothing (score them later)")
    p.add_argument("--cas", action="store_true", help="also train the best recipe and report its CAS (and --mix 0.5)")
    p.add_argument("--smoke", action="store_true", help="every step in seconds: 2 steps of tiny nets on mnist-5k, "
                   "200 samples, CAS on 200 samples for one epoch, into a new temporary folder (not a result)")
    args = p.parse_args(argv)
    if args.smoke:
        args.steps, args.samples, args.out = 2, 200, tempfile.mkdtemp(prefix="conditional-smoke-")
    args.data = "mnist-5k" if args.smoke else "fashion-mnist"
    args.steps = args.steps or (1500 if args.quick else 3500)
    args.out = args.out or str(ROOT / "benchmarks" / "results" / ("conditional-quick" if args.quick else "conditional"))
    keys = [k for k in args.only.split(",") if k] or [r.key for r in ROWS]
    unknown = set(keys) - {r.key for r in ROWS}
    if unknown:
        p.error(f"--only: unknown rows {sorted(unknown)}")
    rows = [r for r in ROWS if r.key in keys]

    start = time.monotonic()
    results = [train_and_score(row, seed, args) for row in rows for seed in args.seeds]
    if args.train_only:
        print(json.dumps(results, indent=2))
        return {"results": results}
    cas, cas_md = cas_table(args) if args.cas else (None, "")
    minutes = (time.monotonic() - start) / 60  # the whole invocation, CAS included
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(results, rows, args, minutes, hardware()) + ("\n" + cas_md if cas_md else "")
    (out / "table.md").write_text(table)
    summary = {
        "benchmark": "conditional_fashion_mnist",
        "steps": args.steps,
        "hardware": hardware(),
        "minutes": minutes,
        "results": results,
        "cas": cas,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print(table, file=sys.stderr)
    return summary


if __name__ == "__main__":
    main()
