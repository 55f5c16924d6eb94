"""Remedies for mode collapse as GAN config switches (used by :class:`gankit.methods.gan.GAN`).

- ``model.minibatch_kernels: B`` -- minibatch discrimination (Salimans et al. 2016), built into D by
  :func:`gankit.nets.build_gan` (see :mod:`gankit.nets.minibatch`).
- ``gan.pack: m`` -- PacGAN packing (Lin et al. 2018): D sees m samples at once (:mod:`gankit.nets.pack`).
- ``gan.unrolled_steps: K`` -- the unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2017): G descends the
  surrogate loss f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)), where theta_D^K is D after K
  more of its own optimizer steps (Adam here, as in the paper), and the gradient flows *through* those K
  steps (eq. 5-7): G sees how D would react to it, which discourages hopping from mode to mode. D itself is
  then updated as usual; the K look-ahead steps are thrown away.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.func import functional_call

from gankit.nets import build_gan
from gankit.nets.pack import PackedDiscriminator, packed_shape


def build_gan_nets(cfg, data_shape: tuple[int, ...]) -> tuple[nn.Module, nn.Module]:
    """(G, D) for a run config, with D packed when ``cfg.gan.pack > 1``."""
    G, D = build_gan(cfg.model, data_shape)
    m = cfg.gan.pack
    if m > 1:
        _, D_inner = build_gan(cfg.model, packed_shape(tuple(data_shape), m))
        D = PackedDiscriminator(D_inner, m)
    return G, D


def _adam_lookahead(
    params: dict[str, torch.Tensor],
    grads: tuple[torch.Tensor, ...],
    opt: torch.optim.Optimizer,
    named: dict[nn.Parameter, str],
    t_offset: int,
) -> dict[str, torch.Tensor]:
    """One differentiable Adam step from D's current optimizer state (moments taken as constants)."""
    group = opt.param_groups[0]
    b1, b2 = group["betas"]
    lr, eps = group["lr"], group["eps"]
    new = {}
    for (name, p), g, (param, _) in zip(params.items(), grads, named.items()):
        state = opt.state.get(param, {})
        m0 = state.get("exp_avg", torch.zeros_like(p)).detach()
        v0 = state.get("exp_avg_sq", torch.zeros_like(p)).detach()
        t = int(state.get("step", 0)) + t_offset
        m = b1 * m0 + (1 - b1) * g
        v = b2 * v0 + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        new[name] = p - lr * m_hat / ((v_hat + 1e-30).sqrt() + eps)
        # (the moments of later look-ahead steps restart from the optimizer's: a small simplification)
    return new


def unrolled_g_step(
    G: nn.Module,
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
    loss,
    real: Callable[[], torch.Tensor],
    noise: Callable[[int], torch.Tensor],
    steps: int,
) -> dict[str, torch.Tensor]:
    """One generator update on the unrolled surrogate loss (Metz et al. 2017, Sec. 2).

    Args:
        G, D: the networks; D's parameters are not changed here.
        opt_D: D's optimizer: its hyper-parameters and moments drive the K look-ahead steps.
        opt_G: G's optimizer, stepped once.
        loss: a :class:`gankit.losses.GANLoss`.
        real: () -> a minibatch of real data (K + 1 are drawn).
        noise: n -> latent codes.
        steps: K, the number of unrolled D steps.

    Returns:
        ``{"g_loss": ...}`` (the surrogate loss).
    """
    named = dict((p, n) for n, p in D.named_parameters())
    params: dict[str, torch.Tensor] = dict(D.named_parameters())
    buffers = {n: b for n, b in D.named_buffers()}

    def D_at(ps, x):
        return functional_call(D, {**ps, **buffers}, (x,))

    for k in range(steps):
        x_real = real()
        x_fake = G(noise(len(x_real)))  # not detached: the look-ahead depends on G
        loss_D = loss.d(D_at(params, x_real), D_at(params, x_fake))
        grads = torch.autograd.grad(loss_D, tuple(params.values()), create_graph=True)
        params = _adam_lookahead(params, grads, opt_D, named, k + 1)
    x_real = real()
    fake_logits = D_at(params, G(noise(len(x_real))))
    real_logits = D_at(params, x_real) if loss.g_uses_real else None
    loss_G = loss.g(fake_logits, real_logits)
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward(inputs=list(G.parameters()))  # only G's gradients: D's parameters must not move here
    opt_G.step()
    return {"g_loss": loss_G.detach()}
