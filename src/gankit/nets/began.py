"""The BEGAN generator and auto-encoder discriminator (Berthelot et al. 2017, the architecture figure):
3x3 convolutions with ELUs, nearest-neighbour up-sampling in the decoder, strided sub-sampling in
the encoder, channels growing linearly with depth, and an embedding h of ``z_dim`` units. G has the
decoder's architecture (its own weights), with tanh added to keep samples in [-1, 1].

D's forward returns the per-sample reconstruction loss L(v) = mean |v - dec(enc(v))| (eta = 1), the
quantity BEGAN's losses (:mod:`gankit.losses.began`) are written on.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def began_depth(img_size: int) -> int:
    """Up-sampling stages from an 8x8 base (7x7 for 28x28 images)."""
    return 2 if img_size == 28 else int(math.log2(img_size // 8))


class Decoder(nn.Module):
    """h (N x z_dim) -> [N, channels, size, size] (unbounded)."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int):
        super().__init__()
        self.depth = began_depth(img_size)
        self.base, self.width = img_size // 2**self.depth, width
        self.fc = nn.Linear(z_dim, width * self.base**2)
        layers: list[nn.Module] = []
        for _ in range(self.depth):  # [N, w, s, s] -> [N, w, 2s, 2s]
            layers += [
                nn.Conv2d(width, width, 3, 1, 1),
                nn.ELU(),
                nn.Conv2d(width, width, 3, 1, 1),
                nn.ELU(),
                nn.Upsample(scale_factor=2.0),
            ]
        layers += [nn.Conv2d(width, width, 3, 1, 1), nn.ELU(), nn.Conv2d(width, channels, 3, 1, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(h.view(h.shape[0], -1)).view(-1, self.width, self.base, self.base))


class Encoder(nn.Module):
    """[N, channels, size, size] -> h (N x z_dim)."""

    def __init__(self, z_dim: int, img_size: int, channels: int, width: int):
        super().__init__()
        depth = began_depth(img_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.ELU()]
        ch = width
        for _ in range(depth):  # [N, ch, s, s] -> [N, ch + w, s/2, s/2]
            layers += [nn.Conv2d(ch, ch, 3, 1, 1), nn.ELU(), nn.Conv2d(ch, ch + width, 3, 2, 1), nn.ELU()]
            ch += width
        layers += [nn.Conv2d(ch, ch, 3, 1, 1), nn.ELU()]
        self.net = nn.Sequential(*layers)
        base = img_size // 2**depth
        self.fc = nn.Linear(ch * base**2, z_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x).flatten(1))


class BEGANGenerator(nn.Module):
    """z (N x z_dim) -> images in [-1, 1]."""

    def __init__(self, z_dim: int = 64, img_size: int = 32, channels: int = 3, width: int = 64):
        super().__init__()
        self.z_dim = z_dim
        self.decoder = Decoder(z_dim, img_size, channels, width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.decoder(z))


class BEGANDiscriminator(nn.Module):
    """images -> per-sample reconstruction losses L(x) (N,) of an auto-encoder."""

    def __init__(self, img_size: int = 32, channels: int = 3, width: int = 64, z_dim: int = 64):
        super().__init__()
        self.encoder = Encoder(z_dim, img_size, channels, width)
        self.decoder = Decoder(z_dim, img_size, channels, width)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.reconstruct(x)).abs().flatten(1).mean(1)  # L(x) = mean |x - D(x)|: [N]
