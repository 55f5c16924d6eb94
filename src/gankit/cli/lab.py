"""``gankit lab NAME [--out DIR]``: run a lab experiment (the lectures' theory), write DIR/result.json and figures.

``gankit lab serve [--port P] [--open]``: the live page (:mod:`gankit.lab.live`), a GAN learning in the browser."""

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
        "headline numbers.\n" + "\n".join(f"  {n:12s} {EXPERIMENTS[n].summary}" for n in names)
        + "\n  serve        the live page: watch a GAN learn a toy in the browser, change it while it learns",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", metavar="NAME", help="the experiment: " + " | ".join(names) + ", or serve (the live page)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: lab/NAME)")
    p.add_argument("--quick", action="store_true", help="a much shorter run: figures for a smoke check, rough numbers")
    p.add_argument("--port", type=int, default=8765, help="serve: the port on 127.0.0.1 (default 8765)")
    p.add_argument("--open", action="store_true", help="serve: open the page in the default browser")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from gankit.lab import EXPERIMENTS, run_experiment

    if args.name == "serve":
        from gankit.lab.live import serve

        serve(args.port, args.open)
        return 0
    out = Path(args.out) if args.out else Path("lab") / args.name
    result = run_experiment(args.name, out, quick=args.quick)
    for key in EXPERIMENTS[args.name].headline:
        value = result[key]
        print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {json.dumps(value)}")
    print(f"  result:  {out / 'result.json'}")
    for f in result.get("figures", []):
        print(f"  figure:  {out / f}")
    return 0
