"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
Training", DiffAugment). The same random transforms are applied to real *and* generated images
before D sees them, in D's step and in G's step; since every op is differentiable, G's gradient
passes through. D then cannot memorise a small training set, and the augmentations do not leak
into G's samples (they would, if only reals were augmented).

Policies (the paper's): ``color`` (brightness, saturation, contrast), ``translation`` (shift by up to
1/8 of the image, zero padding) and ``cutout`` (zero a random square of half the image side).
Images are N x C x H x W in [-1, 1]; each sample draws its own parameters.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def _rand(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)  # [N, 1, 1, 1]


def color(x: torch.Tensor) -> torch.Tensor:
    """Brightness +U[-0.5, 0.5]; saturation x U[0, 2] around the channel mean; contrast x U[0.5, 1.5] around
    the image mean."""
    x = x + (_rand(x) - 0.5)
    mean_c = x.mean(dim=1, keepdim=True)
    x = (x - mean_c) * (_rand(x) * 2) + mean_c
    mean_all = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean_all) * (_rand(x) + 0.5) + mean_all


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by an integer offset in [-ratio*H, ratio*H] x [-ratio*W, ratio*W], filling with 0."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    th = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    tw = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    gi, gj = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    # Index into a 1-pixel zero-padded copy: out-of-range sources clamp onto the zero border.
    gi = (gi + th + 1).clamp(0, h + 1)  # [N, H, W]
    gj = (gj + tw + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)  # [N, H+2, W+2, C]
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[batch, gi, gj].permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of side ratio*H x ratio*W at a random centre in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oh = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    ow = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    gi, gj = torch.meshgrid(torch.arange(ch, device=x.device), torch.arange(cw, device=x.device), indexing="ij")
    gi = (gi + oh - ch // 2).clamp(0, h - 1)  # [N, ch, cw]
    gj = (gj + ow - cw // 2).clamp(0, w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[torch.arange(n, device=x.device).view(n, 1, 1), gi, gj] = 0
    return x * mask.unsqueeze(1)


AUGMENTS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "color": color,
    "translation": translation,
    "cutout": cutout,
}


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """Apply the comma-separated ``policy`` (e.g. ``"color,translation,cutout"``) in order; ``""`` is the identity."""
    for name in policy.split(","):
        if name:
            x = AUGMENTS[name](x)
    return x
