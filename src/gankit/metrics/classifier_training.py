"""Train, save and load the small domain classifiers behind the fast evaluation metrics.

``gankit train-classifier --dataset fashion-mnist`` calls :func:`train_classifier`; the result is a
safetensors file whose metadata records the dataset, the test accuracy and the command that made
it, so a shipped file can always be reproduced.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from tqdm import tqdm

from gankit.errors import UserError
from gankit.nets.classifier import SmallCNN, small_cnn

# Shipped classifiers: extractor name -> dataset it was trained on.
SHIPPED = {"fashion-mnist-classifier": "fashion-mnist", "mnist-classifier": "mnist-5k"}
# Garments are left/right symmetric; digits are not, so only Fashion-MNIST gets flips.
FLIP_OK = {"fashion-mnist"}
# The recipe's defaults (the first stage of the shipped Fashion-MNIST classifier: 91.5% on its test split).
EPOCHS, BATCH_SIZE, LR = 6, 128, 2e-3


@dataclass
class ClassifierResult:
    path: Path
    test_accuracy: float
    seconds: float


def _augment(x: torch.Tensor, flip: bool, g: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels (and horizontal flips): a cheap guard against over-fitting."""
    n = x.shape[0]
    shift = torch.randint(-2, 3, (n, 2), generator=g).float() * (2.0 / x.shape[-1])
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0) if flip else 1.0
    theta[:, 1, 1] = 1.0
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=False)


@torch.no_grad()
def accuracy(model: SmallCNN, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """The fraction of ``x`` that ``model`` classifies as ``y`` (eval mode, in batches)."""
    model.eval()
    hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch_size), y.split(batch_size)))
    return hits / len(y)


def fit_classifier(
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
    *,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    seed: int = 0,
    augment: bool = True,
    flip: bool = False,
    init: str | Path | None = None,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: bool = True,
    desc: str = "training classifier",
) -> SmallCNN:
    """Train :func:`gankit.nets.classifier.small_cnn` on labelled images: the recipe of the shipped classifiers.

    Adam with a cosine learning-rate schedule over all steps, shuffled minibatches each epoch, random 2-pixel
    shifts (and horizontal flips when ``flip``). Seeded: the same tensors and settings give the same weights.

    Args:
        x, y: N images (N x C x 28 x 28 in [-1, 1]) and their N class indices.
        num_classes: K, the classifier's outputs.
        epochs, batch_size, lr, seed: the training recipe.
        augment: random shifts (and flips when ``flip``); off for a final fine-tuning stage.
        flip: random horizontal flips too (garments are left/right symmetric; digits are not).
        init: start from the weights of this file (a second, fine-tuning stage).
        test: (images, labels) whose accuracy the progress bar shows after each epoch.
        progress, desc: the progress bar.

    Returns:
        The trained classifier, in eval mode.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = small_cnn(num_classes=num_classes, channels=x.shape[1])
    if init is not None:
        model.load_state_dict(load_classifier(init)[0].state_dict())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    bar = tqdm(total=total, desc=desc, unit="step", disable=not progress)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        for idx in perm.split(batch_size):
            xb = _augment(x[idx], flip, g) if augment else x[idx]
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
        if test is not None:
            bar.set_postfix(test_acc=f"{accuracy(model, *test):.4f}")
    bar.close()
    return model.eval()


def train_classifier(
    dataset: str = "fashion-mnist",
    out: str | Path | None = None,
    *,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    seed: int = 0,
    augment: bool = True,
    init: str | Path | None = None,
    progress: bool = True,
) -> ClassifierResult:
    """Train :func:`gankit.nets.classifier.small_cnn` on ``dataset`` (train split), test on its test split,
    and write it with its recipe in the metadata (:func:`fit_classifier` does the training).

    Args:
        dataset: ``fashion-mnist`` or ``mnist-5k``.
        out: the safetensors file to write (default ``<dataset>-classifier.safetensors``).
        epochs, batch_size, lr, seed: the training recipe.
        augment: random shifts (and flips for garments); off for a final fine-tuning stage.
        init: start from the weights of this file (a second, fine-tuning stage).
        progress: show a progress bar.

    Returns:
        A :class:`ClassifierResult` (path, test accuracy, seconds).
    """
    from gankit.data import load_dataset

    train, test = load_dataset(dataset, split="train"), load_dataset(dataset, split="test")
    if train.y is None or test.y is None:
        raise UserError(f"--dataset {dataset}: a classifier needs class labels")
    start = time.monotonic()
    model = fit_classifier(
        train.x,
        train.y,
        len(train.classes),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        augment=augment,
        flip=dataset in FLIP_OK,
        init=init,
        test=(test.x, test.y),
        progress=progress,
        desc=f"training classifier on {dataset}",
    )
    acc = accuracy(model, test.x, test.y)
    out = Path(out or f"{dataset}-classifier.safetensors")
    meta = {
        "dataset": dataset,
        "classes": json.dumps(train.classes),
        "test_accuracy": f"{acc:.4f}",
        "channels": str(train.x.shape[1]),
        "command": (
            f"gankit train-classifier --dataset {dataset} --epochs {epochs} --batch-size {batch_size} "
            f"--lr {lr} --seed {seed}"
            + ("" if augment else " --no-augment")
            + (f" --init {Path(init).name}" if init else "")
        ),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out), metadata=meta)
    return ClassifierResult(out, acc, time.monotonic() - start)


def shipped_path(name: str) -> Path:
    """The shipped weights file of a classifier extractor (``fashion-mnist-classifier``, ``mnist-classifier``)."""
    return Path(str(resources.files("gankit") / "assets" / f"{name}.safetensors"))


def load_classifier(path: str | Path) -> tuple[SmallCNN, dict[str, str]]:
    """Load a classifier written by :func:`train_classifier`; returns (model in eval mode, metadata)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: classifier weights not found (make them with gankit train-classifier)")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            state = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as e:
        raise UserError(f"{path}: not a safetensors classifier ({e})") from None
    classes = json.loads(meta.get("classes", "[]")) or [str(i) for i in range(10)]
    model = small_cnn(num_classes=len(classes), channels=int(meta.get("channels", 1)))
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise UserError(f"{path}: weights do not fit the small CNN ({str(e).splitlines()[0]})") from None
    return model.eval(), meta
