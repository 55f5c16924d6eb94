"""Text to image on captioned Fashion-MNIST: does a GAN-CLS run (Reed et al. 2016) draw what held-out captions say?

Trains the preset ``gancls-fashion-mnist`` (or scores ``--run DIR``), then draws ``--per-caption`` seeded samples
for every caption of the held-out phrasings (:func:`gankit.text_to_image.held_out_captions`: new orders and
structures of the training words, and per class one brightness-size pair that no training caption names) and
scores them (:func:`gankit.text_to_image.text_scores`):

- class agreement: the shipped Fashion-MNIST classifier puts the image in the captioned class (target >= 0.85);
- brightness / size agreement: among captions naming the attribute, the measured value lies on the named side
  of the real class median (a dark coat darker than the median coat; target >= 0.80 for one of the two);

overall and on the held-out pairs alone. Also writes ``grid.png``: a row per caption of a small fixed list, the
same eight latents in every row. Writes ``results.json``, ``table.md`` and the grid to ``--out``.

    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py                       # trains the preset, then scores
    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py --run runs/gancls-fashion-mnist   # scores a run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, train_once, write_results  # noqa: E402  (benchmarks/common.py, beside this script)

import gankit  # noqa: E402
from gankit.text_to_image import sample_captions, text_scores  # noqa: E402

GRID_CAPTIONS = [
    "a dark ankle boot", "a bright ankle boot", "a small bag", "a large bag", "a dark pullover", "a bright pullover",
    "this coat is small", "a picture of a large dress", "a sneaker that is dim", "a light t-shirt",
]  # fmt: skip
TARGETS = {"class_agreement": 0.85, "attribute_agreement": 0.80}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="score this GAN-CLS run instead of training the preset")
    p.add_argument("--runs", default="runs/text-to-image", help="where the preset's run goes (default %(default)s)")
    p.add_argument("--per-caption", type=int, default=4, help="samples per held-out caption (default 4)")
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/text-to-image"))
    args = p.parse_args()
    if args.run:
        run, timing = Path(args.run), {}
        if (run / "train_seconds.json").is_file():
            timing = __import__("json").loads((run / "train_seconds.json").read_text())
    else:
        run = Path(args.runs) / "gancls-seed0"
        timing = train_once("gancls-fashion-mnist", run, [])
    start = time.monotonic()
    scores = text_scores(run, per_caption=args.per_caption)
    seconds = time.monotonic() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gankit.save_samples(sample_captions(run, GRID_CAPTIONS, n=8), out / "grid.png", nrow=8)
    attribute = max(scores["brightness_agreement"], scores["size_agreement"])
    report = {
        "run": str(run),
        "hardware": hardware(),
        "train_seconds": timing.get("seconds"),
        "steps": timing.get("steps"),
        "score_seconds": round(seconds, 1),
        "per_caption": args.per_caption,
        **scores,
        "targets": TARGETS,
        "passes": scores["class_agreement"] >= TARGETS["class_agreement"] and attribute >= TARGETS["attribute_agreement"],
        "grid_captions": GRID_CAPTIONS,
    }
    rows = [("all held-out captions", ""), ("held-out brightness-size pairs", "held_out_combo_")]
    table = "| captions | images | class agreement | brightness agreement (n) | size agreement (n) |\n|---|---|---|---|---|\n"
    for name, k in rows:
        table += (f"| {name} | {scores[k + 'num_images']} | {scores[k + 'class_agreement']:.3f} | "
                  f"{scores[k + 'brightness_agreement']:.3f} ({scores[k + 'num_brightness']}) | "
                  f"{scores[k + 'size_agreement']:.3f} ({scores[k + 'num_size']}) |\n")  # fmt: skip
    table += f"\n{hardware()}; training {timing.get('seconds', float('nan')):.0f} s, scoring {seconds:.0f} s.\n"
    write_results(out, "", report, table)


if __name__ == "__main__":
    main()
