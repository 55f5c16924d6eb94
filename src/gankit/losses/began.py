"""BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium GANs").

D is an auto-encoder; its output on a sample v is the per-sample reconstruction loss
L(v) = |v - D_ae(v)|^eta (eta = 1 here). The losses are pure functions of those outputs:

    J_D = L(x) - k_t L(G(z))        J_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)     (proportional control)
    M_global = L(x) + |gamma L(x) - L(G(z))|                           (the convergence measure)

gamma = E[L(G(z))] / E[L(x)] at equilibrium is the diversity ratio: lower gamma, sharper but less
diverse samples.
"""

from __future__ import annotations

import torch


def d_began(real_err: torch.Tensor, fake_err: torch.Tensor, k: float | torch.Tensor = 0.0) -> torch.Tensor:
    """J_D = E L(x) - k_t E L(G(z))."""
    return real_err.mean() - k * fake_err.mean()


def g_began(fake_err: torch.Tensor, real_err: torch.Tensor | None = None) -> torch.Tensor:
    """J_G = E L(G(z))."""
    return fake_err.mean()


def began_update(k: torch.Tensor, real_err: torch.Tensor, fake_err: torch.Tensor, gamma: float = 0.5, lambda_k: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the equilibrium control, and the convergence measure.

    Tensors throughout (no host sync per step on a GPU).

    Args:
        k: the current k_t in [0, 1] (a 0-dim tensor).
        real_err, fake_err: D's reconstruction losses L(x) and L(G(z)) (any shape; their means are used).
        gamma: the diversity ratio in (0, 1].
        lambda_k: the proportional gain (the paper: 0.001).

    Returns:
        (k_{t+1}, M_global), both 0-dim tensors.
    """
    lr, lf = real_err.detach().mean(), fake_err.detach().mean()
    balance = gamma * lr - lf
    return (k + lambda_k * balance).clamp(0.0, 1.0), lr + balance.abs()
