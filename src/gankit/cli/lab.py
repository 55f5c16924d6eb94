"""``gankit lab NAME [--out DIR]``: run a lab experiment (the lectures' theory), write DIR/result.json and figures."""

from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    from gankit.lab import EXPERIMENTS, experiment_names

    names = experiment_names()
    p = sub.add_parser(
        "lab",
        help="run a theory experiment: " + ", ".join(names),
        description="Run a lab experiment; writes OUT/result.json and its figures (PNG, GIF) and prints the "
        "headline numbers.\n" + "\n".join(f"  {n:12s} {EXPERIMENTS[n].summary}" for n in names),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="the experiment: " + " | ".join(names))
    p.add_argument("--out", metavar="DIR", help="output folder (default: lab/NAME)")
    p.add_argument("--quick", action="store_true", help="a much shorter run: figures for a smoke check, rough numbers")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gankit.lab import EXPERIMENTS, run_experiment

    out = Path(args.out) if args.out else Path("lab") / args.name
    result = run_experiment(args.name, out, quick=args.quick)
    for key in EXPERIMENTS[args.name].headline:
        value = result[key]
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {json.dumps(value)}")
    print(f"  result:  {out / 'result.json'}")
    for f in result.get("figures", []):
        print(f"  figure:  {out / f}")
    return 0
