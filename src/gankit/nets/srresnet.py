"""The super-resolution networks of Ledig et al. 2017 (SRGAN), with depth and width as arguments.

SRResNet (the generator, Fig. 4 of the paper): a 9x9 conv and PReLU; ``blocks`` residual blocks
(conv 3x3, BN, PReLU, conv 3x3, BN, + input); conv 3x3, BN and a skip from before the blocks; one
sub-pixel upsampling stage per factor 2 (conv to 4x channels, PixelShuffle(2), PReLU; Shi et al. 2016);
a 9x9 conv to the image channels. The paper uses 16 blocks of 64 channels.

``bicubic_skip`` adds the bicubic upscaling of the input to the output, so the network learns only the
residual detail (as VDSR, Kim et al. 2016, does). It is not in SRGAN; it makes a small network on a CPU budget
beat bicubic within minutes instead of hours, and it changes nothing about what the losses ask for.

The discriminator follows the paper's Fig. 4 (conv blocks with LeakyReLU 0.2 and BN, stride 2 every second block,
channels doubling from ``width`` to 8 x ``width``), then global average pooling in place of the fixed-size dense
layer, so it takes crops of any size: two 1x1 convs (2 x 8 x ``width`` units, LeakyReLU, one logit) at every
position of the last feature map, and the mean of those logits.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ResidualBlock(nn.Module):
    """conv-BN-PReLU-conv-BN plus the identity (Ledig et al. 2017, Fig. 4)."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.PReLU(width),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def upscale_bicubic(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Bicubic upscaling by ``scale`` with PIL's and MATLAB imresize's kernel (a = -0.5: torch's antialiased
    path; its plain bicubic uses a = -0.75, which scores 0.2 dB higher on Set5 than the published bicubic)."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", antialias=True, align_corners=False)


def downscale_bicubic(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Antialiased bicubic downscaling by ``scale`` (torch's antialias kernel is PIL's and MATLAB imresize's,
    a = -0.5, stretched by the scale), how SR benchmarks make their low-resolution inputs."""
    return F.interpolate(x, scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)


class SRResNet(nn.Module):
    """Low-resolution N x C x h x w in [-1, 1] -> N x C x (scale h) x (scale w)."""

    def __init__(self, channels: int = 3, scale: int = 4, width: int = 64, blocks: int = 16, bicubic_skip: bool = True):
        super().__init__()
        if scale < 2 or scale & (scale - 1):
            raise ValueError(f"SRResNet upsamples by powers of two, not {scale}")
        self.scale, self.bicubic_skip = scale, bicubic_skip
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU(width))
        self.blocks = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.neck = nn.Sequential(nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width))
        up = []
        for _ in range(int(math.log2(scale))):  # each stage: h -> 2h
            up += [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.up = nn.Sequential(*up)
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        h = self.head(lr)  # N x width x h x w
        h = h + self.neck(self.blocks(h))
        out = self.tail(self.up(h))  # N x C x (scale h) x (scale w)
        if self.bicubic_skip:
            out = out + upscale_bicubic(lr, self.scale)
        return out


class SRDiscriminator(nn.Module):
    """An image N x C x H x W in [-1, 1] -> one logit per image (see the module docstring)."""

    def __init__(self, channels: int = 3, width: int = 64):
        super().__init__()

        def block(cin, cout, stride, bn=True):
            layers = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=not bn)]
            return layers + ([nn.BatchNorm2d(cout)] if bn else []) + [nn.LeakyReLU(0.2, inplace=True)]

        layers = block(channels, width, 1, bn=False) + block(width, width, 2)
        cin = width
        for mult in (2, 4, 8):  # width x 2, 4, 8; the second of each pair halves the resolution
            layers += block(cin, width * mult, 1) + block(width * mult, width * mult, 2)
            cin = width * mult
        self.features = nn.Sequential(*layers)  # N x 8 width x H/16 x W/16
        self.head = nn.Sequential(
            nn.Conv2d(cin, 2 * cin, 1), nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(2 * cin, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).mean(dim=(1, 2, 3))  # average the logit over positions
