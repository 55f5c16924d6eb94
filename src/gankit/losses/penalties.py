"""Gradient penalties on D: functions of (D, x) that return a scalar penalty to add to D's loss.

Each needs gradients of D's output with respect to its *input*, so ``create_graph=True`` keeps the
penalty differentiable in D's parameters (a double backward).

- WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3):
  E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample.
- DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs"): the same unit-norm penalty
  at real data perturbed by noise, x_hat = x + 0.5 std(x) u, u ~ U[0, 1]: it penalises sharp
  gradients only around the data manifold.
- R1 (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?"):
  (1/2) E[||grad D(x)||^2] on real data; with weight gamma this is the paper's gamma/2 term.
"""

from __future__ import annotations

import torch
from torch import nn


def input_gradients(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """grad_x sum_i D(x)_i, one row per sample (N x ...), kept in the graph for a double backward."""
    x = x.detach().requires_grad_(True)
    out = D(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad


def _norms(grad: torch.Tensor) -> torch.Tensor:
    return grad.flatten(1).norm(2, dim=1)  # [N]


def unit_gradient_penalty(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """E[(||grad D(x)|| - 1)^2]: the two-sided penalty of WGAN-GP and DRAGAN, at the points ``x``."""
    return (_norms(input_gradients(D, x)) - 1.0).pow(2).mean()


def r1_penalty(D: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(1/2) E[||grad D(x)||^2] at real data ``x``."""
    return 0.5 * input_gradients(D, x).flatten(1).pow(2).sum(1).mean()


def interpolates(x_real: torch.Tensor, x_fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP's points: eps x + (1 - eps) G(z), one eps ~ U[0, 1] per sample."""
    eps = torch.rand(x_real.shape[0], *([1] * (x_real.dim() - 1)), generator=generator, device=x_real.device)
    return eps * x_real.detach() + (1.0 - eps) * x_fake.detach()


def dragan_points(x_real: torch.Tensor, generator: torch.Generator | None = None, scale: float = 0.5) -> torch.Tensor:
    """DRAGAN's points: x + scale * std(x) * u, u ~ U[0, 1] elementwise (the authors' code)."""
    u = torch.rand(x_real.shape, generator=generator, device=x_real.device)
    return x_real.detach() + scale * x_real.std() * u


def wgan_gp(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN-GP penalty (weight it by lambda = 10)."""
    return unit_gradient_penalty(D, interpolates(x_real, x_fake))


def dragan(D: nn.Module, x_real: torch.Tensor) -> torch.Tensor:
    """The DRAGAN penalty (the paper's lambda = 10)."""
    return unit_gradient_penalty(D, dragan_points(x_real))


def r1(D: nn.Module, x_real: torch.Tensor) -> torch.Tensor:
    """The R1 penalty (weight it by gamma; the paper uses gamma in 0.1 .. 10)."""
    return r1_penalty(D, x_real)
