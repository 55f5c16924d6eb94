"""The fully connected generator and discriminator of Goodfellow et al. 2014 ("Generative Adversarial
Nets"): G maps noise through rectifier layers to the data space; D maps data to one logit.
(The paper's D used maxout units and dropout; LeakyReLU with optional dropout is the common modern stand-in.)
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """z (N x z_dim) -> samples (N x *out_shape); ``tanh`` bounds images to [-1, 1]."""

    def __init__(self, z_dim: int, out_shape: tuple[int, ...], hidden: int = 256, depth: int = 2, tanh: bool = True, scale: float = 1.0):
        super().__init__()
        self.z_dim, self.out_shape, self.scale = z_dim, tuple(out_shape), scale
        layers: list[nn.Module] = []
        width = z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(True)]
            width = hidden
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.scale * self.net(z.view(z.shape[0], -1))).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N x *in_shape) -> logits (N,)."""

    def __init__(self, in_shape: tuple[int, ...], hidden: int = 256, depth: int = 2, dropout: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.scale = scale
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(in_shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2, True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x / self.scale).view(-1)
