"""The fully connected generator and discriminator of Goodfellow et al. 2014 ("Generative Adversarial
Nets"): G maps noise through rectifier layers to the data space; D maps data to one logit.
(The paper's D used maxout units and dropout; LeakyReLU with optional dropout is the common modern stand-in.)
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Scale(nn.Module):
    """x -> factor * x: puts data of another scale into the unit range the MLPs are initialised for."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.factor * x

    def extra_repr(self) -> str:
        return f"factor={self.factor}"


class MLPGenerator(nn.Module):
    """z (N x z_dim) -> samples (N x *out_shape); ``tanh`` bounds images to [-1, 1]; the output is
    multiplied by ``scale`` (data in units of ``scale``, e.g. PacGAN's grid with means up to 4)."""

    def __init__(
        self,
        z_dim: int,
        out_shape: tuple[int, ...],
        hidden: int = 256,
        depth: int = 2,
        tanh: bool = True,
        scale: float = 1.0,
    ):
        super().__init__()
        self.z_dim, self.out_shape = z_dim, tuple(out_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU(True)]
            width = hidden
        layers.append(nn.Linear(width, math.prod(self.out_shape)))
        if tanh:
            layers.append(nn.Tanh())
        if scale != 1.0:
            layers.append(Scale(scale))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1)).view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """samples (N x *in_shape) -> logits (N,); the input is divided by ``scale`` first. The rescaling is a
    layer of ``net``, so wrappers that reuse ``net[:-1]`` (minibatch discrimination, feature matching) keep it.
    (With PyTorch's default initialisation most first-layer ReLU kinks lie within ~1 of the origin: a D
    fed raw data of scale 4 cannot carve regions far out.)"""

    def __init__(
        self, in_shape: tuple[int, ...], hidden: int = 256, depth: int = 2, dropout: float = 0.0, scale: float = 1.0
    ):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()] + ([Scale(1.0 / scale)] if scale != 1.0 else [])
        width = math.prod(in_shape)
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2, True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)
