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
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="FILE.png (a grid) or FILE.npz (uint8 N x H x W x C); audio runs: DIR or FILE.wav (WAV files), "
        "FILE.png (spectrograms) or FILE.npz",
    )
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
    p.add_argument(
        "--text",
        metavar="CAPTION",
        help='a text-to-image run (method: gancls): -n samples of this caption ("a dark ankle boot")',
    )
    p.add_argument(
        "--text-file",
        metavar="F",
        help="a text-to-image run: -n samples of each caption of F (one a line), a row per caption, z fixed per column",
    )
    p.add_argument(
        "--box",
        metavar="X0,Y0,X1,Y1",
        help="a what-where run (method: gawwn): the object of --class K in this box (pixels of the 64 x 64 canvas)",
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
    if args.text is not None or args.text_file is not None:
        return _run_text(args)
    if args.box is not None:
        return _run_box(args)
    images = gankit.sample(
        args.run,
        n=args.n,
        seed=args.seed,
        device=args.device,
        jacobian_truncation=args.jacobian_truncation,
        cls=args.cls,
    )
    if images.ndim == 3:  # audio clips (N x C x T): WAV files, spectrograms or an .npz (gankit.sound)
        from gankit.sound import SAMPLE_RATE, save_audio_samples
        from gankit.train.restore import run_config

        out = save_audio_samples(images, args.out, run_config(args.run).data.sample_rate or SAMPLE_RATE)
    else:
        out = gankit.save_samples(images, args.out)
    print(f"wrote {args.n} samples{'' if args.cls is None else f' of class {args.cls}'} to {out}")
    return 0


def _run_text(args: argparse.Namespace) -> int:
    """``--text`` / ``--text-file``: n samples per caption (:func:`gankit.text_to_image.sample_captions`)."""
    import gankit
    from gankit.errors import UserError
    from gankit.text_to_image import read_caption_file, sample_captions

    if args.cls is not None or args.jacobian_truncation:
        raise UserError("--text: captions say the class; drop --class and --jacobian-truncation")
    captions = ([args.text] if args.text is not None else []) + (
        read_caption_file(args.text_file) if args.text_file is not None else []
    )
    images = sample_captions(args.run, captions, n=args.n, seed=args.seed, device=args.device)
    out = gankit.save_samples(images, args.out, nrow=args.n)
    print(f"wrote {args.n} samples of each of {len(captions)} caption(s) to {out}")
    return 0


def _run_box(args: argparse.Namespace) -> int:
    """``--box``: n samples of ``--class`` in the box (:func:`gankit.location.sample_boxes`)."""
    import gankit
    from gankit.errors import UserError
    from gankit.location import parse_box, sample_boxes

    if args.cls is None:
        raise UserError("--box: say what to draw in it with --class K (an index or a name, e.g. sneaker)")
    images = sample_boxes(args.run, parse_box(args.box), args.cls, n=args.n, seed=args.seed, device=args.device)
    out = gankit.save_samples(images, args.out)
    print(f"wrote {args.n} samples of class {args.cls} in box {args.box} to {out}")
    return 0
