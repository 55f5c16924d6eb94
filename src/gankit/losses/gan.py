"""The losses of the original GAN (Goodfellow et al. 2014), written on D's logits l, D = sigmoid(l).

The identities used (stable for any l): -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """J_D = -E[log D(x)] - E[log(1 - D(G(z)))]; equals 2 log 2 at logits 0.

    Args:
        real_logits, fake_logits: D's logits on a real and a generated minibatch.
        real_label: the target for real data; 1 - s gives one-sided label smoothing
            (Salimans et al. 2016, Sec. 3.4): the cross-entropy against t is
            t * softplus(-l) + (1 - t) * softplus(l). Fakes keep the target 0 (one-sided).
    """
    real = F.softplus(-real_logits)  # -log D(x)
    if real_label != 1.0:
        real = real_label * real + (1.0 - real_label) * F.softplus(real_logits)
    return real.mean() + F.softplus(fake_logits).mean()  # ..., -log(1 - D(G(z)))


def g_saturating(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Minimax J_G = -J_D's fake term: minimise E[log(1 - D(G(z)))] = -E[softplus(l)]; -log 2 at logits 0."""
    return -F.softplus(fake_logits).mean()  # log(1 - D(G(z)))


def g_nonsaturating(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Non-saturating J_G: minimise -E[log D(G(z))] = E[softplus(-l)]; log 2 at logits 0."""
    return F.softplus(-fake_logits).mean()  # -log D(G(z))
