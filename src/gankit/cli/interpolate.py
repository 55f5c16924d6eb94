"""``gankit interpolate``: walk a trained run's latent space, one interpolation per row of a PNG grid."""

from __future__ import annotations

import argparse

from gankit.sampling.latent import MODES


def add_parser(sub) -> None:
    p = sub.add_parser(
        "interpolate",
        help="latent interpolations of a trained run (a PNG grid, one walk per row)",
        description="Draw ROWS pairs of latents and the STEPS samples between each pair: smooth rows "
        "mean G has learned a smooth map rather than memorised images (Radford et al. 2016, sec. 6.1).",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a run directory")
    p.add_argument(
        "--out", required=True, metavar="FILE", help="FILE.png (a grid, one interpolation per row) or FILE.npz"
    )
    p.add_argument("--rows", type=int, default=8, help="interpolations (default 8)")
    p.add_argument("--steps", type=int, default=10, help="samples per interpolation, both ends included (default 10)")
    p.add_argument("--mode", choices=MODES, default="slerp", help="spherical (default) or linear")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument(
        "--class",
        dest="cls",
        metavar="K",
        help="a class-conditional run (method: cgan): walk with class K fixed, an index or a name (sneaker)",
    )
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import gankit

    images = gankit.interpolate(
        args.run, rows=args.rows, steps=args.steps, mode=args.mode, seed=args.seed, device=args.device, cls=args.cls
    )
    out = gankit.save_samples(images, args.out, nrow=args.steps)
    of_class = "" if args.cls is None else f" of class {args.cls}"
    print(f"wrote {args.rows} interpolations{of_class} of {args.steps} steps ({args.mode}) to {out}")
    return 0
