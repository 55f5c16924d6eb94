"""``gankit evaluate``: FID, KID, IS, precision/recall, density/coverage, class coverage, memorisation, and for
a class-conditional run class accuracy and intra-class FID."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    from gankit.evaluation import METRICS  # the registry's scores and memorisation, one list for help and checks

    p = sub.add_parser(
        "evaluate",
        help="score samples (a run, a folder of images, an .npz) against a dataset",
        description="Score generated images against DATASET[:SPLIT] (default fashion-mnist:test), "
        "with 10,000 samples by default (Lucic et al. 2018).",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        help="a run directory, a folder of images, or an .npz (key 'images', uint8 N x H x W x C)",
    )
    p.add_argument(
        "--against",
        default="fashion-mnist:test",
        metavar="DATASET[:SPLIT]",
        help="reference data (default fashion-mnist:test)",
    )
    p.add_argument(
        "--extractor",
        metavar="NAME|FILE",
        help="inception, fashion-mnist-classifier, mnist-classifier, or a TorchScript file "
        "(default: the dataset's classifier)",
    )
    p.add_argument("-n", type=int, default=10_000, help="samples to evaluate (default 10000)")
    p.add_argument("--metrics", default="all", help=f"comma-separated: {','.join(METRICS)} (default all)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--out-dir", metavar="DIR", help="where the memorisation grid goes (default <run>/eval or ./eval)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.evaluation import evaluate, format_table

    metrics = None if args.metrics == "all" else [m.strip() for m in args.metrics.split(",") if m.strip()]
    res = evaluate(
        args.source,
        args.against,
        extractor=args.extractor,
        n=args.n,
        metrics=metrics,
        out_dir=args.out_dir,
        json_path=args.json,
        seed=args.seed,
        progress=not args.no_progress,
    )
    print(format_table(res))
    return 0
