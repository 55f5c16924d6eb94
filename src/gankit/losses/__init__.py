"""Adversarial losses as pure functions of D's outputs, and one registry by name.

A loss is a :class:`GANLoss` pair: ``d(real_logits, fake_logits)`` for the discriminator and
``g(fake_logits, real_logits)`` for the generator (most ignore ``real_logits``; relativistic
losses need it, and say so with ``g_uses_real``). Adding a loss: write the two functions and one
``LOSSES[...] = GANLoss(...)`` line, plus a test against a hand-computed value.

The flags say what else the training step must do for a loss (see :mod:`gankit.methods.tricks`):
``smoothable`` -- ``d`` takes ``real_label`` (one-sided label smoothing makes sense);
``critic`` -- D is a Wasserstein critic, whose E[D(x)] - E[D(G(z))] is logged;
``autoencoder`` -- D is an auto-encoder returning reconstruction losses, and ``d`` takes BEGAN's ``k``;
``control`` -- a factory ``(gamma, lambda_k, device) -> controller`` of state the loss carries across steps
(BEGAN's k_t, :class:`gankit.losses.began.BEGANControl`): the controller's ``d_loss_kwargs()`` go to ``d``
and its ``update(real_out, fake_out)`` runs after each D step.
Gradient penalties live in :mod:`gankit.losses.penalties`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from gankit.losses.began import BEGANControl, d_began, g_began
from gankit.losses.gan import d_bce, g_nonsaturating, g_saturating
from gankit.losses.hinge import d_hinge, g_hinge
from gankit.losses.lsgan import d_lsgan, g_lsgan
from gankit.losses.relativistic import d_relativistic, g_relativistic
from gankit.losses.wgan import d_wgan, g_wgan

LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class GANLoss:
    d: LossFn
    g: LossFn
    g_uses_real: bool = False  # does g() need D's logits on the real batch?
    smoothable: bool = False  # does d() take real_label (one-sided label smoothing)?
    critic: bool = False  # is D a Wasserstein critic (log its estimate)?
    autoencoder: bool = False  # is D an auto-encoder returning reconstruction losses (BEGAN)?
    control: Callable[..., object] | None = None  # factory of the state the loss carries across steps (BEGAN's k_t)


LOSSES: dict[str, GANLoss] = {
    # Goodfellow et al. 2014, eq. 1: G minimises log(1 - D(G(z))) -- saturates when D wins.
    "minimax": GANLoss(d_bce, g_saturating, smoothable=True),
    # Goodfellow et al. 2014, Sec. 3: G maximises log D(G(z)) instead -- strong gradients early on.
    "non-saturating": GANLoss(d_bce, g_nonsaturating, smoothable=True),
    # Mao et al. 2017: least squares on D's raw output, labels 0 (fake) and 1 (real).
    "lsgan": GANLoss(d_lsgan, g_lsgan, smoothable=True),
    # Arjovsky et al. 2017: a critic; pair with gan.clip_weights (WGAN) or gan.penalty=wgan-gp (WGAN-GP).
    "wgan": GANLoss(d_wgan, g_wgan, critic=True),
    # Lim & Ye 2017, Miyato et al. 2018: margin loss for D, linear for G.
    "hinge": GANLoss(d_hinge, g_hinge),
    # Jolicoeur-Martineau 2019: RaSGAN, D compares reals with the average fake and vice versa.
    "relativistic-average": GANLoss(d_relativistic, g_relativistic, g_uses_real=True, smoothable=True),
    # Berthelot et al. 2017: auto-encoder D, equilibrium control k_t (needs model.arch=began).
    "began": GANLoss(d_began, g_began, autoencoder=True, control=BEGANControl),
}

__all__ = [
    "GANLoss",
    "LOSSES",
    "BEGANControl",
    "d_bce",
    "g_saturating",
    "g_nonsaturating",
    "d_lsgan",
    "g_lsgan",
    "d_wgan",
    "g_wgan",
    "d_hinge",
    "g_hinge",
    "d_relativistic",
    "g_relativistic",
    "d_began",
    "g_began",
]
