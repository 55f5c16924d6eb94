"""``gankit translate``: translate every image of a folder with a trained pix2pix or CycleGAN run."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "translate",
        help="translate every image of a folder with a pix2pix or cyclegan run",
        description="Translate every image below INPUT_DIR (searched recursively) with a trained pix2pix or "
        "CycleGAN run and write the outputs to --out as PNG, keeping the folder structure. Every input is read "
        "before anything is written: a corrupt image is named in a one-line error (exit 2) and no output is "
        "written. Inputs are converted to the run's channels and resized to its image size when they differ.",
    )
    p.add_argument("--run", metavar="DIR", required=True, help="a pix2pix or cyclegan run directory")
    p.add_argument("input_dir", metavar="INPUT_DIR", help="a folder of images")
    p.add_argument("--out", metavar="DIR", required=True, help="where the translated PNGs go")
    p.add_argument(
        "--direction", choices=["AtoB", "BtoA"], default=None,
        help="CycleGAN: which generator (default AtoB); pix2pix: must be the run's own (pix2pix.direction)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.translate import translate_folder

    written = translate_folder(
        args.run, args.input_dir, args.out, direction=args.direction, progress=not args.no_progress, device=args.device
    )
    print(f"wrote {len(written)} image(s) to {args.out}")
    return 0
