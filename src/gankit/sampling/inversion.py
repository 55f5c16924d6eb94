"""Inverting a generator by optimisation, and inpainting with it.

**Inversion** finds a latent z whose image G(z) matches a given image x: minimise over z

    L(z) = mean over known pixels of (G(z) - x)^2  +  prior * ||z||^2 / z_dim

with Adam from several random starts, keeping the best start per image. This is the optimisation route of
Zhu, Krähenbühl, Shechtman & Efros 2016 ("Generative visual manipulation on the natural image manifold")
and Creswell & Bharath 2018 ("Inverting the generator of a GAN"). The prior term is the Gaussian's
negative log-density up to a constant; it keeps z where G was trained.

**Inpainting** (Yeh, Chen, Lim, Schwing, Hasegawa-Johnson & Do, CVPR 2017, "Semantic image inpainting
with deep generative models"): invert using only the known pixels (``mask`` = 1), then fill the hole
with G(z): mask * x + (1 - mask) * G(z). The paper's contextual loss weights known pixels by their
nearness to the hole and adds D's opinion as a "perceptual" term, and it blends with Poisson editing.
Here every known pixel counts the same and the blend is a plain paste: these are the parts that need
nothing but G.

Written by hand: a few lines of Adam over z; no library offers it for arbitrary PyTorch generators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from tqdm import tqdm

from gankit.errors import UserError


@dataclass
class Inversion:
    z: torch.Tensor  # N x z_dim, the best latent per image
    reconstruction: torch.Tensor  # G(z), N x *image
    loss: torch.Tensor  # N, the objective at z (known-pixel MSE + prior term)
    known_mse: torch.Tensor  # N, the mean squared error over the known pixels alone


def invert(
    decode: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    z_dim: int,
    mask: torch.Tensor | None = None,
    steps: int = 500,
    lr: float = 0.05,
    prior: float = 1e-3,
    restarts: int = 4,
    seed: int = 0,
    progress: bool = False,
) -> Inversion:
    """Latents whose images match ``x`` on the pixels where ``mask`` is 1 (all pixels when None).

    Args:
        decode: z -> images, differentiable in z (e.g. ``method.decode``).
        x: N target images, in the generator's range.
        z_dim: the latent size.
        mask: 1 for known pixels, 0 for unknown; broadcastable to ``x``.
        steps, lr: Adam on z.
        prior: weight of ||z||^2 / z_dim.
        restarts: random starting latents per image; the best is kept.
        seed: seeds the starts.
        progress: show a tqdm bar.
    """
    if steps <= 0 or restarts <= 0:
        raise UserError(f"steps {steps}, restarts {restarts}: both must be positive")
    x = x.detach()
    n = len(x)
    mask = torch.ones_like(x) if mask is None else mask.to(x).expand_as(x)
    known = mask.flatten(1).sum(1).clamp_min(1.0)
    targets, masks, counts = (
        x.repeat(restarts, *[1] * (x.ndim - 1)),
        mask.repeat(restarts, *[1] * (x.ndim - 1)),
        known.repeat(restarts),
    )
    g = torch.Generator().manual_seed(seed)
    # one draw per restart, so that the first starts do not depend on how many follow: more restarts never end worse
    z = torch.cat([torch.randn(n, z_dim, generator=g) for _ in range(restarts)]).to(x.device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)

    def objective(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = decode(z)
        mse = ((out - targets) * masks).pow(2).flatten(1).sum(1) / counts
        return mse + prior * z.pow(2).sum(1) / z_dim, mse

    for _ in tqdm(range(steps), disable=not progress, desc="inverting", leave=False):
        loss, _ = objective(z)
        # the gradient for z alone: G's weights get none (and keep whatever .grad they had). The starts are
        # independent, so summing their losses keeps each one's gradient its own.
        (z.grad,) = torch.autograd.grad(loss.sum(), [z])
        opt.step()
    with torch.no_grad():
        loss, mse = objective(z)
        best = loss.view(restarts, n).argmin(0)
        pick = best * n + torch.arange(n, device=best.device)
        z_best = z.detach()[pick]
        return Inversion(z_best, decode(z_best), loss[pick], mse[pick])


def inpaint(
    decode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, mask: torch.Tensor, z_dim: int, **kwargs
) -> tuple[torch.Tensor, Inversion]:
    """Fill the pixels of ``x`` where ``mask`` is 0 from G: returns (mask * x + (1 - mask) * G(z), the inversion)."""
    inv = invert(decode, x, z_dim, mask=mask, **kwargs)
    mask = mask.to(x).expand_as(x)
    return mask * x + (1 - mask) * inv.reconstruction, inv


def make_mask(kind: str, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """A 1 x C x H x W mask (1 = known) by name: ``center`` (the middle half of each side hidden),
    ``left`` / ``right`` / ``top`` / ``bottom`` (that half hidden), ``random:P`` (each pixel hidden with
    probability P), ``none`` (all known)."""
    if kind == "none":
        return torch.ones(1, *shape)
    if len(shape) != 3:
        raise UserError(
            f"mask '{kind}': masks other than none are for images (C x H x W), not data of shape {tuple(shape)}"
        )
    c, h, w = shape
    mask = torch.ones(1, c, h, w)
    if kind == "center":
        mask[..., h // 4 : h - h // 4, w // 4 : w - w // 4] = 0
    elif kind in ("left", "right", "top", "bottom"):
        region = {
            "left": (slice(None), slice(0, w // 2)),
            "right": (slice(None), slice(w // 2, None)),
            "top": (slice(0, h // 2), slice(None)),
            "bottom": (slice(h // 2, None), slice(None)),
        }[kind]
        mask[..., region[0], region[1]] = 0
    elif kind.startswith("random:"):
        try:
            p = float(kind.split(":", 1)[1])
        except ValueError:
            p = -1.0
        if not 0.0 <= p < 1.0:
            raise UserError(f"mask '{kind}': random:P needs a probability P in [0, 1)")
        hidden = torch.rand(1, 1, h, w, generator=torch.Generator().manual_seed(seed)) < p
        mask = mask.masked_fill(hidden.expand_as(mask), 0.0)
    else:
        raise UserError(f"mask '{kind}': use center, left, right, top, bottom, random:P or none")
    return mask
