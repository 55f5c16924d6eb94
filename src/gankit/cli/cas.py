"""``gankit cas``: the Classification Accuracy Score of a class-conditional run (Ravuri & Vinyals 2019)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    from gankit.metrics.classifier_training import EPOCHS  # the shipped classifiers' recipe

    p = sub.add_parser(
        "cas",
        help="train a classifier on a conditional run's samples, test it on real images (CAS)",
        description="Classification Accuracy Score (Ravuri & Vinyals 2019): train the shipped classifier's "
        "architecture, by its recipe, only on class-balanced samples of a class-conditional run labelled with "
        "the class asked for, and test it on the real test split; beside it the same classifier trained on the "
        "real training split (cached). With --mix F, train on the real split plus F times as many samples and "
        "report the change over real data alone. The dataset is the run's (fashion-mnist or mnist-5k).",
    )
    p.add_argument("--run", required=True, metavar="DIR", help="a run of a class-conditional method (cgan)")
    p.add_argument(
        "--mix",
        type=float,
        metavar="F",
        help="train on the real training split plus F x its size in samples (e.g. 0.5), not on samples alone",
    )
    p.add_argument("-n", type=int, help="samples to train on (default: as many as the real training split)")
    p.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs of the classifier's recipe (default {EPOCHS})")
    p.add_argument("--seed", type=int, default=0, help="seed of the latents and of the training (default 0)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.cas_score import cas, format_table

    res = cas(
        args.run,
        mix=args.mix,
        n=args.n,
        epochs=args.epochs,
        seed=args.seed,
        json_path=args.json,
        progress=not args.no_progress,
    )
    print(format_table(res))
    return 0
