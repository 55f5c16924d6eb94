"""Image helpers that torchvision would normally provide (it has no CPU build here), and the picture of
a toy run's samples (a scatter plot of points).

Images inside gankit are float tensors in [-1, 1], shape N x C x H x W.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] float N x C x H x W -> uint8 N x H x W x C."""
    x = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def from_uint8(a: np.ndarray) -> torch.Tensor:
    """uint8 N x H x W (x C) -> float N x C x H x W in [-1, 1]."""
    t = torch.from_numpy(np.array(a, copy=True))  # frombuffer arrays are read-only
    if t.ndim == 3:
        t = t.unsqueeze(-1)
    return t.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0).contiguous()


def make_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile N x C x H x W images into one C x H' x W' image, ``nrow`` images per row (default: square)."""
    n, c, h, w = x.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    grid = torch.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value, dtype=x.dtype)
    for i in range(n):
        r, k = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + k * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return grid


def save_image(img: torch.Tensor, path: str | os.PathLike, scale: int = 1) -> Path:
    """Save one C x H x W image in [-1, 1] as PNG (written atomically), upscaled by ``scale`` for viewing."""
    arr = to_uint8(img.unsqueeze(0))[0]
    pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pil.save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def save_grid(x: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> Path:
    """Save a batch of images in [-1, 1] as one PNG grid; small images are upscaled so they can be seen."""
    scale = max(1, 64 // x.shape[-1])
    return save_image(make_grid(x.detach().cpu().float(), nrow=nrow), path, scale=scale)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize N x C x H x W to size x size (bilinear, antialiased when shrinking)."""
    if x.shape[-2:] == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def save_samples_png(x: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> Path:
    """Samples as a picture: images (N x C x H x W) as a grid of ``nrow`` per row (default: square), points
    of a toy distribution (N x D) as a scatter plot."""
    if x.ndim == 4:
        return save_grid(x, path, nrow=nrow)
    return save_points(x, path)


def save_points(x: torch.Tensor, path: str | os.PathLike, labels: torch.Tensor | None = None, title: str = "") -> Path:
    """Save samples of a toy (N x D points) as a PNG scatter plot (1-D: a histogram): the toy's sample grid.
    With ``labels`` (N integers) the points of each label get their own colour."""
    import matplotlib  # late import: only toy runs need matplotlib here

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = x.detach().cpu().double().reshape(len(x), -1).numpy()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    if pts.shape[1] == 1:
        ax.hist(pts[:, 0], bins=60, density=True, color="C0", label="G(z) samples")
        ax.set_xlabel("x (data units)")
        ax.set_ylabel("density (1 / unit of x)")
    elif labels is not None:
        lab = labels.cpu().numpy()
        for k in sorted(set(lab.tolist())):
            ax.scatter(pts[lab == k, 0], pts[lab == k, 1], s=3, alpha=0.5, color=f"C{k % 10}", label=f"class {k}")
        ax.set_xlabel("x1 (data units)")
        ax.set_ylabel("x2 (data units)")
        ax.set_aspect("equal", adjustable="datalim")
    else:
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5, color="C0", label="G(z) samples")
        ax.set_xlabel("x1 (data units)")
        ax.set_ylabel("x2 (data units)")
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or f"{len(pts)} generated samples ({path.stem})")
    ax.legend(loc="upper right", fontsize=8)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
