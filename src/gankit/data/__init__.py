"""Datasets by name: ``fashion-mnist``, ``mnist-5k``, ``folder:PATH`` (and the toys of :mod:`gankit.data.toy`).

Every dataset is held in memory as a :class:`TensorData` (images scaled to [-1, 1], N x C x H x W),
so that drawing a minibatch is one indexing operation and the loader is never the bottleneck.

Adding a dataset: write a function ``(split, root, img_size, channels) -> TensorData`` and decorate it
with ``@register("name")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from gankit.errors import UserError
from gankit.images import resize


@dataclass
class TensorData:
    """An in-memory dataset: ``x`` (N x ...) with optional integer labels ``y`` (N,)."""

    x: torch.Tensor
    y: torch.Tensor | None = None
    classes: list[str] = field(default_factory=list)
    name: str = ""

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item, e.g. (1, 28, 28)."""
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)


Loader = Callable[..., TensorData]
DATASETS: dict[str, Loader] = {}


def register(name: str) -> Callable[[Loader], Loader]:
    def deco(fn: Loader) -> Loader:
        DATASETS[name] = fn
        return fn

    return deco


def fit_images(x: torch.Tensor, img_size: int | None, channels: int | None) -> torch.Tensor:
    """Bring images to the requested size and channel count (gray <-> RGB)."""
    if channels is not None and x.shape[1] != channels:
        x = x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, channels, -1, -1).contiguous()
    if img_size is not None:
        x = resize(x, img_size)
    return x


def load_dataset(
    name: str,
    split: str = "train",
    root: str | None = None,
    img_size: int | None = None,
    channels: int | None = None,
) -> TensorData:
    """Load a dataset by name.

    Args:
        name: ``fashion-mnist``, ``mnist-5k``, ``folder:PATH`` or any registered name.
        split: ``train`` or ``test``.
        root: a folder with the dataset's files, tried before the default places.
        img_size: resize images to this square size (None keeps the native size).
        channels: 1 or 3 to convert, None keeps the dataset's own.

    Returns:
        A :class:`TensorData` with images in [-1, 1].

    Example:
        >>> data = load_dataset("fashion-mnist", split="test")  # doctest: +SKIP
        >>> data.x.shape
        torch.Size([10000, 1, 28, 28])
    """
    if name.startswith("folder:"):
        return load_folder(name[len("folder:") :], img_size=img_size, channels=channels)
    if name not in DATASETS:
        raise UserError(f"unknown dataset '{name}' (known: {', '.join(sorted(DATASETS))}, folder:PATH)")
    return DATASETS[name](split=split, root=root, img_size=img_size, channels=channels)


def load_from_config(cfg) -> TensorData:
    """Load the dataset a :class:`gankit.config.DataConfig` describes."""
    return load_dataset(cfg.name, split=cfg.split, root=cfg.root, img_size=cfg.img_size, channels=cfg.channels)


# The built-in datasets register themselves on import (after the names they use are defined).
from gankit.data import fashion_mnist, mnist, toy  # noqa: E402,F401
from gankit.data.folder import load_folder  # noqa: E402
