"""Train the spoken-digit classifier shipped as ``src/gankit/assets/fsdd-classifier.safetensors``.

The small log-mel CNN of :mod:`gankit.metrics.audio_classifier`, trained on FSDD's official training split
(2,700 clips) less a validation tenth carved from it at random (seed 0), on which the recipe (epochs, learning
rate, time shifts) was chosen; the test split (300 clips) is read once at the end. Writes the weights (with the
test accuracy and this command in their metadata) and ``results.json`` under ``--out``, prints the JSON.

    OMP_NUM_THREADS=1 python benchmarks/digit_classifier.py --data ../shared/data/fsdd   # ~5 min on 2 cores
    python benchmarks/digit_classifier.py --smoke   # a check of the script (seconds): into a temporary folder
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
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
    p.add_argument("--smoke", action="store_true", help="every step on tiny settings (one epoch on 100 clips, 50 "
                   "test clips), weights and results in a new temporary folder: a check of the script, not a result")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.smoke:  # never the shipped weights nor the committed results
        args.out = tempfile.mkdtemp(prefix="digit-classifier-smoke-")
        args.epochs, args.weights = 1, str(Path(args.out) / "fsdd-classifier.safetensors")

    start = time.monotonic()
    train, test = load_dataset("fsdd", "train", root=args.data), load_dataset("fsdd", "test", root=args.data)
    assert train.y is not None and test.y is not None
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))
    val_idx, fit_idx = perm[: len(train) // 10], perm[len(train) // 10 :]
    x_test, y_test = test.x, test.y
    if args.smoke:
        val_idx, fit_idx, x_test, y_test = val_idx[:50], fit_idx[:100], x_test[:50], y_test[:50]
    x_val, y_val = train.x[val_idx], train.y[val_idx]
    history: list[float] = []

    def log(epoch: int, model) -> None:
        history.append(accuracy(model, x_val, y_val))
        print(f"epoch {epoch + 1}: validation accuracy {history[-1]:.4f}", file=sys.stderr, flush=True)

    model = fit_digit_classifier(
        train.x[fit_idx], train.y[fit_idx], epochs=args.epochs, lr=args.lr, seed=args.seed, log=log
    )
    test_acc = accuracy(model, x_test, y_test)
    command = f"python benchmarks/digit_classifier.py --epochs {args.epochs} --lr {args.lr} --seed {args.seed}"
    meta = {"dataset": "fsdd", "classes": json.dumps(train.classes), "test_accuracy": f"{test_acc:.4f}",
            "val_accuracy": f"{history[-1]:.4f}", "command": command}  # fmt: skip
    path = save_digit_classifier(model, args.weights, meta)
    report = {"test_accuracy": test_acc, "val_accuracy": history[-1], "val_history": history,
              "train_clips": len(fit_idx), "val_clips": len(val_idx), "test_clips": len(y_test),
              "seconds": time.monotonic() - start, "weights": str(path.relative_to(ROOT) if path.is_relative_to(ROOT)
              else path), "bytes": path.stat().st_size, "command": command, "hardware": hardware()}  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
