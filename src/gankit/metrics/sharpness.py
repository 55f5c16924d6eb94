"""Sharpness difference (Mathieu, Couprie & LeCun 2016, sec. 4.1): how well a prediction keeps the truth's edges.

    Sharp. diff.(Y, Y^) = 10 log10( max^2 / (1/N sum_ij |(grad_i Y + grad_j Y) - (grad_i Y^ + grad_j Y^)|) )

with grad_i Y = |Y_ij - Y_i-1,j| and grad_j Y = |Y_ij - Y_i,j-1| (absolute neighbour differences) and N the
number of pixels. Higher is better, like PSNR: a blurred prediction loses gradient magnitude at every edge.
Unlike PSNR the value is not invariant to the intensity scale (max^2 over a mean of first powers), so we fix
it: images are first brought to [0, 1] (divided by ``data_range``) and max = 1. The sum runs over the
(H-1) x (W-1) pixels that have both neighbours, and over channels.
"""

from __future__ import annotations

import torch


def gradient_sum(x: torch.Tensor) -> torch.Tensor:
    """grad_i x + grad_j x at the pixels with an upper and a left neighbour: N x C x (H-1) x (W-1)."""
    grad_i = (x[..., 1:, 1:] - x[..., :-1, 1:]).abs()  # |Y_ij - Y_i-1,j|
    grad_j = (x[..., 1:, 1:] - x[..., 1:, :-1]).abs()  # |Y_ij - Y_i,j-1|
    return grad_i + grad_j


def sharpness_difference(pred: torch.Tensor, target: torch.Tensor, data_range: float = 2.0) -> torch.Tensor:
    """Mathieu et al.'s sharpness difference per image, in dB (higher: the prediction's edges match better).

    Args:
        pred, target: N x C x H x W (in [-1, 1] for the default ``data_range``).
        data_range: max - min of the intensity scale; images are divided by it so that max = 1.

    Returns:
        An N-vector; +inf where the two have equal gradient sums everywhere.
    """
    diff = (gradient_sum(target.double()) - gradient_sum(pred.double())).abs() / data_range
    return (10 * torch.log10(1.0 / diff.flatten(1).mean(1))).float()
