"""Train the spoken-digit classifier shipped as ``src/gankit/assets/fsdd-classifier.safetensors``.

The small log-mel CNN of :mod:`gankit.metrics.audio_classifier`, trained on FSDD's official training split
(2,700 clips) less a validation tenth carved from it at random (seed 0), on which the recipe (epochs, learning
rate, time shifts) was chosen; the test split (300 clips) is read once at the end. Writes the weights (with the
test accuracy and this command in their metadata) and ``results.json`` under ``--out``, prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/digit_classifier.py --data ../shared/data/fsdd   # ~5 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.data import load_dataset  # noqa: E402
from gankit.metrics.audio_classifier import accuracy, fit_digit_classifier, save_digit_classifier  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fsdd"), help="folder of FSDD's WAVs")
    p.add_argument("--weights", default=str(ROOT / "src" / "gankit" / "assets" / "fsdd-classifier.safetensors"))
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "digit-classifier"))
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    start = time.monotonic()
    train, test = load_dataset("fsdd", "train", root=args.data), load_dataset("fsdd", "test", root=args.data)
    assert train.y is not None and test.y is not None
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))
    val_idx, fit_idx = perm[: len(train) // 10], perm[len(train) // 10 :]
    x_val, y_val = train.x[val_idx], train.y[val_idx]
    history: list[float] = []

    def log(epoch: int, model) -> None:
        history.append(accuracy(model, x_val, y_val))
        print(f"epoch {epoch + 1}: validation accuracy {history[-1]:.4f}", file=sys.stderr, flush=True)

    model = fit_digit_classifier(
        train.x[fit_idx], train.y[fit_idx], epochs=args.epochs, lr=args.lr, seed=args.seed, log=log
    )
    test_acc = accuracy(model, test.x, test.y)
    command = f"python benchmarks/digit_classifier.py --epochs {args.epochs} --lr {args.lr} --seed {args.seed}"
    meta = {"dataset": "fsdd", "classes": json.dumps(train.classes), "test_accuracy": f"{test_acc:.4f}",
            "val_accuracy": f"{history[-1]:.4f}", "command": command}  # fmt: skip
    path = save_digit_classifier(model, args.weights, meta)
    report = {"test_accuracy": test_acc, "val_accuracy": history[-1], "val_history": history,
              "train_clips": len(fit_idx), "val_clips": len(val_idx), "test_clips": len(test),
              "seconds": time.monotonic() - start, "weights": str(path.relative_to(ROOT) if path.is_relative_to(ROOT)
              else path), "bytes": path.stat().st_size, "command": command, "hardware": hardware()}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
