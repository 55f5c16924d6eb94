"""``gankit adapt``: DANN against source only, subspace alignment and target only on a domain pair."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "adapt",
        help="unsupervised domain adaptation (DANN) with its baselines on a domain pair",
        description=(
            "Train source only, DANN and target only (method dann, one run directory per variant and seed) and "
            "subspace alignment on SOURCE -> TARGET, and write results.json, results.md and figures. Domains: "
            "moons, moons-rotated, mnist, mnist-m, digits, folder:PATH (class sub-folders). KEY=VALUE overrides any "
            "key of the runs' config, e.g. dann.lr=0.02 dann.lambda_max=0.5 train.batch_size=128."
        ),
    )
    p.add_argument("--source", required=True, metavar="S", help="the labelled domain, e.g. mnist")
    p.add_argument("--target", required=True, metavar="T", help="the unlabelled domain, e.g. mnist-m")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="the runs' config: a YAML file or preset (default: the pair's, e.g. dann-mnist-m)",
    )
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/adapt-S-T-<time>)")
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="training seeds per method (default 3)")
    p.add_argument("--steps", type=int, metavar="N", help="training steps per run (train.steps; default: the preset's)")
    p.add_argument("--methods", metavar="M,M", help="a subset of source_only,adabn,subspace_alignment,dann,target_only")
    p.add_argument("--sa-dim", type=int, default=20, metavar="D", help="subspace alignment's dimension (default 20)")
    p.add_argument("--sa-classifier", default="logistic", metavar="C", help="logistic or 1nn (default logistic)")
    p.add_argument("--feature-plot", default="pca", metavar="P", help="pca or tsne (default pca)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="run-config overrides (see docs/adapt.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.adapt import METHODS, adapt

    overrides = list(args.overrides) + ([f"train.steps={args.steps}"] if args.steps is not None else [])
    methods = args.methods.split(",") if args.methods else list(METHODS)
    result = adapt(
        args.source,
        args.target,
        args.out,
        config=args.config,
        overrides=overrides,
        progress=not args.no_progress,
        seeds=args.seeds,
        methods=methods,
        sa_dim=args.sa_dim,
        sa_classifier=args.sa_classifier,
        feature_plot=args.feature_plot,
    )
    print((result.out / "results.md").read_text().rstrip())
    print(f"\nwrote {result.out / 'results.json'} and {len(result.figures)} figures")
    return 0
