"""``gankit enhance``: remove noise from WAV files with a trained SEGAN run."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "enhance",
        help="enhance noisy speech (WAV files) with a segan run",
        description="Enhance WAV files with a trained SEGAN run (method: segan) and write the outputs to --out "
        "under the inputs' names, as 16-bit PCM at 16 kHz (inputs of other rates are resampled). Every input is "
        "read before anything is written: a corrupt WAV is named in a one-line error (exit 2) and no output is "
        "written.",
    )
    p.add_argument("--run", metavar="DIR", required=True, help="a segan run directory")
    p.add_argument("inputs", nargs="+", metavar="IN.wav", help="noisy WAV files")
    p.add_argument("--out", metavar="DIR", required=True, help="where the enhanced WAV files go")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.enhance import enhance_files

    written = enhance_files(args.run, args.inputs, args.out, device=args.device)
    print(f"wrote {len(written)} WAV file(s) to {args.out}")
    return 0
