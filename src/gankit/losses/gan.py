"""The losses of the original GAN (Goodfellow et al. 2014), written on D's logits l, D = sigmoid(l).

The identities used (stable for any l): -log sigmoid(l) = softplus(-l), -log(1 - sigmoid(l)) = softplus(l).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_bce(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """J_D = -E[log D(x)] - E[log(1 - D(G(z)))]; equals 2 log 2 at logits 0."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()  # -log D(x), -log(1 - D(G(z)))


def g_saturating(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Minimax J_G = -J_D's fake term: minimise E[log(1 - D(G(z)))] = -E[softplus(l)]; -log 2 at logits 0."""
    return -F.softplus(fake_logits).mean()  # log(1 - D(G(z)))


def g_nonsaturating(fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """Non-saturating J_G: minimise -E[log D(G(z))] = E[softplus(-l)]; log 2 at logits 0."""
    return F.softplus(-fake_logits).mean()  # -log D(G(z))
