"""``gankit train-classifier``: train the small CNN used by the domain FID and the class-based metrics."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train-classifier",
        help="train the small evaluation classifier (fashion-mnist or mnist-5k)",
        description="Train the small CNN whose features and class probabilities gankit evaluate uses for "
        "domain FID, KID, IS and class coverage, and write its weights as safetensors.",
    )
    p.add_argument("--dataset", default="fashion-mnist", help="fashion-mnist (default) or mnist-5k")
    p.add_argument(
        "--out", metavar="FILE", help="the safetensors file to write (default: <dataset>-classifier.safetensors)"
    )
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-augment", action="store_true", help="no random shifts/flips (for a fine-tuning stage)")
    p.add_argument("--init", metavar="FILE", help="start from these classifier weights (a fine-tuning stage)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gankit.errors import UserError
    from gankit.metrics.classifier_training import train_classifier

    if args.epochs <= 0 or args.batch_size <= 0 or args.lr <= 0:
        raise UserError("--epochs, --batch-size and --lr must be positive")
    r = train_classifier(
        args.dataset,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        augment=not args.no_augment,
        init=args.init,
        progress=not args.no_progress,
    )
    print(f"test accuracy {r.test_accuracy:.4f} after {r.seconds:.0f} s; wrote {r.path}")
    return 0
