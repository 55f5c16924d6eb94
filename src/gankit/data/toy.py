"""Toy distributions with known densities and modes: the lab's ground truth.

Every toy is a mixture of isotropic Gaussians, so its density, its sampler and its modes are exact:

- ``ring``: 8 Gaussians with means (cos(2 pi i / 8), sin(2 pi i / 8)), i = 0..7 (radius 1), standard
  deviation 0.01 (variance 1e-4) and equal weights 1/8.
- ``grid``: 25 Gaussians with means {-4, -2, 0, 2, 4}^2, standard deviation 0.05 (variance 0.0025) and
  equal weights 1/25.
  Both as in the synthetic experiments of Lin, Khetan, Fanti & Oh 2018, "PacGAN: The power of two
  samples in generative adversarial networks", Sec. 4.1 and Table 1 (the values are those of the
  authors' code, fjxmlzn/PacGAN, synthetic_data_experiments/2D{Ring,Grid}_GAN&PacGAN/config.py).
- ``mog-1d``: a 1-D mixture 0.3 N(-2, 0.5^2) + 0.5 N(1, 0.7^2) + 0.2 N(3.5, 0.4^2) (the lab's default).
- ``bimodal-1d``: 0.5 N(-2, 0.5^2) + 0.5 N(2, 0.5^2).
- ``moons`` and ``spiral``: a curve blurred by Gaussian noise (std 0.05). The curve is discretised
  into 1,000 equally weighted points, so the toy *is* a 1,000-component mixture: sampling and density
  agree exactly. Their ``modes`` are the two moons / the one arm (for plots; the mode metrics are
  meant for ``ring`` and ``grid``).

``load_dataset("ring", split="train")`` gives a :class:`gankit.data.TensorData` with ``x`` of shape
N x D (float32, *not* scaled to [-1, 1]): 100,000 training points as in PacGAN, 10,000 test points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from gankit.data.base import TensorData, register
from gankit.errors import UserError

SPLIT_SIZES = {"train": 100_000, "test": 10_000}
SPLIT_SEEDS = {"train": 0, "test": 1}


@dataclass(frozen=True)
class ToyDistribution:
    """A mixture of isotropic Gaussians: sum_k w_k N(mu_k, s_k^2 I).

    Attributes:
        name: the registry name.
        means: K x D component means.
        stds: K component standard deviations.
        weights: K mixture weights (sum 1).
        mode_means, mode_stds, mode_weights: the modes the mode metrics count (for the Gaussian mixture
            toys the components themselves).
    """

    name: str
    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    mode_means: np.ndarray
    mode_stds: np.ndarray
    mode_weights: np.ndarray

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def num_modes(self) -> int:
        return self.mode_means.shape[0]

    def sample(self, n: int, seed: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` i.i.d. points (float32, n x D): pick a component by its weight, add its Gaussian noise."""
        g = generator if generator is not None else torch.Generator().manual_seed(0 if seed is None else seed)
        k = torch.multinomial(torch.as_tensor(self.weights, dtype=torch.float64), n, replacement=True, generator=g)
        eps = torch.randn(n, self.dim, generator=g, dtype=torch.float64)
        means = torch.as_tensor(self.means, dtype=torch.float64)
        stds = torch.as_tensor(self.stds, dtype=torch.float64)
        return (means[k] + stds[k, None] * eps).float()

    def log_density(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """log p(x) for points x (N x D, or N for 1-D toys), in float64, by log-sum-exp over components."""
        x = torch.as_tensor(x, dtype=torch.float64)
        x = x.reshape(-1, self.dim)
        means = torch.as_tensor(self.means, dtype=torch.float64)  # [K, D]
        stds = torch.as_tensor(self.stds, dtype=torch.float64)  # [K]
        out = []
        for xb in x.split(4096):  # [B, K] blocks keep memory bounded for the 1,000-component curves
            sq = torch.cdist(xb, means).square()  # [B, K]
            log_norm = -self.dim * (torch.log(stds) + 0.5 * math.log(2 * math.pi))
            log_comp = (
                log_norm - 0.5 * sq / stds.square() + torch.log(torch.as_tensor(self.weights, dtype=torch.float64))
            )
            out.append(torch.logsumexp(log_comp, dim=1))
        return torch.cat(out)

    def density(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """p(x), float64."""
        return self.log_density(x).exp()

    def dataset(self, split: str = "train") -> TensorData:
        """The fixed sample behind ``load_dataset(name, split)``."""
        if split not in SPLIT_SIZES:
            raise UserError(f"data.split={split}: toy datasets have the splits train and test")
        return TensorData(x=self.sample(SPLIT_SIZES[split], seed=SPLIT_SEEDS[split]), name=self.name)


def _mixture(name: str, means, stds, weights=None) -> ToyDistribution:
    means = np.asarray(means, dtype=np.float64).reshape(len(means), -1)
    stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), (len(means),)).copy()
    w = np.full(len(means), 1.0 / len(means)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    return ToyDistribution(name, means, stds, w, means, stds, w)


def _curve(name: str, points: np.ndarray, std: float, mode_of_point: np.ndarray) -> ToyDistribution:
    """A curve given by equally weighted points, blurred by N(0, std^2 I); modes = point groups."""
    k = len(points)
    groups = np.unique(mode_of_point)
    mode_means = np.stack([points[mode_of_point == g].mean(0) for g in groups])
    mode_weights = np.array([(mode_of_point == g).mean() for g in groups])
    # A curve's "mode" is spread out: its std is the spread of its points around their mean.
    mode_stds = np.array(
        [
            np.sqrt(((points[mode_of_point == g] - m) ** 2).sum(1).mean() / 2 + std**2)
            for g, m in zip(groups, mode_means)
        ]
    )
    return ToyDistribution(name, points, np.full(k, std), np.full(k, 1.0 / k), mode_means, mode_stds, mode_weights)


# ---------------------------------------------------------------- the registry of toys

TOYS: dict[str, Callable[[], ToyDistribution]] = {}


def register_toy(name: str):
    """Register a toy under ``name`` both here and as a dataset name (``data.name: NAME``)."""

    def deco(fn: Callable[[], ToyDistribution]):
        TOYS[name] = fn

        @register(name)
        def _load(
            split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
        ) -> TensorData:
            if img_size is not None or channels is not None:
                raise UserError(
                    f"data.name={name} is a toy (points, not images): leave data.img_size and data.channels unset"
                )
            return fn().dataset(split)

        return fn

    return deco


def get_toy(name: str) -> ToyDistribution:
    """The toy distribution called ``name`` (``ring``, ``grid``, ``mog-1d``, ...)."""
    if name not in TOYS:
        raise UserError(f"unknown toy distribution '{name}' (known: {', '.join(sorted(TOYS))})")
    return TOYS[name]()


@register_toy("ring")
def ring() -> ToyDistribution:
    """PacGAN's 2D-ring: 8 modes on the unit circle, std 0.01, equal weights (Lin et al. 2018)."""
    angles = 2 * np.pi * np.arange(8) / 8
    return _mixture("ring", np.stack([np.cos(angles), np.sin(angles)], 1), 0.01)


@register_toy("grid")
def grid() -> ToyDistribution:
    """PacGAN's 2D-grid: 25 modes at {-4,-2,0,2,4}^2, std 0.05, equal weights (Lin et al. 2018)."""
    axis = np.arange(-4, 5, 2, dtype=np.float64)
    return _mixture("grid", np.array([(i, j) for i in axis for j in axis]), 0.05)


@register_toy("mog-1d")
def mog_1d() -> ToyDistribution:
    """An asymmetric 1-D mixture of three Gaussians (the optimal-D and JSD experiments' data)."""
    return _mixture("mog-1d", [[-2.0], [1.0], [3.5]], [0.5, 0.7, 0.4], [0.3, 0.5, 0.2])


@register_toy("bimodal-1d")
def bimodal_1d() -> ToyDistribution:
    """Two well separated 1-D Gaussians: the smallest picture of mode collapse."""
    return _mixture("bimodal-1d", [[-2.0], [2.0]], 0.5)


@register_toy("moons")
def moons() -> ToyDistribution:
    """Two interleaving half circles (as scikit-learn's make_moons draws them) blurred by std 0.05."""
    t = np.linspace(0, np.pi, 500)
    upper = np.stack([np.cos(t), np.sin(t)], 1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    return _curve("moons", np.concatenate([upper, lower]), 0.05, np.repeat([0, 1], 500))


@register_toy("spiral")
def spiral() -> ToyDistribution:
    """An Archimedean spiral r = theta / (2 pi) for theta in [pi/2, 4 pi] (two turns), blurred by std 0.05."""
    theta = np.linspace(np.pi / 2, 4 * np.pi, 1000)
    r = theta / (2 * np.pi)
    return _curve("spiral", np.stack([r * np.cos(theta), r * np.sin(theta)], 1), 0.05, np.zeros(1000, dtype=int))
