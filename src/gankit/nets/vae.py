"""Encoder and decoder of the VAE baseline (Kingma & Welling 2014): q(z|x) = N(mu(x), diag(exp(logvar(x))))
and p(x|z) with the decoder's output as Bernoulli logits (or a Gaussian mean).

Two families share one interface: ``conv`` (DCGAN-shaped: strided convs down, transposed convs up,
base 7x7 for 28x28 images or 4x4 for powers of two) and ``mlp`` (fully connected, two hidden layers).
``encoder(x) -> (mu, logvar)``, each N x z_dim; ``decoder(z) -> N x C x H x W`` unbounded.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.nets.dcgan import _base, default_depth


class ConvEncoder(nn.Module):
    """x -> (mu, log sigma^2) of q(z|x) (Kingma & Welling 2014): strided convolutions, a linear head."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int = 32):
        super().__init__()
        depth = default_depth(img_size)
        base = _base(img_size, depth)
        layers: list[nn.Module] = []
        ch_in, ch = channels, width
        for _ in range(depth):  # [N, ch_in, s, s] -> [N, ch, s/2, s/2]
            layers += [nn.Conv2d(ch_in, ch, 4, 2, 1), nn.BatchNorm2d(ch), nn.LeakyReLU(0.2, True)]
            ch_in, ch = ch, ch * 2
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(ch_in * base * base, 2 * z_dim)  # mu and logvar

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.out(self.net(x)).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """z -> the decoder's output for p(x|z): a linear layer, then transposed convolutions."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int = 32):
        super().__init__()
        depth = default_depth(img_size)
        self.base = _base(img_size, depth)
        self.ch = width * 2 ** (depth - 1)
        self.fc = nn.Sequential(nn.Linear(z_dim, self.ch * self.base**2), nn.ReLU(True))
        layers: list[nn.Module] = []
        ch = self.ch
        for _ in range(depth - 1):  # [N, ch, s, s] -> [N, ch/2, 2s, 2s]
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers.append(nn.ConvTranspose2d(ch, channels, 4, 2, 1))  # logits, no squashing
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z.view(z.shape[0], -1)).view(-1, self.ch, self.base, self.base))


class MLPEncoder(nn.Module):
    """x -> (mu, log sigma^2) of q(z|x) with fully connected layers (Kingma & Welling 2014)."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int = 512):
        super().__init__()
        d = channels * img_size * img_size
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(d, width), nn.ReLU(True), nn.Linear(width, width), nn.ReLU(True)
        )
        self.out = nn.Linear(width, 2 * z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.out(self.net(x)).chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """z -> the decoder's output for p(x|z) with fully connected layers."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int = 512):
        super().__init__()
        self.shape = (channels, img_size, img_size)
        self.net = nn.Sequential(
            nn.Linear(z_dim, width),
            nn.ReLU(True),
            nn.Linear(width, width),
            nn.ReLU(True),
            nn.Linear(width, math.prod(self.shape)),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1)).view(z.shape[0], *self.shape)


def build_vae(arch: str, z_dim: int, data_shape: tuple[int, ...], width: int) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder) of family ``arch`` (``conv`` or ``mlp``) for images of ``data_shape`` (C, H, W)."""
    channels, size, _ = data_shape
    if arch == "conv":
        return ConvEncoder(z_dim, size, channels, width), ConvDecoder(z_dim, size, channels, width)
    return MLPEncoder(z_dim, size, channels, width), MLPDecoder(z_dim, size, channels, width)
