"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of the squared MMD with
the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3, averaged over random subsets.

The per-subset MMD is torchmetrics' ``poly_mmd`` (the same estimator as the reference code),
evaluated here in float64 on subsets drawn from a seeded generator, so results are reproducible.
"""

from __future__ import annotations

import torch
from torchmetrics.image.kid import poly_mmd


def _t64(x) -> torch.Tensor:
    return x.detach().cpu().double() if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)


def kid(features_a, features_b, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID between two feature sets: mean and standard deviation of the unbiased MMD^2 over subsets.

    Args:
        features_a, features_b: N x D and M x D features.
        subsets: number of random subsets.
        subset_size: samples per subset (capped at min(N, M)).
        seed: seed of the subset draws.

    Returns:
        (mean, std) over subsets; std is the unbiased (N - 1) standard deviation, as in torchmetrics.
    """
    a, b = _t64(features_a), _t64(features_b)
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per side, got {len(a)} and {len(b)}")
    g = torch.Generator().manual_seed(seed)
    vals = []
    for _ in range(subsets):
        ia = torch.randperm(len(a), generator=g)[:m]
        ib = torch.randperm(len(b), generator=g)[:m]
        vals.append(poly_mmd(a[ia], b[ib], degree=3, gamma=None, coef=1.0))
    v = torch.stack(vals)
    return float(v.mean()), float(v.std()) if len(v) > 1 else 0.0


class KID:
    """Streaming KID: keeps the features of both sides (KID needs them all), then :func:`kid`."""

    def __init__(self, subsets: int = 100, subset_size: int = 1000, seed: int = 0):
        self.subsets, self.subset_size, self.seed = subsets, subset_size, seed
        self.reset()

    def reset(self) -> None:
        self._feats: dict[bool, list[torch.Tensor]] = {True: [], False: []}

    def update(self, features, real: bool = False) -> None:
        self._feats[real].append(_t64(features))

    def compute(self) -> tuple[float, float]:
        return kid(
            torch.cat(self._feats[True]), torch.cat(self._feats[False]), self.subsets, self.subset_size, self.seed
        )
