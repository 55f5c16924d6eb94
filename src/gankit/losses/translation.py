"""Losses of unpaired image-to-image translation (CycleGAN, Zhu et al. 2017) as pure functions of images.

With G: A -> B and F: B -> A,

    cycle consistency (eq. 2):  L_cyc = E_a |F(G(a)) - a|_1 + E_b |G(F(b)) - b|_1
    identity (sec. 5.2, Taigman et al. 2017):  L_id = E_b |G(b) - b|_1 + E_a |F(a) - a|_1

each |.|_1 a mean over pixels and channels (as the authors' code: ``nn.L1Loss``), so a value is in image units
([-1, 1] images: at most 2 per term). CycleGAN weighs them lambda = 10 and 0.5 lambda.
"""

from __future__ import annotations

import torch


def cycle_consistency(
    a: torch.Tensor, a_rec: torch.Tensor, b: torch.Tensor, b_rec: torch.Tensor, weight_b: float = 1.0
) -> torch.Tensor:
    """L_cyc: mean |a_rec - a| + weight_b * mean |b_rec - b|, with a_rec = F(G(a)) and b_rec = G(F(b)); 0 for exact
    cycles. ``weight_b`` 1 is the paper's; below 1 it asks less of the B -> A -> B cycle, for a B that holds more
    than A can carry (MNIST-M's backgrounds, which an MNIST digit has no room for)."""
    return (a_rec - a).abs().mean() + weight_b * (b_rec - b).abs().mean()


def identity(a: torch.Tensor, f_of_a: torch.Tensor, b: torch.Tensor, g_of_b: torch.Tensor) -> torch.Tensor:
    """L_id: mean |G(b) - b| + mean |F(a) - a|: a generator fed an image of its own output domain should leave it
    unchanged (it keeps colour composition in the paper's painting -> photo task)."""
    return (g_of_b - b).abs().mean() + (f_of_a - a).abs().mean()
