"""What and where to draw on a 64 x 64 canvas: does a gawwn run (after Reed et al. 2016) put the object in the box?

Trains the preset ``gawwn-fashion-mnist`` (or scores ``--run DIR``), then draws one seeded sample for each of the
first ``--samples`` held-out test canvases' (class, box) (:func:`gankit.location.box_scores`): the IoU of each
sample's measured box (its pixels above intensity 0.25) with the box asked for (target: IoU >= 0.6 in at least 90%
of samples), the same measurement on the real test canvases (its ceiling), and the shipped classifier's agreement
with the class on the box's content. Writes ``moving.png``: per class one latent, the box moved along the top, the
middle and the bottom of the canvas (a row each), at the class's median box size on the test canvases. Writes ``results.json``, ``table.md`` and the figure to ``--out``.

    OMP_NUM_THREADS=1 python benchmarks/what_where.py                           # trains the preset, then scores
    OMP_NUM_THREADS=1 python benchmarks/what_where.py --run runs/gawwn-fashion-mnist    # scores a run
    python benchmarks/what_where.py --smoke    # a check of the script (seconds), into a temporary folder
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)

import gankit  # noqa: E402
from gankit.location import box_scores, moving_object, typical_sizes  # noqa: E402

FIGURE_CLASSES = [7, 8, 1, 9]  # sneaker, bag, trouser, ankle boot
TARGET = 0.9  # share of samples with IoU >= 0.6
# --smoke: the preset at 2 steps with tiny nets, 20 samples scored, runs and results in a temporary folder
SMOKE = ["train.steps=2", "gawwn.z_dim=8", "gawwn.g_width=4", "gawwn.d_width=4", "gawwn.embed_dim=4",
         "train.batch_size=16"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="score this gawwn run instead of training the preset")
    p.add_argument("--runs", default="runs/what-where", help="where the preset's run goes (default %(default)s)")
    p.add_argument("--samples", type=int, default=2000, help="held-out (class, box) pairs, one sample each")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/what-where"))
    p.add_argument("--smoke", action="store_true", help="every step in seconds: 2 steps of tiny nets, 20 samples, "
                   "runs and results in a new temporary folder (a check of the script, not a result)")
    args = p.parse_args()
    if args.smoke:
        tmp = Path(tempfile.mkdtemp(prefix="what-where-smoke-"))
        args.runs, args.out, args.samples = str(tmp / "runs"), str(tmp / "results"), 20
    if args.run:
        run = Path(args.run)
        timing = json.loads((run / "train_seconds.json").read_text()) if (run / "train_seconds.json").is_file() else {}
    else:
        run = Path(args.runs) / "gawwn-seed0"
        timing = train_once("gawwn-fashion-mnist", run, SMOKE if args.smoke else [])
    start = time.monotonic()
    scores = box_scores(run, n=args.samples)
    seconds = time.monotonic() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gankit.save_samples(moving_object(run, typical_sizes(FIGURE_CLASSES)), out / "moving.png", nrow=5)
    share = scores["share_iou_at_least_0.6"]
    report = {"run": str(run), "hardware": hardware(), "train_seconds": timing.get("seconds"), "steps": timing.get("steps"),
              "score_seconds": round(seconds, 1), **scores, "target_share_iou_at_least_0.6": TARGET,
              "passes": share >= TARGET, "figure_classes": FIGURE_CLASSES}  # fmt: skip
    table = "| images | mean IoU | share IoU >= 0.6 | class agreement |\n|---|---|---|---|\n"
    table += f"| gawwn samples | {scores['mean_iou']:.3f} | {share:.3f} | {scores['class_agreement']:.3f} |\n"
    table += (f"| real test canvases | {scores['real_mean_iou']:.3f} | {scores['real_share_iou_at_least_0.6']:.3f} | "
              f"{scores['real_class_agreement']:.3f} |\n")  # fmt: skip
    table += f"\n{hardware()}; training {timing.get('seconds', float('nan')):.0f} s, scoring {seconds:.0f} s.\n"
    write_results(out, "", report, table)


if __name__ == "__main__":
    main()
