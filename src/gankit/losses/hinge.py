"""Hinge loss (Lim & Ye 2017, "Geometric GAN"; used by Miyato et al. 2018 for SNGAN):

    J_D = E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]        J_G = -E[D(G(z))]

D stops pushing samples that are already beyond the margin, so its outputs stay bounded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_hinge(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """J_D; 2 at outputs 0."""
    return F.relu(1.0 - real_out).mean() + F.relu(1.0 + fake_out).mean()


def g_hinge(fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
    """J_G = -E[D(G(z))]; 0 at outputs 0."""
    return -fake_out.mean()
