"""``gankit train``: train from a config (default: the embedded DCGAN on Fashion-MNIST) or resume a run."""

from __future__ import annotations

import argparse
import os

from gankit.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model (default: DCGAN on Fashion-MNIST, 3,500 steps: 5-11 minutes on a 2-core CPU)",
        description="Train a model. KEY=VALUE overrides any config key by its dotted name, e.g. optim.g_lr=1e-4.",
    )
    p.add_argument(
        "--config", metavar="FILE", help="a YAML config file or a shipped preset name (default: dcgan-fashion-mnist)"
    )
    p.add_argument("--run-dir", metavar="DIR", help="where to write the run (default: runs/<arch>-<dataset>-<time>)")
    p.add_argument("--steps", type=int, metavar="N", help="generator steps in the whole run (train.steps)")
    p.add_argument(
        "--minutes", type=float, metavar="M", help="stop (with a checkpoint) after M minutes (train.minutes)"
    )
    p.add_argument(
        "--labels-per-class",
        type=int,
        metavar="N",
        help="method ssgan: labelled images per class, the rest unlabelled (ssgan.labels_per_class)",
    )
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR up to its (possibly new) step budget")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    p.set_defaults(func=run)


def _overrides(args: argparse.Namespace) -> list[str]:
    extra = list(args.overrides)
    if args.steps is not None:
        extra.append(f"train.steps={args.steps}")
    if args.minutes is not None:
        extra.append(f"train.minutes={args.minutes}")
    if args.labels_per_class is not None:
        extra.append(f"ssgan.labels_per_class={args.labels_per_class}")
    return extra


def _check_labels_per_class(method: str) -> None:
    if method != "ssgan":
        raise UserError(f"--labels-per-class: only method ssgan has labelled and unlabelled images (this is {method})")


def run(args: argparse.Namespace) -> int:
    import gankit

    if args.resume:
        if args.config or args.run_dir:
            raise UserError("--resume DIR continues the run in DIR with its own config; drop --config/--run-dir")
        if args.labels_per_class is not None:
            _check_labels_per_class(gankit.run_config(args.resume).method)
        result = gankit.resume(args.resume, _overrides(args), progress=not args.no_progress)
    else:
        if args.labels_per_class is not None:  # before the override meets a config without an ssgan section
            _check_labels_per_class(gankit.load_config(args.config, list(args.overrides)).method)
        cfg = gankit.load_config(args.config, _overrides(args))
        result = gankit.train(cfg, args.run_dir, progress=not args.no_progress)
    if os.environ.get("RANK", "0") != "0":  # under torchrun: one summary, from the process that wrote the run
        return 0
    how = "interrupted" if result.interrupted else "finished"
    if result.time_up:  # say so: the samples are of fewer steps than the config asks for
        how = f"time budget (train.minutes) spent: stopped at step {result.step} of {result.planned_steps},"
    else:
        how += f" at step {result.step}"
    print(f"{how} in {result.seconds:.0f} s ({result.images_per_s:.0f} images/s)")
    print(f"  run directory: {result.run_dir}")
    # Only what is on disk: a line never names a file that was not written.
    if result.last_samples is not None and result.last_samples.is_file():
        print(f"  samples:       {result.last_samples}")
    if (result.run_dir / "metrics.csv").is_file():
        print(f"  metrics:       {result.run_dir / 'metrics.csv'}  (tensorboard --logdir {result.run_dir / 'tb'})")
    if (result.run_dir / "checkpoints" / "latest").is_file():
        resume = f"gankit train --resume {result.run_dir}"
        print(f"  checkpoint:    {result.run_dir / 'checkpoints'}  (resume with: {resume})")
    return 0
