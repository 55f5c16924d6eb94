"""Memorisation checks: does the generator copy its training images?

For each sample: its nearest training images in pixel space (Euclidean on [-1, 1] pixels) and in a
feature space, shown as the lectures' grid "generated sample | nearest neighbours from the training
set". As a number: the fraction of samples whose nearest training image is closer than the median
distance of a training image to its nearest *other* training image. A generator that copies its
training set scores about 1; fresh images from the data distribution score well below 1 (report the
test split's value next to it as the reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.images import save_grid


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu().float().reshape(len(x), -1)  # views, no copies, for float CPU tensors


def nearest(
    queries: torch.Tensor, pool: torch.Tensor, k: int = 1, chunk: int = 256, exclude_self: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """k nearest rows of ``pool`` (Euclidean) for each query row: (distances M x k, indices M x k).

    With ``exclude_self`` the queries are the first rows of ``pool`` themselves, and each is kept
    from matching itself.
    """
    q, p = _flat(queries), _flat(pool)
    p_sq = (p * p).sum(1)
    dists, idx = [], []
    for i in range(0, len(q), chunk):
        qb = q[i : i + chunk]
        # ||q - p||^2 = |q|^2 - 2 q.p + |p|^2, in one matrix product (float32 is enough to rank)
        d2 = (qb * qb).sum(1, keepdim=True) - 2 * qb @ p.T + p_sq[None, :]
        if exclude_self:
            rows = torch.arange(len(qb))
            d2[rows, i + rows] = float("inf")
        v, j = d2.topk(k, dim=1, largest=False)
        dists.append(v.clamp_min(0).sqrt())
        idx.append(j)
    return torch.cat(dists), torch.cat(idx)


@dataclass
class MemorisationReport:
    fraction_closer: float  # samples nearer a training image than the training images are to each other
    threshold: float  # median train-to-train nearest-neighbour distance (pixels, [-1, 1] scale)
    median_sample_distance: float  # median sample-to-train nearest distance
    grid: Path | None


def train_threshold(train: torch.Tensor, n: int = 256, seed: int = 0) -> float:
    """Median distance from ``n`` random training images to their nearest other training image."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(train), generator=g)
    x = train[perm]  # the first n rows of the permuted pool are the queries (exclude_self)
    d, _ = nearest(x[:n], x, k=1, exclude_self=True)
    return float(d.median())


def fraction_closer(
    samples: torch.Tensor, train: torch.Tensor, threshold: float | None = None
) -> tuple[float, float, float]:
    """(fraction of samples closer to train than ``threshold``, the threshold, the median sample distance)."""
    threshold = train_threshold(train) if threshold is None else threshold
    d, _ = nearest(samples, train, k=1)
    return float((d[:, 0] < threshold).double().mean()), threshold, float(d.median())


def neighbour_grid(
    samples: torch.Tensor,
    train: torch.Tensor,
    out: str | Path,
    k: int = 4,
    sample_features: torch.Tensor | None = None,
    train_features: torch.Tensor | None = None,
    train_feature_images: torch.Tensor | None = None,
) -> Path:
    """Save the grid "sample | k nearest in pixels (| k nearest in features)", one row per sample.

    Args:
        samples: S x C x H x W generated images in [-1, 1].
        train: training images (the pixel-space pool).
        out: the PNG to write.
        k: neighbours per space.
        sample_features, train_features: optional features for the feature-space neighbours,
            ``train_features`` belonging to ``train_feature_images`` (default: ``train``).

    Returns:
        The PNG's path.
    """
    _, pix = nearest(samples, train, k=k)
    blank = torch.ones_like(samples[:1])  # a white column between the groups
    rows = []
    for s in range(len(samples)):
        row = [samples[s : s + 1], blank, train[pix[s]]]
        if sample_features is not None and train_features is not None:
            _, fi = nearest(sample_features[s : s + 1], train_features, k=k)
            pool = train if train_feature_images is None else train_feature_images
            row += [blank, pool[fi[0]]]
        rows.append(torch.cat(row))
    per_row = rows[0].shape[0]
    path = save_grid(torch.cat(rows), out, nrow=per_row)
    labels = [(0, "generated"), (2, f"{k} nearest training images (pixels)")]
    if per_row > 2 + k:
        labels.append((3 + k, f"{k} nearest (classifier features)"))
    _label_columns(path, labels, tile=samples.shape[-1])
    return path


def _label_columns(path: Path, labels: list[tuple[int, str]], tile: int) -> None:
    """Add a white band above the grid with a caption over each group of columns."""
    from PIL import Image, ImageDraw

    grid = Image.open(path).convert("L")
    scale = max(1, 64 // tile)  # the upscaling save_grid applied
    step = (tile + 2) * scale  # one tile plus its padding
    band = 16
    out = Image.new("L", (grid.width, grid.height + band), 255)
    out.paste(grid, (0, band))
    draw = ImageDraw.Draw(out)
    for column, text in labels:
        draw.text((column * step + 2 * scale, 2), text, fill=0)
    out.save(path)


def memorisation(
    samples: torch.Tensor,
    train: torch.Tensor,
    out: str | Path | None = None,
    k: int = 4,
    grid_rows: int = 8,
    threshold: float | None = None,
    **features,
) -> MemorisationReport:
    """Fraction of samples closer to the training set than training images are to each other, plus the grid.

    Args:
        samples: generated images in [-1, 1].
        train: training images in [-1, 1] (same shape per image).
        out: where to write the neighbour grid PNG (None: no grid).
        k: neighbours per row of the grid.
        grid_rows: samples shown in the grid.
        threshold: a known train-to-train threshold (default: computed by :func:`train_threshold`).
        **features: ``sample_features``, ``train_features``, ``train_feature_images`` for :func:`neighbour_grid`.

    Returns:
        A :class:`MemorisationReport`.
    """
    frac, thr, med = fraction_closer(samples, train, threshold)
    grid = None
    if out is not None:
        sf = features.get("sample_features")
        grid = neighbour_grid(
            samples[:grid_rows],
            train,
            out,
            k=k,
            sample_features=None if sf is None else sf[:grid_rows],
            train_features=features.get("train_features"),
            train_feature_images=features.get("train_feature_images"),
        )
    return MemorisationReport(frac, thr, med, grid)
