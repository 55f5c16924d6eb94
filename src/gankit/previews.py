"""What a method shows of itself while it trains: a :class:`Preview`, rendered by its kind.

The loop saves ``method.preview()`` every ``train.sample_every`` steps as ``samples/step_N.png``, without
knowing what it shows: an image grid (GANs, VAEs), a scatter of points (toys, DANN on 2-D data), and
later spectrograms or frame strips, each one renderer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.images import save_grid, save_points


@dataclass
class Preview:
    """``kind``: ``images`` (``data`` N x C x H x W in [-1, 1], ``nrow`` per row) or ``points`` (N x D,
    coloured by ``labels`` when given)."""

    kind: str
    data: torch.Tensor
    nrow: int | None = None
    labels: torch.Tensor | None = None
    title: str = ""


def samples_preview(x: torch.Tensor, nrow: int | None = None) -> Preview:
    """Generated samples as a preview: an image grid for images, a scatter for points."""
    return Preview("images" if x.ndim == 4 else "points", x.detach().cpu(), nrow=nrow)


def save_preview(preview: Preview, path: str | Path) -> Path:
    """Render ``preview`` to the PNG ``path``."""
    if preview.kind == "images":
        return save_grid(preview.data, path, nrow=preview.nrow)
    if preview.kind == "points":
        return save_points(preview.data, path, labels=preview.labels, title=preview.title)
    raise ValueError(f"no renderer for previews of kind '{preview.kind}'")
