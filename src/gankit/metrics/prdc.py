"""Manifold-based fidelity and diversity on features:

* improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of
  balls around its points with radius the distance to the k-th nearest neighbour (k = 3);
  precision = share of fake points inside the real manifold, recall = share of real points inside
  the fake manifold;
* density and coverage (Naeem et al. 2020, k = 5): density = (1 / kM) sum_j #{i : fake_j in B(real_i)},
  coverage = share of real balls B(real_i) holding at least one fake point.

Distances are Euclidean, computed in chunks so memory stays O(chunk x N).
"""

from __future__ import annotations

import torch


def _t(x) -> torch.Tensor:
    return x.detach().cpu().float() if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float32)


def _cdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # float64 for the distances themselves: ties at the radius (a point on its own ball's edge) must be exact
    return torch.cdist(a.double(), b.double(), compute_mode="donot_use_mm_for_euclid_dist" if len(a) * len(b) < 4_000_000 else "use_mm_for_euclid_dist")


def knn_radii(x: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Distance of each row of ``x`` to its k-th nearest neighbour among the other rows."""
    if len(x) <= k:
        raise ValueError(f"need more than k={k} points, got {len(x)}")
    out = []
    for i in range(0, len(x), chunk):
        d = _cdist(x[i : i + chunk], x)
        out.append(d.kthvalue(k + 1, dim=1).values)  # the 1st smallest is the point itself (0)
    return torch.cat(out)


def _inside_counts(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """For each query, the number of balls B(centre_i, radius_i) that contain it."""
    counts = []
    for i in range(0, len(queries), chunk):
        d = _cdist(queries[i : i + chunk], centres)
        counts.append((d <= radii[None, :]).sum(1))
    return torch.cat(counts)


def precision_recall(real_features, fake_features, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Args:
        real_features: N x D features of real images.
        fake_features: M x D features of generated images.
        k: neighbourhood size for the manifold radii.

    Returns:
        (precision, recall), each in [0, 1].
    """
    real, fake = _t(real_features), _t(fake_features)
    precision = (_inside_counts(fake, real, knn_radii(real, k)) > 0).double().mean()
    recall = (_inside_counts(real, fake, knn_radii(fake, k)) > 0).double().mean()
    return float(precision), float(recall)


def density_coverage(real_features, fake_features, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020).

    Args:
        real_features: N x D features of real images.
        fake_features: M x D features of generated images.
        k: neighbourhood size for the real balls.

    Returns:
        (density, coverage); density is about 1 when the two sets match and may exceed 1,
        coverage lies in [0, 1].
    """
    real, fake = _t(real_features), _t(fake_features)
    radii = knn_radii(real, k)
    density = _inside_counts(fake, real, radii).double().sum() / (k * len(fake))
    # coverage: real i is covered when its nearest fake point lies within its radius
    nearest = torch.cat([_cdist(real[i : i + 1024], fake).min(1).values for i in range(0, len(real), 1024)])
    coverage = (nearest <= radii).double().mean()
    return float(density), float(coverage)


def prdc(real_features, fake_features, k_pr: int = 3, k_dc: int = 5, chunk: int = 1024) -> dict[str, float]:
    """Precision, recall, density and coverage in three chunked passes over the distance matrices.

    Same numbers as :func:`precision_recall` (k = ``k_pr``) and :func:`density_coverage` (k = ``k_dc``),
    sharing the real-real, fake-fake and real-fake distances (the costly part on 10,000 x 10,000).
    """
    real, fake = _t(real_features), _t(fake_features)

    def radii(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r_pr, r_dc = [], []
        for i in range(0, len(x), chunk):
            d = _cdist(x[i : i + chunk], x).topk(max(k_pr, k_dc) + 1, dim=1, largest=False).values
            r_pr.append(d[:, k_pr])
            r_dc.append(d[:, k_dc])
        return torch.cat(r_pr), torch.cat(r_dc)

    real_pr, real_dc = radii(real)
    fake_pr, _ = radii(fake)
    in_real_pr = torch.zeros(len(fake), dtype=torch.bool)  # fake j inside some real ball (k_pr)
    in_real_dc = torch.zeros(len(fake), dtype=torch.float64)  # number of real balls (k_dc) holding fake j
    real_in_fake = torch.zeros(len(real), dtype=torch.bool)  # real i inside some fake ball (k_pr)
    covered = torch.zeros(len(real), dtype=torch.bool)  # real ball i (k_dc) holds some fake
    for i in range(0, len(real), chunk):
        d = _cdist(real[i : i + chunk], fake)  # rows: real i, cols: fake j
        in_real_pr |= (d <= real_pr[i : i + chunk, None]).any(0)
        hits = d <= real_dc[i : i + chunk, None]
        in_real_dc += hits.sum(0)
        covered[i : i + chunk] = hits.any(1)
        real_in_fake[i : i + chunk] = (d <= fake_pr[None, :]).any(1)
    return {
        "precision": float(in_real_pr.double().mean()),
        "recall": float(real_in_fake.double().mean()),
        "density": float(in_real_dc.sum() / (k_dc * len(fake))),
        "coverage": float(covered.double().mean()),
    }
