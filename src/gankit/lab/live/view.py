"""What the live page shows of a run, computed from the run's own networks and loss.

- samples: real points of the toy, and G(z) for a latent batch fixed by the seed (the same z for the whole run,
  and after reopening it), so the points a viewer follows are the same points from frame to frame;
- D's output on a grid over the view, as a heat map: D(x) = sigmoid(logit) for the losses whose D is a
  probability, the raw output clipped to [0, 1] for LSGAN (labels 0 and 1), and the critic's output scaled to
  [0, 1] over the grid for WGAN and hinge, whose D is not a probability;
- G's gradient on the fake points: -dJ_G/dx at x = G(z), the direction the generator's loss pushes each sample
  (Goodfellow et al. 2014: G learns through D's gradient at its samples);
- PacGAN's mode metrics (:mod:`gankit.metrics.modes`) on 2,500 samples, and GAN Lab's grid-binned estimates
  of KL(p_data || p_g) and JS(p_data, p_g) (Kahng et al. 2019, "GAN Lab: Understanding complex deep generative
  models using interactive visual experimentation", IEEE TVCG 25(1)).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from gankit.data.toy import ToyDistribution, get_toy
from gankit.lab.live.session import LiveSession
from gankit.losses import LOSSES
from gankit.metrics.modes import NUM_SAMPLES, toy_mode_metrics
from gankit.nets.pack import PackedDiscriminator

SHOWN = 500  # real and fake points drawn
ARROWS = 200  # fake points that carry a gradient arrow (divisible by every pack size)
HEAT = {1: (160, 1), 2: (48, 48)}  # heat-map cells (x, y) for 1-D and 2-D toys
BINS = {1: 50, 2: 20}  # cells per axis of the binned KL/JS
PROBABILITY = ("minimax", "non-saturating", "relativistic-average")  # losses whose D(x) = sigmoid(logit)


def bounds(toy: ToyDistribution) -> tuple[list[float], list[float]]:
    """The view box: the modes plus 3 standard deviations and a margin; square for 2-D toys."""
    means = torch.as_tensor(toy.means)
    pad = 3 * float(toy.stds.max())
    lo, hi = means.min(0).values - pad, means.max(0).values + pad
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 * 1.2
    return (centre - half).tolist(), (centre + half).tolist()


def binned_divergences(real: torch.Tensor, fake: torch.Tensor, lo, hi, bins: int, eps: float = 1e-4) -> dict:
    """GAN Lab's grid estimates of KL(p_data || p_g) and JS(p_data, p_g), in bits.

    Each axis of the box [lo, hi] is cut into ``bins`` cells (points outside go to the edge cells); p and q are
    the fractions of real and fake points per cell, and ``eps`` is added to every cell before the logarithm,
    as GAN Lab does, so that empty cells give finite values:

        KL = sum_c (p_c + eps) log2((p_c + eps) / (q_c + eps))
        JS = 1/2 sum_c (p_c + eps) log2((p_c + eps) / (m_c + eps)) + (q_c + eps) log2((q_c + eps) / (m_c + eps)),
             m = (p + q) / 2.

    Both are 0 for identical histograms; JS is at most about 1 bit (disjoint supports).
    """
    lo_t, hi_t = torch.as_tensor(lo, dtype=torch.float64), torch.as_tensor(hi, dtype=torch.float64)

    def histogram(x: torch.Tensor) -> torch.Tensor:
        cell = ((x.double().reshape(len(x), -1) - lo_t) / (hi_t - lo_t) * bins).floor().clamp(0, bins - 1).long()
        index = cell[:, 0] + (bins * cell[:, 1] if cell.shape[1] > 1 else 0)  # [N] flat cell index
        return torch.bincount(index, minlength=bins ** cell.shape[1]).double() / len(x)

    def kl2(a: torch.Tensor, b: torch.Tensor) -> float:  # sum a log2(a / b), with 0 log 0 = 0
        return float(torch.where(a > 0, a * (a / b).log2(), 0.0).sum())

    p, q = histogram(real), histogram(fake)
    m = (p + q) / 2
    return {"kl": kl2(p + eps, q + eps), "js": 0.5 * (kl2(p + eps, m + eps) + kl2(q + eps, m + eps))}


def _grid(lo, hi, dim: int) -> torch.Tensor:
    nx, ny = HEAT[dim]
    xs = torch.linspace(lo[0], hi[0], nx)
    if dim == 1:
        return xs[:, None]
    ys = torch.linspace(lo[1], hi[1], ny)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # row-major from the bottom row (y = lo) up
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)


def _d(method, x: torch.Tensor) -> torch.Tensor:
    """D's logits on single points: under PacGAN a pack of copies of each point (D judges packs)."""
    if isinstance(method.D, PackedDiscriminator):
        return method.D(x.repeat_interleave(method.D.m, 0))
    return method.D(x)


@torch.no_grad()
def d_surface(method, loss: str, grid: torch.Tensor) -> tuple[list[int], str]:
    """D's output on ``grid`` quantised to 0..255, and what the values mean (see the module docstring)."""
    out = _d(method, grid).double()
    if loss in PROBABILITY:
        v, kind = torch.sigmoid(out), "D(x) = probability that x is real"
    elif loss == "lsgan":
        v, kind = out.clamp(0, 1), "D(x), least squares (real 1, fake 0)"
    else:
        span = (out.max() - out.min()).clamp_min(1e-12)
        v, kind = (out - out.min()) / span, "critic D(x), scaled to the grid's range"
    v = torch.nan_to_num(v, nan=0.5)
    return (v * 255).round().int().tolist(), kind


def g_gradients(method, loss: str, z: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    """-dJ_G/dx at x = G(z) for each fake point (the loss summed over the batch, so each point gets its own)."""
    gan_loss = LOSSES[loss]
    with torch.no_grad():
        x = method.sample(z)
    x.requires_grad_(True)
    with torch.enable_grad():
        fake_logits = method.D(x)
        real_logits = method.D(x_real) if gan_loss.g_uses_real else None
        j = gan_loss.g(fake_logits, real_logits) * len(fake_logits)
        (grad,) = torch.autograd.grad(j, x)
    return -grad.detach()


def _flat(x: torch.Tensor, digits: int = 4) -> list[float]:
    x = torch.nan_to_num(x.detach().double(), nan=0.0, posinf=1e6, neginf=-1e6)
    return [round(v, digits) for v in x.reshape(-1).tolist()]


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


class View:
    """The fixed parts of a run's view (toy, box, latent batch, real points) and the frames built on them."""

    def __init__(self, session: LiveSession):
        p = session.params
        self.run_id, self.toy = session.run_id, get_toy(p.toy)
        self.dim = self.toy.dim
        self.lo, self.hi = bounds(self.toy)
        gen = torch.Generator().manual_seed(p.seed + 424_242)  # the page's own z: the run's RNG is not touched
        self.z = torch.randn(NUM_SAMPLES, session.method.z_dim, generator=gen)
        self.real = self.toy.sample(NUM_SAMPLES, seed=p.seed + 1)
        self.grid = _grid(self.lo, self.hi, self.dim)

    def describe(self) -> dict[str, Any]:
        """What stays the same for the whole run (sent once per run)."""
        return {
            "type": "run",
            "run_id": self.run_id,
            "toy": self.toy.name,
            "dim": self.dim,
            "lo": self.lo,
            "hi": self.hi,
            "real": _flat(self.real[:SHOWN]),
            "modes": _flat(torch.as_tensor(self.toy.mode_means)),
            "num_modes": self.toy.num_modes,
            "heat_cells": list(HEAT[self.dim]),
        }

    def frame(self, session: LiveSession) -> dict[str, Any]:
        """The run now: step, parameters, samples, D's surface, G's gradients, the metrics."""
        method, loss = session.method, session.params.loss
        with torch.random.fork_rng(devices=[]):  # minibatch discrimination and the like draw nothing, but be sure
            fake = method.sample(self.z)
            heat, kind = d_surface(method, loss, self.grid)
            grad = g_gradients(method, loss, self.z[:ARROWS], self.real[:ARROWS])
        metrics = toy_mode_metrics(fake, self.toy) | binned_divergences(
            self.real, fake, self.lo, self.hi, BINS[self.dim]
        )
        last = session.rows[-1] if session.rows else {}
        return {
            "type": "frame",
            "run_id": self.run_id,
            "step": session.step,
            "params": session.params.model_dump(),
            "fake": _flat(fake[:SHOWN]),
            "grad": _flat(grad, 5),
            "heat": heat,
            "heat_kind": kind,
            "metrics": {k: _finite(float(v)) for k, v in metrics.items()},
            "d_real": _finite(float(last.get("d_real", math.nan))),
            "d_fake": _finite(float(last.get("d_fake", math.nan))),
            "saved_to": str(session.saved_to) if session.saved_to else None,
        }
