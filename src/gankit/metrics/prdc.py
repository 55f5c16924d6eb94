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
    mode = "donot_use_mm_for_euclid_dist" if len(a) * len(b) < 4_000_000 else "use_mm_for_euclid_dist"
    return torch.cdist(a.double(), b.double(), compute_mode=mode)


def _radii(x: torch.Tensor, ks: tuple[int, ...], chunk: int = 1024) -> list[torch.Tensor]:
    """For each k of ``ks``: the distance of each row of ``x`` to its k-th nearest neighbour among the other rows."""
    if len(x) <= max(ks):
        raise ValueError(f"need more than k={max(ks)} points, got {len(x)}")
    out: list[list[torch.Tensor]] = [[] for _ in ks]
    for i in range(0, len(x), chunk):
        # sorted ascending; column 0 is the point itself (distance 0), column k its k-th neighbour
        d = _cdist(x[i : i + chunk], x).topk(max(ks) + 1, dim=1, largest=False).values
        for o, k in zip(out, ks):
            o.append(d[:, k])
    return [torch.cat(o) for o in out]


def knn_radii(x: torch.Tensor, k: int, chunk: int = 1024) -> torch.Tensor:
    """Distance of each row of ``x`` to its k-th nearest neighbour among the other rows."""
    return _radii(x, (k,), chunk)[0]


def precision_recall(real_features, fake_features, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): :func:`prdc` with ``k_pr=k`` only.

    Args:
        real_features, fake_features: N x D and M x D features, as for :func:`prdc`.
        k: neighbourhood size of the manifold radii of both sets.

    Returns:
        (precision, recall), each in [0, 1].
    """
    r = prdc(real_features, fake_features, k_pr=k, k_dc=None)
    return r["precision"], r["recall"]


def density_coverage(real_features, fake_features, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020): :func:`prdc` with ``k_dc=k`` only.

    Args:
        real_features, fake_features: as for :func:`prdc`; only the real points get balls.
        k: neighbourhood size of the real balls.

    Returns:
        (density, coverage): density is about 1 when the two sets match and may exceed 1; coverage is in [0, 1].
    """
    r = prdc(real_features, fake_features, k_pr=None, k_dc=k)
    return r["density"], r["coverage"]


def prdc(
    real_features, fake_features, k_pr: int | None = 3, k_dc: int | None = 5, chunk: int = 1024
) -> dict[str, float]:
    """Precision, recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) in one go.

    Chunked passes over the distance matrices; all four share the real-real, fake-fake and real-fake distances
    (the costly part on 10,000 x 10,000), so asking for both pairs costs about as much as asking for one.

    Args:
        real_features: N x D features of real images.
        fake_features: M x D features of generated images.
        k_pr: neighbourhood size of precision/recall (None: leave them out).
        k_dc: neighbourhood size of density/coverage (None: leave them out).
        chunk: rows of a distance matrix held at once (memory O(chunk x N)).

    Returns:
        ``precision`` and ``recall`` (when ``k_pr``), ``density`` and ``coverage`` (when ``k_dc``).
    """
    real, fake = _t(real_features), _t(fake_features)
    ks = tuple(k for k in (k_pr, k_dc) if k is not None)
    if not ks:
        raise ValueError("prdc: give k_pr, k_dc or both")
    real_radii = dict(zip(ks, _radii(real, ks, chunk)))
    fake_pr = _radii(fake, (k_pr,), chunk)[0] if k_pr is not None else None  # only recall needs fake balls
    in_real_pr = torch.zeros(len(fake), dtype=torch.bool)  # fake j inside some real ball (k_pr)
    in_real_dc = torch.zeros(len(fake), dtype=torch.float64)  # number of real balls (k_dc) holding fake j
    real_in_fake = torch.zeros(len(real), dtype=torch.bool)  # real i inside some fake ball (k_pr)
    covered = torch.zeros(len(real), dtype=torch.bool)  # real ball i (k_dc) holds some fake
    for i in range(0, len(real), chunk):
        d = _cdist(real[i : i + chunk], fake)  # rows: real i, cols: fake j
        if k_pr is not None:
            in_real_pr |= (d <= real_radii[k_pr][i : i + chunk, None]).any(0)
            assert fake_pr is not None  # computed when k_pr is given
            real_in_fake[i : i + chunk] = (d <= fake_pr[None, :]).any(1)
        if k_dc is not None:
            hits = d <= real_radii[k_dc][i : i + chunk, None]
            in_real_dc += hits.sum(0)
            # coverage: real i is covered when its nearest fake point lies within its radius
            covered[i : i + chunk] = hits.any(1)
    out: dict[str, float] = {}
    if k_pr is not None:
        out.update(precision=float(in_real_pr.double().mean()), recall=float(real_in_fake.double().mean()))
    if k_dc is not None:
        out.update(density=float(in_real_dc.sum() / (k_dc * len(fake))), coverage=float(covered.double().mean()))
    return out
