"""ResNet generator and discriminator in the style of SNGAN (Miyato et al. 2018, after
Gulrajani et al. 2017's CIFAR-10 ResNet):

- G: z -> linear -> base x base map -> ``depth`` up-sampling residual blocks (BN-ReLU-up-conv3x3-BN-ReLU-conv3x3,
  shortcut up-conv1x1) -> BN-ReLU-conv3x3-tanh;
- D: an "optimised" first down-sampling block, ``depth - 1`` more down-sampling blocks and one at full
  size (ReLU-conv3x3-ReLU-conv3x3, average pooling), ReLU, global *sum* pooling, a linear logit. No
  batch norm in D, so it combines with gradient penalties and spectral norm (``model.spectral_norm``).

One class per role for every resolution: 28x28 (base 7x7, two stages) or a power of two (base 4x4).
``width`` is the channel count of every block (SNGAN's CIFAR nets: 256 in G, 128 in D).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nets.dcgan import _base, default_depth


class GBlock(nn.Module):
    """Pre-activation residual block with 2x nearest up-sampling: [N, c_in, s, s] -> [N, c_out, 2s, 2s]."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.bn2, self.conv2 = nn.BatchNorm2d(c_out), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.skip = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2.0)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.skip(F.interpolate(x, scale_factor=2.0))


class DBlock(nn.Module):
    """Residual block, optionally with 2x average pooling: [N, c_in, s, s] -> [N, c_out, s/2, s/2].

    ``first``: the input block (no ReLU before the first conv, pooling before the shortcut conv)."""

    def __init__(self, c_in: int, c_out: int, down: bool = True, first: bool = False):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, 1, 1), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if (c_in != c_out or down) else None
        self.down, self.first = down, first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.skip is not None:
            # The first block pools before its 1x1 conv (cheaper; the input is not yet activated).
            s = self.skip(F.avg_pool2d(s, 2)) if (self.first and self.down) else self.skip(s)
            if self.down and not self.first:
                s = F.avg_pool2d(s, 2)
        return h + s


def _init(module: nn.Module) -> None:
    # Xavier-uniform for the convs and linears (the SNGAN reference code).
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResNetGenerator(nn.Module):
    """z (N x z_dim) -> images (N x channels x img_size x img_size) in [-1, 1]."""

    def __init__(
        self, z_dim: int = 128, img_size: int = 32, channels: int = 3, width: int = 128, depth: int | None = None
    ):
        super().__init__()
        depth = depth or default_depth(img_size)
        self.base, self.width, self.z_dim = _base(img_size, depth), width, z_dim
        self.fc = nn.Linear(z_dim, width * self.base**2)
        self.blocks = nn.Sequential(*[GBlock(width, width) for _ in range(depth)])
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())
        _init(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z.view(z.shape[0], -1)).view(-1, self.width, self.base, self.base)  # [N, w, base, base]
        return self.out(self.blocks(h))  # [N, C, size, size]


class ResNetDiscriminator(nn.Module):
    """images (N x channels x img_size x img_size) -> logits (N,); ``features(x)`` is the pooled [N, width] vector."""

    def __init__(self, img_size: int = 32, channels: int = 3, width: int = 128, depth: int | None = None):
        super().__init__()
        depth = depth or default_depth(img_size)
        _base(img_size, depth)  # validate the size
        blocks = [DBlock(channels, width, down=True, first=True)]
        blocks += [DBlock(width, width, down=True) for _ in range(depth - 1)]
        blocks += [DBlock(width, width, down=False)]
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(width, 1)
        _init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.blocks(x)).sum(dim=(2, 3))  # global sum pooling: [N, width]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)
