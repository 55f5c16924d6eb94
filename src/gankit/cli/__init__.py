"""The ``gankit`` command: one entry point, one sub-command per module in this package.

Each sub-command module has ``add_parser(subparsers)`` which registers its parser and sets
``func`` to a function of the parsed arguments. User mistakes (:class:`gankit.errors.UserError`)
print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import sys

from gankit import __version__
from gankit.errors import UserError

# The sub-commands, in the order `gankit --help` lists them.
SUBCOMMANDS = [
    "gankit.cli.train",
    "gankit.cli.sample",
    "gankit.cli.interpolate",
    "gankit.cli.invert",
    "gankit.cli.ppgn",
    "gankit.cli.evaluate",
    "gankit.cli.cas",
    "gankit.cli.export",
    "gankit.cli.upscale",
    "gankit.cli.translate",
    "gankit.cli.enhance",
    "gankit.cli.train_classifier",
    "gankit.cli.lab",
    "gankit.cli.adapt",
    "gankit.cli.data",
]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="gankit", description="A PyTorch toolkit for adversarial generative modelling."
    )
    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # KEY=VALUE overrides may stand anywhere, also between options (argparse alone takes one run of them):
    # the ones it leaves over join the command's own list.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or any("=" not in item or item.startswith("-") for item in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = list(args.overrides) + extra
    try:
        return args.func(args) or 0
    except UserError as e:
        print(f"gankit {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
