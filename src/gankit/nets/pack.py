"""Packing (Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks", Sec. 3).

D judges m samples at once, all real or all generated: m consecutive samples of a minibatch are
concatenated (vectors along their features, images along their channels) into one input of an ordinary
D built for m times the input size. A generator that collapses onto few modes produces packs whose
members look alike, which real packs rarely do, so packing penalises collapse (the paper's Sec. 4).
"""

from __future__ import annotations

import torch
from torch import nn


def packed_shape(shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """The shape of one packed input: (m * D,) for vectors, (m * C, H, W) for images."""
    return (m * shape[0], *shape[1:])


class PackedDiscriminator(nn.Module):
    """samples (N x *shape) -> logits (N / m,): D on packs of ``m`` consecutive samples.

    Args:
        D: a discriminator built for :func:`packed_shape` inputs.
        m: the packing degree (PacGAN2: 2, PacGAN4: 4).
    """

    def __init__(self, D: nn.Module, m: int):
        super().__init__()
        self.inner, self.m = D, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        if n % self.m:
            raise ValueError(f"a packed D needs a batch divisible by gan.pack={self.m}, got {n}")
        # [N, C, ...] -> [N/m, m, C, ...] -> [N/m, m*C, ...]: pack members stacked along features/channels
        packs = x.reshape(n // self.m, self.m * x.shape[1], *x.shape[2:])
        return self.inner(packs)
