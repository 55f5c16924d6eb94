"""Networks for image-to-image translation: pix2pix's U-Net and PatchGAN (Isola et al. 2017), CycleGAN's
residual generator (Zhu et al. 2017; Johnson et al. 2016).

U-Net (pix2pix, sec. 3.2.1 and appendix 6.1.1): an encoder of 4 x 4 stride-2 convolutions (C64-C128-C256-C512-...,
leaky ReLU 0.2, batch norm on all but the first) down to a bottleneck, a mirrored decoder of transposed
convolutions (ReLU), and a skip connection from each encoder level to the decoder level of the same size, so the
low-level structure shared by input and output (here: where the edges are) need not pass the bottleneck. Dropout
0.5 in the innermost three decoder levels is the only source of noise (sec. 3.2: a z input was ignored). At 256
pixels the encoder halves 8 times to 1 x 1; here it halves while the side stays even (28: twice, to 7 x 7; 32: five
times; 64: six), up to ``depth``.

PatchGAN (sec. 3.2.2): a fully convolutional D that classifies each N x N patch as real or fake, conditioned on the
input (it sees A and B concatenated on channels). ``layers`` stride-2 convolutions, then a stride-1 convolution and
a 1-channel output convolution, all 4 x 4; its receptive field is :func:`patch_receptive_field` ``= 9 * 2**layers - 2``
pixels (70 for the paper's 3 layers). :func:`patch_layers` scales it with the image: the receptive field nearest to
70/256 of the image side.
"""

from __future__ import annotations

import torch
from torch import nn


def unet_depth(size: int, max_depth: int = 8) -> int:
    """How often a U-Net halves an image of side ``size``: while the side is even, at most ``max_depth`` times."""
    depth = 0
    while size % 2 == 0 and size > 1 and depth < max_depth:
        size //= 2
        depth += 1
    return depth


def patch_receptive_field(layers: int) -> int:
    """The receptive field (pixels) of a PatchGAN with ``layers`` stride-2 convolutions: r(0) = 7 (two stride-1
    4 x 4 convolutions: 1 + 3 + 3) and r(n) = 2 r(n - 1) + 2, so r(n) = 9 * 2**n - 2 (16, 34, 70, 142, ...)."""
    return 9 * 2**layers - 2


def patch_layers(size: int) -> int:
    """PatchGAN depth for images of side ``size``: the receptive field closest to the paper's 70/256 of the side."""
    goal = size * 70 / 256
    return min(range(6), key=lambda n: (abs(patch_receptive_field(n) - goal), n))


class UNet(nn.Module):
    """pix2pix's U-Net generator for square images of side ``size`` (see the module docstring).

    Args:
        in_channels, out_channels: image channels of A and of B.
        size: the image side (28, 32, 64, ... 256).
        width: channels of the first level (paper: 64); level i has ``min(width * 2**i, 8 * width)``.
        depth: halvings (default: :func:`unet_depth` of ``size``).
        dropout: dropout probability in the innermost three decoder levels (paper: 0.5); 0 for none.
    """

    def __init__(
        self, in_channels: int, out_channels: int, size: int, width: int = 64, depth: int | None = None,
        dropout: float = 0.5,
    ):
        super().__init__()
        self.depth = depth or unet_depth(size)
        if self.depth < 1 or size % 2**self.depth:
            raise ValueError(f"a U-Net of depth {self.depth} does not fit images of {size} pixels")
        ch = [min(width * 2**i, 8 * width) for i in range(self.depth)]
        self.down = nn.ModuleList()
        for i in range(self.depth):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            c_in = in_channels if i == 0 else ch[i - 1]
            layers.append(nn.Conv2d(c_in, ch[i], 4, 2, 1, bias=i in (0, self.depth - 1)))  # bias where no norm follows
            if 0 < i < self.depth - 1:  # no norm on the input level nor on the bottleneck (1 x 1 at 2**depth)
                layers.append(nn.BatchNorm2d(ch[i]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for i in reversed(range(self.depth)):  # level i maps to the size of level i - 1
            c_in = ch[i] if i == self.depth - 1 else 2 * ch[i]  # the bottleneck has no skip to concatenate
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
                continue
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, ch[i - 1], 4, 2, 1, bias=False), nn.BatchNorm2d(ch[i - 1])]
            if dropout > 0 and i >= self.depth - 3:  # the innermost three decoder levels
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        skips = []
        h = a
        for block in self.down:  # N x ch[i] x size / 2**(i+1) each
            h = block(h)
            skips.append(h)
        skips.pop()  # the bottleneck continues directly
        for block in self.up:
            h = block(h)
            if skips:
                h = torch.cat([h, skips.pop()], 1)  # N x 2 ch[i-1] x size / 2**i: the skip connection
        return h


class PatchGAN(nn.Module):
    """pix2pix's conditional PatchGAN: (A, B) -> N x 1 x (size / 2**layers - 2)^2 logits, one per patch.

    Args:
        in_channels: channels of A plus channels of B (A and B are concatenated).
        width: channels of the first convolution (paper: 64), doubled per layer up to 8 x ``width``.
        layers: stride-2 convolutions (paper: 3, a 70 x 70 receptive field; :func:`patch_layers` scales it).
    """

    def __init__(self, in_channels: int, width: int = 64, layers: int = 3, norm: str = "batch"):
        super().__init__()
        self.receptive_field = patch_receptive_field(layers)
        blocks: list[nn.Module] = []
        c_in = in_channels
        for i in range(layers + 1):  # ``layers`` stride-2 convolutions, then one of stride 1
            c_out = min(width * 2**i, 8 * width)
            blocks.append(nn.Conv2d(c_in, c_out, 4, 2 if i < layers else 1, 1, bias=i == 0))
            if i > 0:  # no norm on the first layer (DCGAN's rule, kept by pix2pix)
                blocks.append(_norm(norm, c_out))
            blocks.append(nn.LeakyReLU(0.2))
            c_in = c_out
        blocks.append(nn.Conv2d(c_in, 1, 4, 1, 1))  # one logit per patch
        self.net = nn.Sequential(*blocks)

    def forward(self, a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        """pix2pix: D(a, b) on the pair; CycleGAN: D(b) alone (``in_channels`` then counts one image)."""
        return self.net(a if b is None else torch.cat([a, b], 1))


def _norm(kind: str, channels: int) -> nn.Module:
    # Instance norm: CycleGAN's choice (Ulyanov et al. 2016), statistics per image, so none leak across a batch.
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.InstanceNorm2d(channels, affine=True)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm("instance", channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm("instance", channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's generator (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016): c7s1-w, d2w, d4w, ``blocks``
    residual blocks of 4w, u2w, uw, c7s1-C with tanh; instance norm, reflection padding. Paper: w = 64, 6 blocks at
    128 px, 9 at 256, two halvings (28 px: 7 x 7 in the middle, so the side must be a multiple of 4).

    ``downsamplings`` 1 drops the inner halving (c7s1-w, d2w, blocks of 2w, uw, c7s1-C), 0 both (blocks of w at full
    resolution). A block costs the same at every level (each halving doubles the channels), but fewer halvings
    keep the receptive field small (:func:`resnet_receptive_field`: 25 pixels with 3 blocks at full resolution,
    73, more than the whole 28-pixel image, with two halvings), so a translation that is nearly local (MNIST-M ->
    MNIST: the digit is where the photo patch is inverted) cannot move strokes or draw a digit of its own."""

    def __init__(self, channels: int, width: int = 64, blocks: int = 6, downsamplings: int = 2):
        super().__init__()
        if downsamplings not in (0, 1, 2):
            raise ValueError(f"downsamplings: {downsamplings} (use 0, 1 or 2)")
        self.multiple = 2**downsamplings
        w = width
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, w, 7), _norm("instance", w), nn.ReLU()]
        for m in (1, 2)[:downsamplings]:  # N x 2w x H/2, N x 4w x H/4
            layers += [nn.Conv2d(w * m, w * 2 * m, 3, 2, 1), _norm("instance", w * 2 * m), nn.ReLU()]
        layers += [ResidualBlock(w * self.multiple) for _ in range(blocks)]
        for m in (4, 2)[2 - downsamplings :]:  # back to N x w x H
            layers += [nn.ConvTranspose2d(w * m, w * m // 2, 3, 2, 1, output_padding=1), _norm("instance", w * m // 2),
                       nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(w, channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.multiple or x.shape[-2] % self.multiple:
            raise ValueError(f"this CycleGAN generator needs sides that are multiples of {self.multiple}, "
                             f"got {tuple(x.shape[-2:])}")
        return self.net(x)


def resnet_receptive_field(blocks: int, downsamplings: int = 2) -> int:
    """The receptive field (pixels) of :class:`ResnetGenerator`'s convolutions (instance norm aside, which only
    shifts and scales each channel by statistics of the whole image). A k x k convolution whose input has stride j
    adds (k - 1) j, a 3 x 3 transposed one of stride 2 adds j: 6 + 6 for the two c7s1 layers, 1 for the pixel,
    2 (j - 1) each for the halvings and the way back, 4 j per residual block at stride j = 2**downsamplings. So
    13 + 4 blocks at full resolution, 17 + 8 blocks with one halving, 25 + 16 blocks with two (73 with 3 blocks)."""
    j = 2**downsamplings
    return 13 + 4 * (j - 1) + 4 * j * blocks
