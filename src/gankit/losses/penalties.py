"""Gradient penalties on D: functions of (D, x) that return a scalar penalty to add to D's loss, and
:data:`PENALTIES`, the registry that ``gan.penalty`` names.

Each needs gradients of D's output with respect to its *input*, so ``create_graph=True`` keeps the
penalty differentiable in D's parameters (a double backward).

- WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein GANs", eq. 3):
  E[(||grad D(x_hat)|| - 1)^2] at x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample.
- DRAGAN (Kodali et al. 2017, "On Convergence and Stability of GANs"): the same unit-norm penalty
  at real data perturbed by noise, x_hat = x + 0.5 std(x) u, u ~ U[0, 1]: it penalises sharp
  gradients only around the data manifold.
- R1 (Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do actually Converge?"):
  (1/2) E[||grad D(x)||^2] on real data; with weight gamma this is the paper's gamma/2 term.

Consistency regularisation (Zhang, Zhang, Odena & Lee 2020, "Consistency Regularization for Generative
Adversarial Networks") is a penalty of the same shape with no gradient in it: E||D(x) - D(T(x))||^2 on real
data, T a semantics-preserving augmentation. It adds to any gradient penalty rather than replacing one, so it
has its own switch (``gan.consistency``) and is not in :data:`PENALTIES`.

Every registry entry has one signature, ``(D, x_real, x_fake) -> penalty`` (those that look only at
real data ignore ``x_fake``), so the trainer calls any of them the same way. Adding a penalty: write
the function, put ``@register_penalty("name")`` above it, and test it against a closed form.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gankit.nets.augment import translation

Penalty = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]  # (D, x_real, x_fake) -> scalar

PENALTIES: dict[str, Penalty] = {}


def register_penalty(name: str) -> Callable[[Penalty], Penalty]:
    """Add the decorated ``(D, x_real, x_fake) -> penalty`` function to :data:`PENALTIES` as ``name``."""

    def add(fn: Penalty) -> Penalty:
        PENALTIES[name] = fn
        return fn

    return add


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


@register_penalty("wgan-gp")
def wgan_gp(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN-GP penalty (weight it by lambda = 10)."""
    return unit_gradient_penalty(D, interpolates(x_real, x_fake))


@register_penalty("dragan")
def dragan(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor | None = None) -> torch.Tensor:
    """The DRAGAN penalty (the paper's lambda = 10); ``x_fake`` is ignored: the points lie around the data."""
    return unit_gradient_penalty(D, dragan_points(x_real))


@register_penalty("r1")
def r1(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor | None = None) -> torch.Tensor:
    """The R1 penalty (weight it by gamma; the paper uses gamma in 0.1 .. 10); ``x_fake`` is ignored: R1
    regularises D on real data only."""
    return r1_penalty(D, x_real)


def cr_augment(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Consistency regularisation's T(x) on images (N x C x H x W): each shifted by up to ``ratio`` of its side
    (zero padding), then flipped left-right with probability 1/2. The paper shifts CIFAR-10 by up to 4 px, 1/8
    of 32 (and of 28). Random draws, in order: translation's offsets, then one U[0, 1) per image for the flip."""
    x = translation(x, ratio)
    flip = torch.rand(x.shape[0], device=x.device) < 0.5  # [N]
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)


def consistency_penalty(
    D: nn.Module, x: torch.Tensor, augment: Callable[[torch.Tensor], torch.Tensor] = cr_augment
) -> torch.Tensor:
    """E ||D(x) - D(T(x))||^2 over the batch: one squared difference per sample for a scalar D (Zhang et al. 2020,
    Algorithm 1, with no stop-gradient on either side)."""
    diff = D(x) - D(augment(x))  # two passes, as in d_step: batch norm never mixes the two batches
    return diff.reshape(diff.shape[0], -1).pow(2).sum(1).mean()
