"""Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN Decoders"): a fully
visible belief net p(x) = prod_i p(x_i | x_1 .. x_{i-1}) over the pixels in raster order, each conditional given
by masked convolutions.

The plain PixelCNN's masked 3x3 stack has a *blind spot*: pixels above and to the right of the current one
never enter its receptive field. The gated version splits the network into two stacks (paper, figure 1-2):

    vertical stack    x_v: a k x k convolution masked to rows <= i (all columns): it sees every row above,
                      with no blind spot, and (in layer 1) the current row, so its output is used only *after
                      a one-row shift down* (row i then holds information of rows < i alone);
    horizontal stack  x_h: a 1 x k convolution masked to columns < j (layer 1, mask A) or <= j (later layers,
                      mask B) of the current row, plus a 1 x 1 map of the shifted vertical stack.

Each layer is gated (paper eq. 2): y = tanh(W_f * x) . sigmoid(W_g * x); the horizontal stack has a residual
connection (not in layer 1, where it would pass x_ij itself through), and the last horizontal stack feeds the
output head: ReLU, 1 x 1 conv, ReLU, 1 x 1 conv to ``levels`` logits per pixel (1 for a Bernoulli pixel, 256 for
an 8-bit one). Grey images only (C = 1): the paper's RGB channel masks are not needed for MNIST-like data.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskedConv2d(nn.Conv2d):
    """A convolution whose kernel is multiplied by a fixed 0/1 mask before every use (van den Oord et al. 2016a,
    "Pixel Recurrent Neural Networks", section 3.4). ``mask`` has the kernel's spatial shape (kh x kw)."""

    def __init__(self, ch_in: int, ch_out: int, mask: torch.Tensor):
        kh, kw = mask.shape
        super().__init__(ch_in, ch_out, (kh, kw), padding=(kh // 2, kw // 2))
        self.mask: torch.Tensor
        self.register_buffer("mask", mask[None, None].float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def vertical_mask(k: int) -> torch.Tensor:
    """k x k: rows up to and including the centre row (the current row is removed later by the shift)."""
    m = torch.zeros(k, k)
    m[: k // 2 + 1] = 1
    return m


def horizontal_mask(k: int, include_centre: bool) -> torch.Tensor:
    """1 x k: columns left of the centre, and the centre itself for mask B (layers after the first)."""
    m = torch.zeros(1, k)
    m[0, : k // 2 + int(include_centre)] = 1
    return m


def shift_down(x: torch.Tensor) -> torch.Tensor:
    """Move every row one down (row 0 becomes zeros): row i then holds what row i - 1 saw."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


class GatedLayer(nn.Module):
    """One gated layer of both stacks (paper figure 2). ``first``: mask A in the horizontal stack, no residual."""

    def __init__(self, width: int, kernel: int, first: bool = False, ch_in: int | None = None):
        super().__init__()
        ch_in = ch_in or width
        self.first = first
        self.v_conv = MaskedConv2d(ch_in, 2 * width, vertical_mask(kernel))
        self.v_to_h = nn.Conv2d(2 * width, 2 * width, 1)
        self.h_conv = MaskedConv2d(ch_in, 2 * width, horizontal_mask(kernel, include_centre=not first))
        self.h_out = nn.Conv2d(width, width, 1)

    @staticmethod
    def gate(a: torch.Tensor) -> torch.Tensor:
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)  # paper eq. 2

    def vertical(self, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The vertical stack's output and its term for the horizontal stack (row i: rows < i alone)."""
        v_pre = self.v_conv(v)  # [N, 2p, H, W]: row i saw rows <= i
        return self.gate(v_pre), self.v_to_h(shift_down(v_pre))  # the shift keeps row i's own pixels out

    def horizontal(self, h: torch.Tensor, from_v: torch.Tensor) -> torch.Tensor:
        h_pre = self.h_conv(h) + from_v
        return self.h_out(self.gate(h_pre)) + (0 if self.first else h)  # in layer 1 it would pass x_ij through

    def forward(self, v: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v, from_v = self.vertical(v)
        return v, self.horizontal(h, from_v)


class GatedPixelCNN(nn.Module):
    """x (N x 1 x H x W, in [-1, 1]) -> logits of p(x_ij | pixels before ij): N x 1 x H x W (``levels = 1``,
    Bernoulli) or N x levels x H x W (a softmax over ``levels`` intensities).

    Args:
        levels: 1 for binary pixels (one logit), 256 for 8-bit pixels (256-way softmax).
        width: channels of both stacks (the paper's p).
        layers: gated layers (the first uses mask A).
        kernel: the kernel size of layers after the first (odd).
        first_kernel: the first layer's kernel size (odd; 7 in the paper).
    """

    def __init__(self, levels: int = 1, width: int = 32, layers: int = 7, kernel: int = 3, first_kernel: int = 7):
        super().__init__()
        if kernel % 2 == 0 or first_kernel % 2 == 0:
            raise ValueError(f"kernel sizes must be odd, got {kernel} and {first_kernel}")
        self.levels = levels
        # rows above that reach a pixel's output: each layer's vertical kernel, plus the one-row shift
        self.rows_above = first_kernel // 2 + (layers - 1) * (kernel // 2) + 1
        self.layers: list[GatedLayer] = nn.ModuleList(  # type: ignore[assignment]
            [GatedLayer(width, first_kernel, first=True, ch_in=1)]
            + [GatedLayer(width, kernel) for _ in range(layers - 1)]
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 1), nn.ReLU(), nn.Conv2d(width, levels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h)
        return self.head(h)

    def row_terms(self, x: torch.Tensor, r: int) -> list[torch.Tensor]:
        """What the vertical stack gives row ``r``'s horizontal stack in each layer (N x 2p x 1 x W each): it
        depends on rows < r alone, so a sampler computes it once per row (from the ``rows_above`` rows that
        reach row r) and then runs only the one-row horizontal stack per pixel (:meth:`row_logits`)."""
        top = max(0, r - self.rows_above)
        v, terms = x[:, :, top : r + 1], []
        for layer in self.layers:
            v, from_v = layer.vertical(v)
            terms.append(from_v[:, :, r - top : r - top + 1])
        return terms

    def row_logits(self, x_row: torch.Tensor, terms: list[torch.Tensor]) -> torch.Tensor:
        """Logits of row r (N x levels x 1 x W) from the row itself (N x 1 x 1 x W) and its :meth:`row_terms`:
        the same values as ``forward(x)[:, :, r:r+1]``."""
        h = x_row
        for layer, from_v in zip(self.layers, terms):
            h = layer.horizontal(h, from_v)
        return self.head(h)
