"""``gankit invert``: find the latents of real images (inversion) and fill hidden pixels from G (inpainting)."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "invert",
        help="invert real images into a run's latent space; with --mask, inpaint",
        description="Optimise latents so that G(z) matches N images of DATASET[:SPLIT] on the pixels "
        "the mask keeps, then fill the hidden pixels from G(z) (Yeh et al. 2017). Writes a PNG grid: "
        "originals, masked inputs, G(z), filled.",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a run directory")
    p.add_argument("--out", required=True, metavar="FILE.png", help="the grid")
    p.add_argument(
        "--data",
        default="fashion-mnist:test",
        metavar="DATASET[:SPLIT]",
        help="where the images come from (default fashion-mnist:test)",
    )
    p.add_argument("-n", type=int, default=8, help="images (default 8: the first N of the split)")
    p.add_argument(
        "--mask", default="center", help="none (plain inversion), center (default), left, right, top, bottom, random:P"
    )
    p.add_argument("--steps", type=int, default=500, help="Adam steps on z (default 500)")
    p.add_argument("--restarts", type=int, default=4, help="random starts per image; the best is kept (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="FILE", help="also write the errors as JSON")
    p.add_argument(
        "--class",
        dest="cls",
        metavar="K",
        help="a class-conditional run (method: cgan): invert with class K fixed, an index or a name (sneaker)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    import gankit
    from gankit.data import load_dataset
    from gankit.errors import UserError
    from gankit.metrics.reference import parse_against

    if args.n <= 0:
        raise UserError(f"-n {args.n}: the number of images must be positive")
    if not args.out.lower().endswith(".png"):
        raise UserError(f"{args.out}: the output must end in .png")
    cfg = gankit.run_config(args.run)
    name, split = parse_against(args.data)
    images = load_dataset(name, split=split, img_size=cfg.data.img_size, channels=cfg.data.channels).x[: args.n]
    res = gankit.invert(
        args.run,
        images,
        mask=args.mask,
        steps=args.steps,
        restarts=args.restarts,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
        cls=args.cls,
    )
    rows = (
        [res["original"]]
        + ([res["masked"]] if args.mask != "none" else [])
        + [res["reconstruction"]]
        + ([res["filled"]] if args.mask != "none" else [])
    )
    out = gankit.save_samples(torch.cat(rows), args.out, nrow=len(images))
    summary = {
        "images": len(images),
        "mask": args.mask,
        "steps": args.steps,
        "restarts": args.restarts,
        "known_mse": res["known_mse"].mean().item(),
    }
    if args.mask != "none":
        summary |= {
            "hidden_mse": res["hidden_mse"].nanmean().item(),
            "hidden_mse_mean_fill": res["hidden_mse_mean_fill"].nanmean().item(),
        }
    for k, v in summary.items():
        print(f"{k:21s}{v:.4g}" if isinstance(v, float) else f"{k:21s}{v}")
    print(f"grid ({'original, masked, G(z), filled' if args.mask != 'none' else 'original, G(z)'}): {out}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                summary
                | {"per_image": {k: res[k].tolist() for k in ("known_mse", "hidden_mse", "hidden_mse_mean_fill")}},
                f,
                indent=1,
            )
    return 0
