"""Relativistic average GAN, RaSGAN (Jolicoeur-Martineau 2019, "The relativistic discriminator: a key
element missing from standard GAN"). D judges whether real data is *more realistic than the
average fake* (and vice versa) through the critic C (D's logit):

    D_ra(x_r, x_f) = sigmoid(C(x_r) - E C(x_f))
    J_D = -E[log D_ra(x_r, x_f)] - E[log(1 - D_ra(x_f, x_r))]
    J_G = -E[log D_ra(x_f, x_r)] - E[log(1 - D_ra(x_r, x_f))]

G's loss needs D's logits on the real batch too (``g_uses_real``). -log sigmoid(u) = softplus(-u).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_relativistic(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """J_D; 2 log 2 at logits 0. ``real_label`` < 1 smooths the target of the real term."""
    r = real_logits - fake_logits.mean()  # C(x_r) - E C(x_f)
    f = fake_logits - real_logits.mean()  # C(x_f) - E C(x_r)
    real = F.softplus(-r)
    if real_label != 1.0:
        real = real_label * real + (1.0 - real_label) * F.softplus(r)
    return real.mean() + F.softplus(f).mean()


def g_relativistic(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """J_G (the roles swapped); 2 log 2 at logits 0."""
    r = real_logits - fake_logits.mean()
    f = fake_logits - real_logits.mean()
    return F.softplus(-f).mean() + F.softplus(r).mean()
