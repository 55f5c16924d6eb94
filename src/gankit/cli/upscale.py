"""``gankit upscale``: upscale images with a trained super-resolution run, or score it on a test set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gankit.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "upscale",
        help="upscale images with a superres run (SRResNet / SRGAN), or score it on a test set",
        description="Upscale image files (or every image in the folders named) by a trained superres run's factor "
        "and write them to --out as PNG. With --downscale the inputs are taken as ground truth instead: each is "
        "downscaled (antialiased bicubic, 8-bit), upscaled, and scored against the original (PSNR and SSIM on "
        "the luma channel with the border shaved, as Ledig et al. 2017; the high-frequency energy ratio), e.g. "
        "on Set5 or Set14. --bicubic uses plain bicubic interpolation, the baseline, in place of a run.",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--run", metavar="DIR", help="a superres run directory")
    who.add_argument("--bicubic", action="store_true", help="bicubic interpolation instead of a run")
    p.add_argument("inputs", nargs="+", metavar="IMAGE", help="image files or folders of images")
    p.add_argument("--out", metavar="DIR", help="where the upscaled PNGs go (required unless --downscale)")
    p.add_argument("--scale", type=int, default=4, help="the factor for --bicubic (a run uses its own; default 4)")
    p.add_argument("--downscale", action="store_true", help="score: the inputs are the high-resolution truth")
    p.add_argument("--json", metavar="FILE", help="with --downscale: also write the scores as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.superres import score_images, upscale_files

    run_dir = None if args.bicubic else args.run
    if args.scale < 2 or args.scale & (args.scale - 1):
        raise UserError(f"--scale {args.scale}: use a power of two (2, 4, 8)")
    if not args.downscale:
        if args.out is None:
            raise UserError("--out DIR: where to write the upscaled images (or --downscale to score them)")
        written = upscale_files(run_dir, args.inputs, args.out, scale=args.scale)
        print(f"wrote {len(written)} image(s) to {args.out}")
        return 0
    res = score_images(run_dir, list(args.inputs), scale=args.scale, out_dir=args.out)
    width = max(len(k) for k in res["per_image"])
    print(f"{'image':<{width}}  psnr (dB)  ssim    hf_ratio")
    for name, s in res["per_image"].items():
        print(f"{name:<{width}}  {s['psnr']:9.2f}  {s['ssim']:.4f}  {s['hf_ratio']:.3f}")
    means = f"{res['psnr']:9.2f}  {res['ssim']:.4f}  {res['hf_ratio']:.3f}"
    print(f"{'mean':<{width}}  {means}   ({res['model']}, x{res['scale']})")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0
