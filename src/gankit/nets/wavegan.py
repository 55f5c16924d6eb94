"""WaveGAN (Donahue, McAuley & Puckette 2019, "Adversarial Audio Synthesis", Table 2 and section 3):
DCGAN flattened to one dimension for raw waveforms.

* Kernels of 25 and stride 4 instead of 5 x 5 and stride 2, so each layer grows the length by 4x
  (the receptive field of DCGAN's 2-D layers has 25 taps as well); G: dense -> 16 x 16d -> ... -> 16384 x c.
* No batch norm in either network (WGAN-GP penalises each sample's gradient), ReLU in G, LeakyReLU(0.2) in D.
* **Phase shuffle** in D (section 3.3): after each of D's first layers but the last, the activations are shifted
  in time by a random k in [-n, n] (n = 2) with reflection padding at the edge, so D cannot reject a
  sample by the periodic artefacts of transposed convolutions, which sit at fixed phases of its stride.

``model.arch=wavegan``: ``model.g_width`` / ``model.d_width`` are the paper's model size d (64 as published);
the number of stages is set by the clip length, 16 * 4^k (5 stages for the paper's 16,384 samples) or 32 * 4^k
(4 stages for 8,192 samples, 1.024 s at 8 kHz: ``data.sample_rate=8000``, whose G starts from 32 steps).

``model.arch=wavegan-nn`` grows G's length by nearest-neighbour upsampling followed by a stride-1 convolution
instead of transposed convolutions (Odena et al. 2016, "Deconvolution and checkerboard artifacts"; Pons et al.
2021, "Upsampling artifacts in neural audio synthesis"): its outputs have no pattern fixed at the stride (the
tonal lines that transposed convolutions add at multiples of the stride's rate), at 4x the multiply-adds in each
of G's layers.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

KERNEL, STRIDE, START = 25, 4, 16  # the paper's kernel, stride and G's first length (32 for 32 * 4^k samples)
PAD = 11  # (L + 2 * 11 - 25) // 4 + 1 = L / 4 for L divisible by 4; the transposed conv mirrors it


def phase_shuffle(x: torch.Tensor, shift: int, n: int) -> torch.Tensor:
    """Shift ``x`` (B x C x T) right by ``shift`` samples (in [-n, n]), filling the edge by reflection:
    ``out[..., t] = x_reflected[..., t - shift]``, e.g. [0, 1, 2, 3] by +1 -> [1, 0, 1, 2], by -1 -> [1, 2, 3, 2]."""
    if abs(shift) > n:
        raise ValueError(f"a phase shuffle shift must lie in [-{n}, {n}], got {shift}")
    padded = F.pad(x, (n, n), mode="reflect")  # [B, C, T + 2n]
    return padded[..., n - shift : n - shift + x.shape[-1]]  # a slice: its backward costs next to nothing


class PhaseShuffle(nn.Module):
    """Random phase shuffle of radius ``n`` while training; the identity in eval mode.

    One shift per call for the whole batch, as in the authors' code (``apply_phaseshuffle`` draws one scalar):
    a slice instead of a per-item gather, which on the CPU made D's backward pass half again as slow."""

    def __init__(self, n: int = 2):
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.n == 0:
            return x
        shift = int(torch.randint(-self.n, self.n + 1, ()))  # the global RNG: the checkpoint resumes it
        return phase_shuffle(x, shift, self.n)


def stages_for(length: int) -> tuple[int, int]:
    """(k, first length): the 4x stages from G's first length (16, or 32) up to ``length`` = 16 * 4^k or 32 * 4^k."""
    for start in (START, 2 * START):
        k = round(math.log(length / start, STRIDE)) if length >= start else -1
        if k >= 1 and start * STRIDE**k == length:
            return k, start
    raise ValueError(f"WaveGAN takes clips of 16 * 4^k or 32 * 4^k samples (1024, 2048, ..., 8192, 16384), "
                     f"got {length}")  # fmt: skip


def upsampling_layer(c_in: int, c_out: int, upsample: str) -> nn.Module:
    """One of G's 4x stages: a transposed convolution (the paper's), or nearest-neighbour upsampling and a
    convolution with the same 25 taps (``upsample="nearest"``)."""
    if upsample == "transposed":
        return nn.ConvTranspose1d(c_in, c_out, KERNEL, STRIDE, padding=PAD, output_padding=1)
    if upsample == "nearest":
        upsampled = nn.Upsample(scale_factor=STRIDE, mode="nearest")
        return nn.Sequential(upsampled, nn.Conv1d(c_in, c_out, KERNEL, padding=KERNEL // 2))
    raise ValueError(f"upsample must be 'transposed' or 'nearest', got {upsample!r}")


class WaveGANGenerator(nn.Module):
    """z (B x z_dim) -> waveform (B x channels x 16 * 4^stages) in (-1, 1)."""

    def __init__(self, z_dim: int = 100, length: int = 16384, channels: int = 1, width: int = 64,
                 upsample: str = "transposed"):  # fmt: skip
        super().__init__()
        k, self.start = stages_for(length)
        widths = [width * 2 ** (k - 1 - i) for i in range(k)] + [channels]  # 16d, 8d, ..., d, c for k = 5
        self.first = widths[0]
        self.fc = nn.Linear(z_dim, self.start * widths[0])
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(upsampling_layer(c_in, c_out, upsample))
            layers.append(nn.ReLU() if i < k - 1 else nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z).view(len(z), self.first, self.start))  # [B, 16d, 16] for 16,384 samples
        return self.net(h)  # [B, c, 16 * 4^k]


class WaveGANDiscriminator(nn.Module):
    """Waveform (B x channels x T) -> one score per item (no batch norm; phase shuffle of radius ``shuffle``)."""

    def __init__(self, length: int = 16384, channels: int = 1, width: int = 64, shuffle: int = 2):
        super().__init__()
        k, start = stages_for(length)
        widths = [channels] + [width * 2**i for i in range(k)]  # c, d, 2d, ..., 16d for k = 5
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Conv1d(c_in, c_out, KERNEL, STRIDE, padding=PAD), nn.LeakyReLU(0.2)]
            if i < k - 1:  # not after the last conv (section 3.3)
                layers.append(PhaseShuffle(shuffle))
        self.net = nn.Sequential(*layers)
        self.fc = nn.Linear(start * widths[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(x).flatten(1)).squeeze(1)  # [B, 16d, 16] -> [B]
