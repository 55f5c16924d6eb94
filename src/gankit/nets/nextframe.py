"""Networks of next-frame prediction (Mathieu, Couprie & LeCun 2016): a frame predictor G and a multi-scale D.

G maps the k previous frames (stacked on the channel axis) to the next frame. Mathieu et al.'s G is a stack of
per-scale networks, each refining the upsampled prediction of the coarser one; ours is a small U-Net (Ronneberger
et al. 2015), which reaches the same multi-scale receptive field with skip connections at every scale and costs
less on a CPU. Two stochastic inputs let it draw several futures for one context: a map of Gaussian noise
``z`` concatenated at the coarsest scale (where it can change where a digit goes, not only its texture), and
dropout in the decoder, which :class:`FramePredictor` keeps on at test time (Isola et al. 2017 note that G
learns to ignore input noise; dropout cannot be ignored).

D follows Mathieu et al.'s multi-scale discriminator: at each scale s (the frames average-pooled by s) a small
conv net judges the whole sequence, the k context frames and a real or predicted next frame stacked on the
channel axis, so a prediction is judged by whether it continues its context. Each scale gives a map of patch
logits; losses average over scales.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    # Group norm: it trained G faster than no normalisation (validation MSE at t+1 after 400 steps 0.066 vs 0.082),
    # and unlike batch norm it behaves the same in training and at test time and for a batch of one.
    groups = math.gcd(4, c_out)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2),
        nn.Conv2d(c_out, c_out, 3, padding=1), nn.GroupNorm(groups, c_out), nn.LeakyReLU(0.2),
    )  # fmt: skip


class FramePredictor(nn.Module):
    """U-Net G: (N x k*C x H x W context, N x z_channels x H/2^depth x W/2^depth noise) -> N x C x H x W.

    The output is linear, not a tanh: Moving MNIST frames are ~93% background at -1, and a tanh G slid into
    predicting the blank frame within 50 steps and stayed there (its saturated output passes no gradient back to
    the pixels of the digits); the linear one learnt (MSE 0.17 vs 0.10 after 300 steps, same seed). Callers clamp
    to [-1, 1] where a frame is used as one (rollouts, scores).

    Args:
        context: k, the frames it sees.
        channels: C, channels per frame.
        width: channels at full resolution, doubled at each of ``depth`` halvings.
        depth: halvings (H and W must be divisible by 2^depth).
        z_channels: channels of the noise map at the coarsest scale (0: deterministic input).
        dropout: dropout probability in the decoder, kept on in eval mode too (0: none).
    """

    def __init__(self, context: int, channels: int = 1, width: int = 16, depth: int = 3, z_channels: int = 0,
                 dropout: float = 0.0):  # fmt: skip
        super().__init__()
        self.context, self.channels, self.depth = context, channels, depth
        self.z_channels, self.dropout = z_channels, dropout
        widths = [width * 2**i for i in range(depth + 1)]  # e.g. 16, 32, 64, 128
        self.inp = _block(context * channels, widths[0])
        self.down = nn.ModuleList(_block(widths[i], widths[i + 1]) for i in range(depth))
        self.mix = nn.Conv2d(widths[-1] + z_channels, widths[-1], 1)  # bring the noise into the coarsest features
        self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 4, 2, 1) for i in reversed(range(depth)))
        self.dec = nn.ModuleList(_block(2 * widths[i], widths[i]) for i in reversed(range(depth)))
        self.out = nn.Conv2d(widths[0], channels, 1)

    def noise_shape(self, n: int, h: int, w: int) -> tuple[int, ...]:
        """The shape of ``z`` for a batch of n frames of h x w."""
        return (n, self.z_channels, h >> self.depth, w >> self.depth)

    def forward(self, frames: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        h = self.inp(frames)  # N x w x H x W
        skips = [h]
        for block in self.down:
            h = block(F.avg_pool2d(h, 2))  # N x 2w x H/2 x W/2, ...
            skips.append(h)
        if self.z_channels:
            assert z is not None, "a generator with z_channels > 0 takes z"
            h = torch.cat([h, z], 1)
        h = F.leaky_relu(self.mix(h), 0.2)  # N x w*2^depth x H/2^depth x W/2^depth
        for up, block, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            h = F.leaky_relu(up(h), 0.2)  # twice the size, half the channels
            h = F.dropout(h, self.dropout, training=True) if self.dropout else h  # on at test time: several futures
            h = block(torch.cat([h, skip], 1))
        return self.out(h)  # N x C x H x W, linear: see the class docstring


class ScaleCritic(nn.Module):
    """One scale of D: stride-2 convs down to at most 8 x 8, then patch logits (N x 1 x h x w)."""

    def __init__(self, in_channels: int, size: int, width: int):
        super().__init__()
        layers, c = [], in_channels
        while size > 8:
            layers += [nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(0.2)]  # halves the size
            c, width, size = width, min(2 * width, 256), size // 2
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(width, 1, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleD(nn.Module):
    """Mathieu et al.'s multi-scale D on sequences: (N x (k+1)*C x H x W) -> a list of patch logits per scale.

    Args:
        frames: k + 1, the frames of a judged sequence.
        channels: C per frame.
        size: H (= W).
        width: channels of each scale's first layer.
        scales: average-pooling factors, one critic each (1: full resolution).
    """

    def __init__(self, frames: int, channels: int, size: int, width: int = 16, scales: tuple[int, ...] = (1, 2, 4)):
        super().__init__()
        self.scales = tuple(scales)
        self.critics = nn.ModuleList(ScaleCritic(frames * channels, size // s, width) for s in self.scales)

    def forward(self, seq: torch.Tensor) -> list[torch.Tensor]:
        return [critic(F.avg_pool2d(seq, s) if s > 1 else seq) for s, critic in zip(self.scales, self.critics)]
