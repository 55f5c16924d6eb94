"""SEGAN's networks (Pascual, Bonafonte & Serra 2017, "SEGAN: Speech Enhancement Generative Adversarial
Network", section 4): a fully convolutional encoder-decoder G that maps a noisy waveform to a clean one, and a D
that judges (noisy, clean or enhanced) pairs. The method around them (L1 + LSGAN) is :mod:`gankit.methods.segan`.

* G: 11 strided 1-D convolutions (kernel 31, stride 2, PReLU) take 16384 x 1 to 8 x 1024; a latent z of the same
  shape is stacked on the code; the decoder mirrors the encoder with transposed convolutions, each layer's input
  concatenated with the encoder's output of the same length (skip connections: the fine time structure of the
  input reaches the output without squeezing through the code), tanh at the end.
* D: the encoder's layout on two channels (noisy and clean, or noisy and enhanced), LeakyReLU 0.3 (the paper
  also uses virtual batch norm; ``batch_norm`` puts plain batch norm in its place), a 1 x 1 convolution to one
  channel, then a dense layer to a score.

``residual`` (not in the paper) makes G predict a correction added to its input, its last layer zero at the start,
so that an untrained G returns the noisy clip unchanged instead of a random waveform.
``widths`` is the encoder's channels (the paper's 16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024); shorter lists
make smaller nets for tests and quick runs.
"""

from __future__ import annotations

import torch
from torch import nn

KERNEL, PAD = 31, 15  # stride 2: (L + 2 * 15 - 31) // 2 + 1 = L / 2 for even L
PAPER_WIDTHS = (16, 32, 32, 64, 64, 128, 128, 256, 256, 512, 1024)


def _down(c_in: int, c_out: int) -> nn.Conv1d:
    return nn.Conv1d(c_in, c_out, KERNEL, 2, padding=PAD)


class SEGANGenerator(nn.Module):
    """(noisy B x 1 x T, z B x widths[-1] x T / 2^k or None) -> enhanced B x 1 x T in (-1, 1); with ``residual``
    noisy + a correction, clamped to [-1, 1]."""

    def __init__(self, widths: tuple[int, ...] = PAPER_WIDTHS, residual: bool = False):
        super().__init__()
        self.widths, self.residual = tuple(widths), residual
        chans = (1, *self.widths)
        self.enc = nn.ModuleList(_down(a, b) for a, b in zip(chans[:-1], chans[1:]))
        self.enc_act = nn.ModuleList(nn.PReLU(b) for b in chans[1:])
        # decoder layer i takes the previous output (or code + z) and, after the first, the mirrored skip
        dec_in = [2 * self.widths[-1]] + [2 * w for w in reversed(self.widths[:-1])]
        dec_out = list(reversed(chans[:-1]))  # ..., 32, 16, 1
        self.dec = nn.ModuleList(
            nn.ConvTranspose1d(a, b, KERNEL, 2, padding=PAD, output_padding=1) for a, b in zip(dec_in, dec_out)
        )
        self.dec_act = nn.ModuleList([*(nn.PReLU(b) for b in dec_out[:-1]), nn.Identity() if residual else nn.Tanh()])
        if residual:  # start at the identity map: the correction is exactly 0 until the last layer learns
            for p in self.dec[-1].parameters():  # its weight and bias
                nn.init.zeros_(p)

    def code_shape(self, length: int) -> tuple[int, int]:
        return self.widths[-1], length // 2 ** len(self.widths)

    def forward(self, noisy: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        skips = []
        h = noisy
        for conv, act in zip(self.enc, self.enc_act):
            h = act(conv(h))
            skips.append(h)  # [B, widths[i], T / 2^(i+1)]
        if z is None:
            z = torch.randn_like(h)
        h = torch.cat([h, z], dim=1)  # [B, 2 * widths[-1], T / 2^k]
        for i, (conv, act) in enumerate(zip(self.dec, self.dec_act)):
            h = act(conv(h))
            if i < len(self.dec) - 1:
                h = torch.cat([h, skips[-2 - i]], dim=1)  # the encoder's output of the same length
        return (noisy + h).clamp(-1, 1) if self.residual else h


class SEGANDiscriminator(nn.Module):
    """(noisy, other) pair, B x 2 x T -> one score per item.

    ``batch_norm``: batch normalisation after every convolution but the first, standing in for the paper's virtual
    batch norm (without any normalisation D's outputs start far from the LSGAN targets and it can settle on a
    constant)."""

    def __init__(self, length: int = 16384, widths: tuple[int, ...] = PAPER_WIDTHS, batch_norm: bool = False):
        super().__init__()
        chans = (2, *widths)
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(chans[:-1], chans[1:])):
            norm = [nn.BatchNorm1d(b)] if batch_norm and i > 0 else []
            layers += [_down(a, b), *norm, nn.LeakyReLU(0.3)]
        self.net = nn.Sequential(*layers, nn.Conv1d(widths[-1], 1, 1))  # [B, 1, T / 2^k]
        self.fc = nn.Linear(length // 2 ** len(widths), 1)

    def forward(self, noisy: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        return self.fc(self.net(torch.cat([noisy, other], dim=1)).flatten(1)).squeeze(1)
