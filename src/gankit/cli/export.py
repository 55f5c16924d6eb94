"""``gankit export``: write a run's generator as TorchScript or ONNX (:mod:`gankit.export`)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export a run's generator to TorchScript or ONNX",
        description="Write the sampler of a run (the EMA G when kept, in eval mode) as TorchScript (torch.jit.load) "
        "or ONNX: inputs z (N x z_dim) and, for a class-conditional run, y (N class indices); output x.",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a run directory")
    p.add_argument("--format", required=True, choices=["torchscript", "onnx"])
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write (e.g. generator.pt, generator.onnx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.export import export_generator

    out = export_generator(args.run, args.out, args.format)
    print(f"wrote {out} ({args.format})")
    return 0
