"""The lectures' taxonomy of generative models, measured side by side on one test split per dataset.

What is measured and how: :mod:`gankit.lab.taxonomy` (``gankit lab taxonomy`` runs its quick budget into a lab
folder). This script runs any budget and writes the committed results: ``results[-quick].json``,
``table[-quick].md`` and ``taxonomy[-quick].png`` to ``--out``; it prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py --quick   # short runs, FID on the classifier's features only
    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py --quick --inception 200   # and Inception FID on 200 per model
    OMP_NUM_THREADS=1 python benchmarks/taxonomy.py           # the presets' steps, IWAE k = 5000, whole test splits
    python benchmarks/taxonomy.py --smoke     # a check of the script (seconds), into a temporary folder

A run directory that exists already (``--runs``/NAME) is scored again, not retrained; ``--gan-run DIR`` scores a
trained GAN run on Fashion-MNIST (e.g. the ``best-fashion-mnist`` preset's) in place of the quick DCGAN.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.lab.taxonomy import FULL, QUICK, SMOKE, measure  # noqa: E402
from gankit.lab.taxonomy_report import figure, table  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs, 1,000 test images, IWAE k = 200")
    p.add_argument("--k", type=int, help="IWAE samples (default 5000; 200 with --quick)")
    p.add_argument("--chunk", type=int, help="IWAE samples per decoder pass (default 100)")
    p.add_argument("--test-size", type=int, help="test images per dataset (default all; 1000 with --quick)")
    p.add_argument("--gan-run", help="a trained GAN run on Fashion-MNIST to score instead of the DCGAN preset")
    p.add_argument("--runs", help="run directories (default runs/taxonomy[-quick])")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "taxonomy"))
    p.add_argument("--score-n", type=int, help="samples per model for FID and precision/recall (default 5000; "
                   "500 with --quick)")  # fmt: skip
    p.add_argument("--pixelcnn-n", type=int, help="the PixelCNN's samples, drawn pixel by pixel (default 1000; "
                   "200 with --quick)")  # fmt: skip
    p.add_argument("--inception", type=int, default=0, metavar="N", help="also score the first N samples of each "
                   "model against N test images on the FID Inception's features (0: off, the default)")  # fmt: skip
    p.add_argument("--progress", action="store_true")
    p.add_argument("--steps", type=int, help="train every model this many steps (a dry run of the script)")
    p.add_argument("--smoke", action="store_true", help="every step in seconds on tiny settings, runs and results in a "
                   "new temporary folder (a check of the script, not a result)")  # fmt: skip
    args = p.parse_args()
    budget = SMOKE if args.smoke else QUICK if (args.quick or args.steps) else FULL
    if args.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="taxonomy-smoke-"))
        args.runs, args.out = str(tmp / "runs"), str(tmp / "results")
    overrides = budget.overrides
    if args.steps:
        overrides = {m: [o for o in o_ if not o.startswith("train.steps=")] + [f"train.steps={args.steps}"]
                     for m, o_ in overrides.items()}  # fmt: skip
    given = {"k": args.k, "chunk": args.chunk, "test_size": args.test_size, "score_n": args.score_n,
             "pixelcnn_n": args.pixelcnn_n, "gan_run": args.gan_run}  # fmt: skip
    budget = dataclasses.replace(budget, overrides=overrides, inception=args.inception, progress=args.progress,
                                 **{k: v for k, v in given.items() if v is not None})  # fmt: skip
    suffix = "" if budget.name == "full" else "-quick"  # the smoke run writes into its temporary folder
    runs = Path(args.runs or ROOT / "runs" / f"taxonomy{suffix}")
    results, grids = measure(budget, runs)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    figure(grids, Path(args.out) / f"taxonomy{suffix}.png")
    write_results(args.out, suffix, results, table(results))


if __name__ == "__main__":
    main()
