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
    from gankit.data import espeak

    e = dsub.add_parser(
        "espeak-digits",
        help="speak the digits 0-9 with espeak-ng into a folder of WAV files (read it with data.name=folder:OUT)",
        description="A synthetic spoken-digit set: every accent x variant x speed x pitch (gankit.data.espeak).",
    )
    e.add_argument("out", help="folder to write OUT/<digit>/<voice>+<variant>_s<speed>_p<pitch>.wav into")
    e.add_argument("--voices", type=_names, default=espeak.VOICES, help="espeak-ng English voices, comma-separated")
    e.add_argument("--variants", type=_names, default=espeak.VARIANTS, help="voice variants, e.g. m1,f3")
    e.add_argument("--speeds", type=_ints, default=espeak.SPEEDS, help="words per minute, e.g. 120,160,200")
    e.add_argument("--pitches", type=_ints, default=espeak.PITCHES, help="pitches 0-99, e.g. 35,50,65")
    e.set_defaults(func=espeak_digits)


def _names(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from None


def espeak_digits(args: argparse.Namespace) -> int:
    from gankit.data.espeak import synthesize_digits

    paths = synthesize_digits(args.out, args.voices, args.variants, args.speeds, args.pitches)
    print(f"{len(paths)} clips of the digits 0-9 in {args.out}; train on them with data.name=folder:{args.out}")
    return 0


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
