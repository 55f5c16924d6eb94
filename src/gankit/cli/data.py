"""``gankit data``: list the datasets, and fetch one into gankit's cache."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "data",
        help="list datasets, or fetch one (e.g. Fashion-MNIST) into the cache",
        description="List the datasets gankit knows and where each is found, or make one available offline.",
    )
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    f = dsub.add_parser("fetch", help="make a dataset available offline (find it, or download it into the cache)")
    f.add_argument("name", help="dataset name, e.g. fashion-mnist")
    f.set_defaults(func=fetch)
    ls = dsub.add_parser("list", help="list the dataset names")
    ls.set_defaults(func=list_datasets)


def fetch(args: argparse.Namespace) -> int:
    from gankit.data import load_dataset

    for split in ("train", "test"):
        data = load_dataset(args.name, split=split)
        print(f"{args.name} {split}: {len(data)} items of shape {tuple(data.shape)}")
    if args.name == "fashion-mnist":
        from gankit.data.fashion_mnist import locate

        print(f"files in {locate('train')}")
    return 0


def list_datasets(args: argparse.Namespace) -> int:
    from gankit.data import DATASETS

    for name in sorted(DATASETS):
        print(name)
    print("folder:PATH")
    return 0
