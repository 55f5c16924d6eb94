"""``gankit sample``: draw samples from a trained run as a PNG grid or an .npz of raw images."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sample",
        help="draw samples from a trained run (PNG grid or .npz)",
        description="Draw N samples from the newest checkpoint of a run: a PNG grid, or uint8 images in an .npz "
        "that gankit evaluate reads. Seeded: the same --seed draws the same samples.",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a run directory")
    p.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--out", required=True, metavar="FILE", help="FILE.png (a grid) or FILE.npz (uint8 N x H x W x C)")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--jacobian-truncation",
        type=float,
        default=0.0,
        metavar="RATIO",
        help="drop this fraction of latents where ||dG/dz|| is largest (JBT, Tanielian et al. 2020; default 0: off)",
    )
    p.add_argument(
        "--class",
        dest="cls",
        metavar="K",
        help="a class-conditional run (method: cgan): all samples of class K, an index or a name (sneaker)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gankit
    from gankit.errors import UserError

    if args.n <= 0:
        raise UserError(f"-n {args.n}: the number of samples must be positive")
    if not 0.0 <= args.jacobian_truncation < 1.0:
        raise UserError(
            f"--jacobian-truncation {args.jacobian_truncation}: the fraction of latents to drop must be in [0, 1)"
        )
    images = gankit.sample(
        args.run,
        n=args.n,
        seed=args.seed,
        device=args.device,
        jacobian_truncation=args.jacobian_truncation,
        cls=args.cls,
    )
    out = gankit.save_samples(images, args.out)
    print(f"wrote {args.n} samples{'' if args.cls is None else f' of class {args.cls}'} to {out}")
    return 0
