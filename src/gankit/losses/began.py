"""BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium GANs").

D is an auto-encoder; its output on a sample v is the per-sample reconstruction loss
L(v) = |v - D_ae(v)|^eta (eta = 1 here). The losses are pure functions of those outputs:

    J_D = L(x) - k_t L(G(z))        J_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)     (proportional control)
    M_global = L(x) + |gamma L(x) - L(G(z))|                           (the convergence measure)

gamma = E[L(G(z))] / E[L(x)] at equilibrium is the diversity ratio: lower gamma, sharper but less
diverse samples.

k_t is state the loss carries from step to step, so it lives here too: :class:`BEGANControl` holds it,
hands it to ``d_began`` and updates it after each D step (the ``control`` of the ``began`` entry in
:data:`gankit.losses.LOSSES`; the trainer reaches it through :mod:`gankit.methods.tricks`).
"""

from __future__ import annotations

from typing import Any

import torch


def d_began(real_err: torch.Tensor, fake_err: torch.Tensor, k: float | torch.Tensor = 0.0) -> torch.Tensor:
    """J_D = E L(x) - k_t E L(G(z))."""
    return real_err.mean() - k * fake_err.mean()


def g_began(fake_err: torch.Tensor, real_err: torch.Tensor | None = None) -> torch.Tensor:
    """J_G = E L(G(z))."""
    return fake_err.mean()


def began_update(
    k: torch.Tensor, real_err: torch.Tensor, fake_err: torch.Tensor, gamma: float = 0.5, lambda_k: float = 1e-3
) -> tuple[torch.Tensor, torch.Tensor]:
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


class BEGANControl:
    """The equilibrium control of BEGAN (Berthelot et al. 2017, Sec. 3.4): k_t, from k_0 = 0.

    Args:
        gamma: the diversity ratio in (0, 1] (the paper: 0.5 and others).
        lambda_k: the proportional gain (the paper: 0.001).
        device: where k lives (D's device: the update stays on it, with no host sync).
    """

    def __init__(self, gamma: float = 0.5, lambda_k: float = 1e-3, device: torch.device | str = "cpu"):
        self.gamma, self.lambda_k = gamma, lambda_k
        self.k = torch.zeros((), device=device)  # k_0 = 0: D first learns to reconstruct reals alone

    def d_loss_kwargs(self) -> dict[str, torch.Tensor]:
        """The arguments ``d_began`` takes besides D's outputs."""
        return {"k": self.k}

    def update(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> dict[str, torch.Tensor]:
        """k_{t+1} from D's reconstruction losses of this step; returns k_{t+1} and M_global to log."""
        self.k, m_global = began_update(self.k, real_out, fake_out, self.gamma, self.lambda_k)
        return {"began_k": self.k.clone(), "began_m_global": m_global}

    def state_dict(self) -> dict[str, Any]:
        return {"k": self.k}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.k = state["k"].to(self.k.device)
