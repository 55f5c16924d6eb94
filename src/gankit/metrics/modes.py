"""Mode-collapse metrics on toy data with known modes, with the published definitions.

Following VEEGAN (Srivastava et al. 2017, Sec. 5.1) and PacGAN (Lin et al. 2018, Sec. 4.1, Table 1):

- each sample is assigned to its nearest mode (distance in units of that mode's standard deviation);
- a sample is **high quality** when it lies within 3 standard deviations of its nearest mode;
- **modes captured** = the number of modes that are the nearest mode of at least one high-quality sample;
- **reverse KL** = KL(p_hat || w) = sum_k p_hat_k log(p_hat_k / w_k), where p_hat is the histogram of the
  high-quality samples over the modes (normalised) and w the true mode weights. It is 0 for a perfect
  match and log K for a collapse onto one of K equal modes. With no high-quality sample at all there is no
  histogram; we then report the worst value any histogram can reach, log(1 / min_k w_k).

The published numbers use 2,500 samples per trained model and report the mean and the standard error
over 10 runs (:func:`mean_sem`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

NUM_SAMPLES = 2500  # samples per model, as in PacGAN's Table 1
QUALITY_STDS = 3.0  # "within three standard deviations"


def assign_modes(x: torch.Tensor, means: torch.Tensor, stds: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest mode of each sample and its distance in standard deviations.

    Args:
        x: samples, N x D.
        means: mode means, K x D.
        stds: mode standard deviations, K (isotropic modes).

    Returns:
        (index N of the nearest mode, distance N to it divided by that mode's std).
    """
    x = torch.as_tensor(x, dtype=torch.float64).reshape(len(x), -1)
    means = torch.as_tensor(means, dtype=torch.float64)
    stds = torch.as_tensor(stds, dtype=torch.float64)
    dist = torch.cdist(x, means) / stds  # [N, K] in stds of each mode
    d, k = dist.min(dim=1)
    return k, d


def mode_histogram(x: torch.Tensor, means, stds) -> tuple[torch.Tensor, int]:
    """Counts of high-quality samples per mode (K,), and the number of samples seen."""
    k, d = assign_modes(x, means, stds)
    good = d < QUALITY_STDS
    return torch.bincount(k[good], minlength=len(means)).to(torch.float64), len(x)


def metrics_from_histogram(counts: torch.Tensor, n: int, weights) -> dict[str, float]:
    """Modes captured, fraction of high-quality samples and reverse KL from a mode histogram.

    Args:
        counts: high-quality samples per mode (K,).
        n: all samples, high-quality or not.
        weights: true mode weights (K,).

    Returns:
        ``{"modes": ..., "high_quality": fraction in [0, 1], "reverse_kl": ...}``.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    w = torch.as_tensor(weights, dtype=torch.float64)
    total = counts.sum()
    if total > 0:
        p = counts / total
        nz = p > 0  # 0 log 0 = 0
        rkl = float((p[nz] * (p[nz] / w[nz]).log()).sum())
    else:
        rkl = float(-w.min().log())
    return {"modes": float((counts > 0).sum()), "high_quality": float(total) / max(n, 1), "reverse_kl": rkl}


def mode_metrics(x: torch.Tensor, means, stds, weights) -> dict[str, float]:
    """The three metrics of PacGAN's Table 1 for one set of samples (functional form).

    Example:
        >>> from gankit.data.toy import get_toy
        >>> ring = get_toy("ring")
        >>> m = mode_metrics(ring.sample(2500, seed=0), ring.mode_means, ring.mode_stds, ring.mode_weights)
        >>> m["modes"]
        8.0
    """
    counts, n = mode_histogram(x, means, stds)
    return metrics_from_histogram(counts, n, weights)


def toy_mode_metrics(x: torch.Tensor, toy) -> dict[str, float]:
    """:func:`mode_metrics` against the modes of a :class:`gankit.data.toy.ToyDistribution`."""
    return mode_metrics(x, toy.mode_means, toy.mode_stds, toy.mode_weights)


class ModeCoverage:
    """Streaming mode metrics: ``update`` with batches of samples, ``compute`` the totals, ``reset``."""

    def __init__(self, means, stds, weights):
        self.means = torch.as_tensor(means, dtype=torch.float64)
        self.stds = torch.as_tensor(stds, dtype=torch.float64)
        self.weights = torch.as_tensor(weights, dtype=torch.float64)
        self.reset()

    def reset(self) -> None:
        self.counts = torch.zeros(len(self.means), dtype=torch.float64)
        self.n = 0

    def update(self, x: torch.Tensor) -> None:
        counts, n = mode_histogram(x.detach().cpu(), self.means, self.stds)
        self.counts += counts
        self.n += n

    def compute(self) -> dict[str, float]:
        return metrics_from_histogram(self.counts, self.n, self.weights)


def mean_sem(values) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std / sqrt(n), 0 for a single value)."""
    v = np.asarray(list(values), dtype=np.float64)
    if len(v) == 0:
        return math.nan, math.nan
    sem = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0
    return float(v.mean()), sem
