"""Least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks").

With the 0-1 coding (a = 0 for fakes, b = c = 1 for reals) D's raw output o is regressed onto the labels:

    J_D = 1/2 E[(o(x) - b)^2] + 1/2 E[(o(G(z)) - a)^2]        J_G = 1/2 E[(o(G(z)) - c)^2]

Fakes far on the correct side of the boundary still get a gradient (unlike the sigmoid cross-entropy),
which the paper credits for more stable training.
"""

from __future__ import annotations

import torch


def d_lsgan(real_out: torch.Tensor, fake_out: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """J_D; 1/2 at outputs 0. ``real_label`` < 1 is one-sided label smoothing of b."""
    return 0.5 * (real_out - real_label).pow(2).mean() + 0.5 * fake_out.pow(2).mean()


def g_lsgan(fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
    """J_G; 1/2 at outputs 0."""
    return 0.5 * (fake_out - 1.0).pow(2).mean()
