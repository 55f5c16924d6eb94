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

Settings are chosen with ``--validation``: the preset (with ``--set`` overrides) trains on the tuning split
(``data.name=fashion-mnist-captions-tuning``, the training grammar less the validation phrasings and pairs) and
is scored on :func:`gankit.data.captions.validation_captions`; the held-out test captions are not looked at.

    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py                       # trains the preset, then scores
    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py --run runs/gancls-fashion-mnist   # scores a run
    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py --seed 1              # another seed: results-seed1.json
    OMP_NUM_THREADS=1 python benchmarks/text_to_image.py --validation --tag no-class --set gancls.class_weight=0
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
from gankit.data.captions import CLASS_WORDS, validation_captions  # noqa: E402
from gankit.text_to_image import sample_captions, text_scores  # noqa: E402

GRID_CAPTIONS = [
    "a dark ankle boot", "a bright ankle boot", "a small bag", "a large bag", "a dark pullover", "a bright pullover",
    "this coat is small", "a picture of a large dress", "a sneaker that is dim", "a light t-shirt",
]  # fmt: skip
TARGETS = {"class_agreement": 0.85, "attribute_agreement": 0.80}
# Does G use z? The mean over pixels of the standard deviation of 8 samples of one caption (images in [-1, 1]).
Z_STD_CAPTIONS = ["a coat", "a dark ankle boot", "a small bag", "a light t-shirt"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", help="score this GAN-CLS run instead of training the preset")
    p.add_argument("--runs", default="runs/text-to-image", help="where the preset's run goes (default %(default)s)")
    p.add_argument("--per-caption", type=int, default=4, help="samples per held-out caption (default 4)")
    p.add_argument("--seed", type=int, default=0, help="train.seed of the preset's run (default 0)")
    p.add_argument("--validation", action="store_true", help="train on the tuning split, score validation captions")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides of the preset")
    p.add_argument("--tag", default="", help="names the run and the results files (results-TAG.json)")
    p.add_argument("--out", help="default benchmarks/results/text-to-image (-validation with --validation)")
    args = p.parse_args()
    default_out = "text-to-image-validation" if args.validation else "text-to-image"
    out = Path(args.out or ROOT / "benchmarks/results" / default_out)
    overrides = [f"train.seed={args.seed}", *args.set]
    if args.validation:
        overrides.insert(0, "data.name=fashion-mnist-captions-tuning")
    tag = args.tag or (f"seed{args.seed}" if args.seed else "")
    if args.run:
        run, timing = Path(args.run), {}
        if (run / "train_seconds.json").is_file():
            timing = __import__("json").loads((run / "train_seconds.json").read_text())
    else:
        run = Path(args.runs) / ("gancls-" + ("validation-" if args.validation else "") + (tag or "seed0"))
        timing = train_once("gancls-fashion-mnist", run, overrides)
    start = time.monotonic()
    captions = validation_captions() if args.validation else None
    scores = text_scores(run, per_caption=args.per_caption, captions=captions)
    seconds = time.monotonic() - start
    z_std = sample_captions(run, Z_STD_CAPTIONS, n=8).view(len(Z_STD_CAPTIONS), 8, -1).std(1).mean(1)
    suffix = f"-{tag}" if tag else ""
    out.mkdir(parents=True, exist_ok=True)
    gankit.save_samples(sample_captions(run, GRID_CAPTIONS, n=8), out / f"grid{suffix}.png", nrow=8)
    attribute = max(scores["brightness_agreement"], scores["size_agreement"])
    report = {
        "run": str(run),
        "captions": "validation" if args.validation else "held-out test",
        "overrides": [] if args.run else overrides,
        "hardware": hardware(),
        "train_seconds": timing.get("seconds"),
        "steps": timing.get("steps"),
        "score_seconds": round(seconds, 1),
        "per_caption": args.per_caption,
        **scores,
        "targets": TARGETS,
        "passes": scores["class_agreement"] >= TARGETS["class_agreement"] and attribute >= TARGETS["attribute_agreement"],
        "grid_captions": GRID_CAPTIONS,
        "pixel_std_over_z": dict(zip(Z_STD_CAPTIONS, [round(v, 3) for v in z_std.tolist()])),
    }
    rows = [("all validation captions", "")] if args.validation else [
        ("all held-out captions", ""), ("held-out brightness-size pairs", "held_out_combo_")]  # fmt: skip
    table = "| captions | images | class agreement | brightness agreement (n) | size agreement (n) |\n|---|---|---|---|---|\n"
    for name, k in rows:
        table += (f"| {name} | {scores[k + 'num_images']} | {scores[k + 'class_agreement']:.3f} | "
                  f"{scores[k + 'brightness_agreement']:.3f} ({scores[k + 'num_brightness']}) | "
                  f"{scores[k + 'size_agreement']:.3f} ({scores[k + 'num_size']}) |\n")  # fmt: skip
    names = [n[0] for n in CLASS_WORDS]
    table += "\nClass agreement per captioned class: " + ", ".join(
        f"{n} {a:.2f}" for n, a in zip(names, scores["class_agreement_by_class"])) + ".\n"  # fmt: skip
    table += f"Pixel std over z (8 latents): {', '.join(f'{v:.2f}' for v in z_std.tolist())} for {Z_STD_CAPTIONS}.\n"
    table += f"\n{hardware()}; training {timing.get('seconds', float('nan')):.0f} s, scoring {seconds:.0f} s.\n"
    write_results(out, suffix, report, table)


if __name__ == "__main__":
    main()
