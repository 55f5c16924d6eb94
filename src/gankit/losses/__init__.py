"""Adversarial losses as pure functions of D's outputs, and one registry by name.

A loss is a :class:`GANLoss` pair: ``d(real_logits, fake_logits)`` for the discriminator and
``g(fake_logits, real_logits)`` for the generator (most ignore ``real_logits``; relativistic
losses need it, and say so with ``g_uses_real``). Adding a loss: write the two functions and one
``LOSSES[...] = GANLoss(...)`` line, plus a test against a hand-computed value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from gankit.losses.gan import d_bce, g_nonsaturating, g_saturating

LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class GANLoss:
    d: LossFn
    g: LossFn
    g_uses_real: bool = False  # does g() need D's logits on the real batch?


LOSSES: dict[str, GANLoss] = {
    # Goodfellow et al. 2014, eq. 1: G minimises log(1 - D(G(z))) -- saturates when D wins.
    "minimax": GANLoss(d_bce, g_saturating),
    # Goodfellow et al. 2014, Sec. 3: G maximises log D(G(z)) instead -- strong gradients early on.
    "non-saturating": GANLoss(d_bce, g_nonsaturating),
}

__all__ = ["GANLoss", "LOSSES", "d_bce", "g_saturating", "g_nonsaturating"]
