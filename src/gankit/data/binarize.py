"""Binarised images, the data of the binary likelihood benchmarks (``data.binarize``).

Two conventions exist for "binarised MNIST": thresholding each grey level at one half (deterministic), and
the stochastic binarisation of Salakhutdinov & Murray 2008 (each pixel drawn once as Bernoulli(grey / 255)
and then kept fixed), the data behind the published PixelCNN (van den Oord et al. 2016, 81.30 nats) and IWAE
(Burda et al. 2016) numbers. Here the stochastic draw is seeded by ``data.seed`` and the split, so every run
and every model reads the same binary images. Binary images keep gankit's range: pixels are -1 or 1.
"""

from __future__ import annotations

import zlib

import torch

MODES = ("threshold", "stochastic")


def binarize(x: torch.Tensor, mode: str, seed: int = 0, split: str = "train") -> torch.Tensor:
    """Images in [-1, 1] -> binary images in {-1, 1}.

    Args:
        x: N x C x H x W in [-1, 1] (grey level g = (x + 1) / 2).
        mode: ``threshold`` (1 where g > 1/2) or ``stochastic`` (1 with probability g, drawn once).
        seed, split: seed the stochastic draw; the split enters the seed so train and test draw apart.
    """
    p = (x + 1) / 2
    if mode == "threshold":
        bits = p > 0.5
    elif mode == "stochastic":
        g = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(split.encode()))
        bits = torch.rand(p.shape, generator=g) < p
    else:
        raise ValueError(f"unknown binarisation {mode!r} (known: {', '.join(MODES)})")
    return bits.to(x.dtype) * 2 - 1
