"""Precision/recall, density/coverage, class coverage and memorisation against hand values."""

import math

import pytest
import torch

from gankit.metrics.classes import ClassCoverageMetric, class_coverage
from gankit.metrics.memorisation import fraction_closer, memorisation, nearest
from gankit.metrics.prdc import density_coverage, knn_radii, prdc, precision_recall


def _points(n=200, d=5, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def test_precision_recall_of_a_set_with_itself_and_far_apart_sets():
    x = _points()
    assert precision_recall(x, x) == (1.0, 1.0)
    assert precision_recall(x, x + 100.0) == (0.0, 0.0)
    assert density_coverage(x, x + 100.0) == (0.0, 0.0)


def test_density_of_a_set_with_itself_is_one_by_counting():
    # In a set with itself every real ball B(x_i, r_i) (r_i: distance to the 5th neighbour) holds exactly
    # x_i and its 5 nearest neighbours (no ties in continuous data): 6 hits per ball, density 6/5.
    x = _points(150, 3, seed=1)
    d, c = density_coverage(x, x, k=5)
    assert d == pytest.approx(6 / 5, rel=1e-12)
    assert c == 1.0


def test_hand_example_1d():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])
    fake = torch.tensor([[0.5], [10.0]])
    # k = 1: real radii 1,1,1,1 -> fake 0.5 inside, 10 outside -> precision 1/2;
    # fake radii: 9.5 each -> every real point within 9.5 of 10 or 0.5 -> recall 1
    assert precision_recall(real, fake, k=1) == (0.5, 1.0)
    assert knn_radii(real, 2).tolist() == [2.0, 1.0, 1.0, 2.0]


def _brute_force(real, fake, k_pr=3, k_dc=5):
    """The papers' definitions on the full distance matrices, no chunks, no shared passes."""
    rr, ff, rf = (torch.cdist(a.double(), b.double()) for a, b in ((real, real), (fake, fake), (real, fake)))
    r_pr, r_dc = rr.sort(1).values[:, k_pr], rr.sort(1).values[:, k_dc]  # column 0: the point itself
    f_pr = ff.sort(1).values[:, k_pr]
    return {
        "precision": float((rf <= r_pr[:, None]).any(0).double().mean()),
        "recall": float((rf <= f_pr[None, :]).any(1).double().mean()),
        "density": float((rf <= r_dc[:, None]).double().sum() / (k_dc * len(fake))),
        "coverage": float((rf.min(1).values <= r_dc).double().mean()),
    }


def test_prdc_and_its_two_views_match_the_definitions():
    real, fake = _points(300, 4, 2), _points(250, 4, 3) * 1.3 + 0.2
    want = _brute_force(real, fake)
    r = prdc(real, fake, chunk=64)
    assert r == pytest.approx(want, rel=1e-12)
    p, rec = precision_recall(real, fake, k=3)
    d, c = density_coverage(real, fake, k=5)
    assert (r["precision"], r["recall"], r["density"], r["coverage"]) == (p, rec, d, c)
    assert prdc(real, fake, k_pr=None) == {"density": d, "coverage": c}


def test_class_coverage_hand_values():
    probs = torch.eye(4)[[0, 0, 1, 1]]  # half class 0, half class 1, none of 2 and 3
    cov = class_coverage(probs)
    assert cov.histogram == [0.5, 0.5, 0.0, 0.0]
    assert cov.classes_hit == 2
    assert cov.entropy == pytest.approx(math.log(2))
    assert cov.kl_to_data == pytest.approx(math.log(2))  # log(0.5 / 0.25)
    collapsed = class_coverage(torch.eye(4)[[3, 3, 3]])
    assert (collapsed.classes_hit, collapsed.entropy, collapsed.kl_to_data) == (1, 0.0, pytest.approx(math.log(4)))
    m = ClassCoverageMetric(4)
    m.update(probs[:1])
    m.update(probs[1:])
    assert m.compute() == cov


def test_nearest_neighbours_and_fraction_closer(tmp_path):
    train = torch.linspace(-1, 1, 50).reshape(50, 1, 1, 1).expand(50, 1, 2, 2).contiguous()
    d, i = nearest(train[[3, 7]], train, k=1)
    assert i[:, 0].tolist() == [3, 7] and d.abs().max() < 1e-3
    d, i = nearest(train[:5], train, k=1, exclude_self=True)
    assert (i[:, 0] != torch.arange(5)).all()
    # copies of training images are all closer than the train-to-train spacing; far images are not
    assert fraction_closer(train[:10], train)[0] == 1.0
    assert fraction_closer(torch.full((4, 1, 2, 2), 5.0), train)[0] == 0.0
    rep = memorisation(train[:3], train, out=tmp_path / "grid.png", k=2)
    assert rep.grid.is_file() and rep.fraction_closer == 1.0
