"""``gankit adapt``: DANN against source only, subspace alignment and target only on a domain pair."""

from __future__ import annotations

import argparse

import yaml

from gankit.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "adapt",
        help="unsupervised domain adaptation (DANN) with its baselines on a domain pair",
        description=(
            "Train source only, subspace alignment, DANN and target only on SOURCE -> TARGET and write "
            "results.json, results.md and figures. Domains: moons, moons-rotated, mnist, mnist-m, digits, "
            "folder:PATH (class sub-folders). KEY=VALUE sets any adapt setting, e.g. lr=0.05 lambda_max=0.5."
        ),
    )
    p.add_argument("--source", required=True, metavar="S", help="the labelled domain, e.g. mnist")
    p.add_argument("--target", required=True, metavar="T", help="the unlabelled domain, e.g. mnist-m")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/adapt-S-T-<time>)")
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="training seeds per method (default 3)")
    p.add_argument("--steps", type=int, metavar="N", help="SGD steps per method and seed (default: the pair's preset)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("settings", nargs="*", metavar="KEY=VALUE", help="adapt settings (see docs/adapt.md)")
    p.set_defaults(func=run)


def parse_settings(items: list[str]) -> dict:
    """``KEY=VALUE`` strings -> a dict, VALUE parsed as YAML (``lr=0.05``, ``methods=[dann]``)."""
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"setting '{item}' is not of the form KEY=VALUE")
        try:
            out[key] = yaml.safe_load(raw) if raw != "" else None
        except yaml.YAMLError:
            out[key] = raw
    return out


def run(args: argparse.Namespace) -> int:
    from gankit.adapt import adapt

    settings = parse_settings(args.settings)
    if args.steps is not None:
        settings["steps"] = args.steps
    for key in ("source", "target", "out", "progress"):
        if key in settings:
            raise UserError(f"setting '{key}': give it as --{key}" if key != "progress" else "setting 'progress': use --no-progress")
    seeds = settings.pop("seeds", args.seeds)
    if not isinstance(seeds, int) or seeds <= 0:
        raise UserError(f"--seeds {seeds}: give a positive number of seeds")
    result = adapt(args.source, args.target, args.out, seeds=seeds, progress=not args.no_progress, **settings)
    print((result.out / "results.md").read_text().rstrip())
    print(f"\nwrote {result.out / 'results.json'} and {len(result.figures)} figures")
    return 0
