"""Shared helpers of the lab experiments: figures, a fixed 1-D generator, and training D near its optimum."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.losses import LOSSES
from gankit.methods.gan import d_step
from gankit.nets import MLPDiscriminator


def plt():
    """matplotlib.pyplot with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def savefig(fig, path: Path) -> str:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt().close(fig)
    return path.name


class GaussianGenerator(nn.Module):
    """A fixed 1-D generator G(z) = mu + sigma z, so p_g = N(mu, sigma^2) is known in closed form."""

    def __init__(self, mu: float, sigma: float):
        super().__init__()
        self.mu, self.sigma = mu, sigma

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.mu + self.sigma * z[:, :1]

    def density(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float64)
        return torch.exp(-0.5 * ((x - self.mu) / self.sigma) ** 2) / (self.sigma * math.sqrt(2 * math.pi))


def train_optimal_d(
    toy, G: nn.Module, *, steps: int, batch: int = 2048, hidden: int = 64, lr: float = 2e-3, seed: int = 0
) -> nn.Module:
    """Train D with gankit's ``d_step`` (the BCE loss of eq. 1) against a fixed G on fresh samples each step.

    Fresh samples every step make the empirical objective the expected one, whose maximiser is
    D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Goodfellow et al. 2014, Prop. 1). The learning rate decays
    by 10x for the last third of the steps so that D settles on the optimum instead of jittering around it.
    """
    torch.manual_seed(seed)
    D = MLPDiscriminator((1,), hidden=hidden, depth=3)
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [int(steps * 0.6), int(steps * 0.85)], gamma=0.1)
    gen = torch.Generator().manual_seed(seed + 1)
    loss = LOSSES["minimax"]
    for _ in range(steps):
        x_real = toy.sample(batch, generator=gen)
        z = torch.randn(batch, 1, generator=gen)
        d_step(G, D, opt, loss, x_real, z)
        sched.step()
    return D.eval()


@torch.no_grad()
def d_on_grid(D: nn.Module, xs: np.ndarray) -> np.ndarray:
    """D(x) = sigmoid(logit) on a 1-D grid, float64."""
    logits = D(torch.as_tensor(xs, dtype=torch.float32).reshape(-1, 1)).double()
    return torch.sigmoid(logits).numpy()
