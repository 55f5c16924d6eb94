"""Wasserstein GAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", Algorithm 1).

The critic f (D's raw output) estimates W(P_r, P_g) = sup_{|f|_L <= 1} E[f(x)] - E[f(G(z))] by
maximising that difference, so it *minimises*

    J_D = E[f(G(z))] - E[f(x)]            and G minimises   J_G = -E[f(G(z))].

The Lipschitz constraint is not in the loss: it comes from weight clipping (``gan.clip_weights``,
the paper's c = 0.01) or a gradient penalty (``gan.penalty: wgan-gp``, Gulrajani et al. 2017).
"""

from __future__ import annotations

import torch


def d_wgan(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """J_D = E[f(G(z))] - E[f(x)]; its negative is the critic's Wasserstein estimate."""
    return fake_out.mean() - real_out.mean()


def g_wgan(fake_out: torch.Tensor, real_out: torch.Tensor | None = None) -> torch.Tensor:
    """J_G = -E[f(G(z))]."""
    return -fake_out.mean()


def wasserstein_estimate(real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """The critic's estimate of W(P_r, P_g) (up to the Lipschitz constant): E[f(x)] - E[f(G(z))]."""
    return real_out.mean() - fake_out.mean()
