"""DCGAN generator and discriminator (Radford, Metz & Chintala 2016, "Unsupervised Representation
Learning with Deep Convolutional GANs", Section 3 guidelines):

- strided convolutions in D and fractional-strided (transposed) convolutions in G, no pooling;
- batch norm in both, except G's output layer and D's input layer;
- no fully connected hidden layers;
- ReLU in G with tanh at the output; LeakyReLU(0.2) in D;
- weights drawn from N(0, 0.02).

One class serves every resolution: 28x28 (base 7x7, two stages) and any power of two from 32 to
256 (base 4x4 by default). ``depth`` is the number of 2x up/down-sampling stages and ``width`` the
channel count at the highest resolution; channels double at each stage towards the base.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def default_depth(img_size: int) -> int:
    """Stages from a 4x4 base (7x7 for 28x28 images)."""
    return 2 if img_size == 28 else int(math.log2(img_size // 4))


def _base(img_size: int, depth: int) -> int:
    base, rem = divmod(img_size, 2**depth)
    if rem or base < 3:
        raise ValueError(f"image size {img_size} cannot be reached by {depth} 2x stages from a base of at least 3x3")
    return base


def dcgan_init(module: nn.Module) -> None:
    """The DCGAN initialisation: conv weights ~ N(0, 0.02); batch-norm scale ~ N(1, 0.02), shift 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z (N x z_dim) -> images (N x channels x img_size x img_size) in [-1, 1]."""

    def __init__(
        self, z_dim: int = 100, img_size: int = 64, channels: int = 3, width: int = 64, depth: int | None = None
    ):
        super().__init__()
        depth = depth or default_depth(img_size)
        base = _base(img_size, depth)
        self.z_dim, self.img_size, self.channels = z_dim, img_size, channels
        ch = width * 2 ** (depth - 1)
        # Project z to the base resolution with a transposed conv (no FC hidden layer).
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, ch, base, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(True),
        ]
        for _ in range(depth - 1):  # [N, ch, s, s] -> [N, ch/2, 2s, 2s]
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]  # no batch norm at G's output
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """images (N x channels x img_size x img_size) -> logits (N,)."""

    def __init__(self, img_size: int = 64, channels: int = 3, width: int = 64, depth: int | None = None):
        super().__init__()
        depth = depth or default_depth(img_size)
        base = _base(img_size, depth)
        ch = width
        # No batch norm at D's input layer.
        layers: list[nn.Module] = [nn.Conv2d(channels, ch, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(depth - 1):  # [N, ch, s, s] -> [N, 2ch, s/2, s/2]
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, True)]
            ch *= 2
        self.features = nn.Sequential(*layers)  # [N, ch, base, base]
        self.head = nn.Conv2d(ch, 1, base, 1, 0)  # a full-size conv, not a FC hidden layer: [N, 1, 1, 1]
        dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)
