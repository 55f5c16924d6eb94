"""Walking a generator's latent space: interpolation and vector arithmetic.

- **Interpolation** between two latents shows whether G has learned a smooth map (Radford, Metz & Chintala
  2016, "Unsupervised representation learning with DCGANs", sec. 6.1: "walking in the latent space"
  without sharp transitions is evidence against memorisation). ``lerp`` is the straight line; ``slerp``
  follows the great circle (White 2016, "Sampling generative networks"). For z ~ N(0, I_d), ||z|| lies near
  sqrt(d), and the linear midpoint of two independent draws has norm near sqrt(d / 2): for d = 100, a
  shell G never saw in training. Slerp keeps the norm.
- **Vector arithmetic** with averaged latents (Radford et al. 2016, sec. 6.3.2): the mean z of a few
  samples showing one concept (e.g. three "smiling woman" samples) is more stable than a single z, and
  mean(A) - mean(B) + mean(C) carries the difference between A and B over to C.
"""

from __future__ import annotations

import torch

from gankit.errors import UserError

MODES = ("slerp", "lerp")


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """(1 - t) z0 + t z1; ``t`` broadcasts (e.g. T x 1 against z_dim vectors gives T points)."""
    return torch.lerp(z0, z1, torch.as_tensor(t, dtype=z0.dtype, device=z0.device))


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor | float, eps: float = 1e-6) -> torch.Tensor:
    """Spherical interpolation along the great circle from z0 to z1 (last dimension is the vector):
    sin((1 - t) w) / sin w * z0 + sin(t w) / sin w * z1 with w the angle between them (Shoemake 1985).
    Nearly parallel vectors (sin w < ``eps``) fall back to the straight line."""
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True)).clamp_min(
        eps
    )
    omega = torch.acos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    parallel = sin < eps
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    spherical = torch.sin((1 - t) * omega) / safe * z0 + torch.sin(t * omega) / safe * z1
    return torch.where(parallel, lerp(z0, z1, t), spherical)


def interpolation_latents(rows: int, steps: int, z_dim: int, mode: str = "slerp", seed: int = 0) -> torch.Tensor:
    """``rows`` interpolations of ``steps`` latents each, between pairs of N(0, I) draws (reproducible by
    ``seed``); returned row after row, as a (rows * steps) x z_dim tensor whose row r starts at z_r and ends
    at z'_r."""
    if rows <= 0 or steps < 2:
        raise UserError(f"rows {rows}, steps {steps}: need at least 1 row and 2 steps")
    if mode not in MODES:
        raise UserError(f"interpolation mode '{mode}': use one of {', '.join(MODES)}")
    g = torch.Generator().manual_seed(seed)
    ends = torch.randn(2, rows, 1, z_dim, generator=g)
    t = torch.linspace(0.0, 1.0, steps).view(1, steps, 1)
    path = (slerp if mode == "slerp" else lerp)(ends[0], ends[1], t)
    return path.reshape(rows * steps, z_dim)


def latent_arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(a) - mean(b) + mean(c) over the rows of three groups of latents (each K x z_dim): the concept
    that separates A from B, added to C (Radford et al. 2016, sec. 6.3.2)."""
    for name, group in (("a", a), ("b", b), ("c", c)):
        if group.ndim != 2 or len(group) == 0:
            raise UserError(
                f"latent group {name}: expected a non-empty K x z_dim tensor, got shape {tuple(group.shape)}"
            )
    return a.mean(0) - b.mean(0) + c.mean(0)
