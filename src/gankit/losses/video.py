"""Losses of next-frame prediction (Mathieu, Couprie & LeCun 2016, "Deep multi-scale video prediction beyond mean
square error"), pure functions of a predicted frame Y_hat and the true one Y (N x C x H x W).

The adversarial term comes from :data:`gankit.losses.LOSSES` like any GAN's; these are the two regression terms.
"""

from __future__ import annotations

import torch


def lp_loss(pred: torch.Tensor, target: torch.Tensor, p: int = 2) -> torch.Tensor:
    """Mathieu et al. eq. 1, L_p = ||Y - Y_hat||_p^p, as a mean over pixels (p = 2: the MSE; p = 1: the L1)."""
    return (pred - target).abs().pow(p).mean()


def gradient_difference_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Mathieu et al. eq. 5, the gradient difference loss (GDL):

        L_gdl = sum_ij | |Y_ij - Y_i-1,j| - |Y^_ij - Y^_i-1,j| |^alpha + | |Y_i,j-1 - Y_ij| - |Y^_i,j-1 - Y^_ij| |^alpha

    It compares the magnitudes of neighbour differences, so a blurred prediction (small differences where the
    truth has an edge) pays even where its pixel values are close. Written here as a mean instead of a sum: each
    direction's term is averaged over its (H-1) x W or H x (W-1) differences (and the batch), and the two means
    are added, which keeps the weight comparable with the per-pixel mean of :func:`lp_loss`.

    Args:
        pred, target: N x C x H x W.
        alpha: the exponent (the paper uses 1 or 2).

    Returns:
        A scalar; 0 when the two have the same gradient magnitudes (e.g. ``target + c``).
    """
    rows = (target.diff(dim=-2).abs() - pred.diff(dim=-2).abs()).abs().pow(alpha)  # N x C x H-1 x W
    cols = (target.diff(dim=-1).abs() - pred.diff(dim=-1).abs()).abs().pow(alpha)  # N x C x H x W-1
    return rows.mean() + cols.mean()
