"""Jacobian-based truncation (JBT; Tanielian, Issenhuth, Dohmatob & Mary, ICML 2020, "Learning
disconnected manifolds: a no GAN's land").

A generator is a continuous map of a connected latent space, so when the data lies on disconnected pieces
(the 25 modes of PacGAN's grid) G must send some latent mass onto the gaps between them: the bridges of
off-manifold samples that the mode metrics count as low quality. Where G crosses a gap it stretches the
latent space most, so the Frobenius norm of its Jacobian ||dG/dz||_F is largest there (the paper bounds the
mass a G of a given Lipschitz constant must put in the gaps). JBT draws more latents than it needs and
keeps those where the norm is smallest: a sampling-time method, with no retraining and no discriminator.

Written by hand: no library implements it for PyTorch generators. The norm comes from forward-mode
Jacobian-vector products (``torch.func.jvp``): ||J||_F^2 = sum_i ||J e_i||^2 over the latent basis (exact,
z_dim products), or its unbiased estimate E_v ||J v||^2 with v ~ N(0, I) from ``probes`` random directions
(for the 100-d latents of image generators).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from gankit.errors import UserError


def jacobian_norms(
    sample: Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor,
    probes: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """||dG/dz||_F at each latent of ``z`` (N x z_dim) for a per-sample map ``sample`` (e.g. ``method.sample``).

    Args:
        sample: z -> x, acting on each row independently (a generator in eval mode).
        z: the latents, N x z_dim.
        probes: None for the exact norm (one product per latent coordinate); else the number of random
            Gaussian directions of the unbiased estimate of ||J||_F^2.
        generator: seeds the random directions.

    Returns:
        The N norms (float32, on ``z``'s device).
    """
    n, dim = z.shape
    if probes is None:
        directions = [e.expand(n, dim) for e in torch.eye(dim, dtype=z.dtype, device=z.device)]
    else:
        if probes <= 0:
            raise UserError(f"probes {probes}: the number of random directions must be positive")
        directions = [torch.randn(z.shape, generator=generator).to(z) for _ in range(probes)]
    squared = torch.zeros(n, device=z.device)
    for v in directions:
        jv = torch.func.jvp(sample, (z,), (v,))[1]  # (G(z), J v)
        squared += jv.reshape(n, -1).pow(2).sum(1)
    if probes is not None:
        squared /= probes
    return squared.sqrt()


def truncated_latents(
    sample: Callable[[torch.Tensor], torch.Tensor],
    n: int,
    z_dim: int,
    ratio: float,
    seed: int = 0,
    device: str | torch.device = "cpu",
    probes: int | None = None,
    chunk: int = 1024,
) -> torch.Tensor:
    """``n`` latents of JBT: of ceil(n / (1 - ratio)) standard normal candidates, the ``n`` where
    ``sample``'s Jacobian norm is smallest (the ``ratio`` fraction with the largest norms is dropped).

    Reproducible by ``seed``; returned in the candidates' order.
    """
    if not 0.0 <= ratio < 1.0:
        raise UserError(f"jacobian truncation ratio {ratio}: must be in [0, 1)")
    g = torch.Generator().manual_seed(seed)
    candidates = torch.randn(math.ceil(n / (1.0 - ratio)), z_dim, generator=g)
    if ratio == 0.0:
        return candidates[:n].to(device)
    norms = torch.cat([jacobian_norms(sample, zb.to(device), probes, g).cpu() for zb in candidates.split(chunk)])
    keep = norms.argsort()[:n].sort().values
    return candidates[keep].to(device)
