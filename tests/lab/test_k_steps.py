"""The k-steps experiment: closed forms of its measures, its budgets, and the bounded headline of a quick run."""

import json
import math

import numpy as np
import pytest
from scipy.stats import gaussian_kde
from torch.testing import assert_close

from gankit.data.toy import get_toy
from gankit.lab.k_steps import COST_MS, GRID, budget_steps, d_star_gap, kde, optimal_d, w1_to_toy


def gauss(xs, mu, sigma):
    return np.exp(-0.5 * ((xs - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def test_optimal_d_is_one_half_when_p_g_equals_p_data():
    p = get_toy("mog-1d").density(GRID).numpy()
    assert_close(optimal_d(p, p), np.full_like(p, 0.5), atol=1e-15, rtol=0)
    assert d_star_gap(np.full_like(p, 0.5), p, p) == 0.0  # D = 1/2 is then optimal: no gap


def test_optimal_d_on_disjoint_supports_is_zero_one():
    """p_data uniform on [-2, 0), p_g uniform on (0, 2]: D* = 1 on the data, 0 on G's samples, 1/2 (0/0) elsewhere."""
    p_data, p_g = np.where((GRID >= -2) & (GRID < 0), 0.5, 0.0), np.where((GRID > 0) & (GRID <= 2), 0.5, 0.0)
    expected = np.where(p_data > 0, 1.0, np.where(p_g > 0, 0.0, 0.5))
    assert_close(optimal_d(p_data, p_g), expected, atol=0, rtol=0)
    assert d_star_gap(optimal_d(p_data, p_g), p_data, p_g) == 0.0
    # D = 1/2 misses D* by exactly 1/2 wherever (p_data + p_g)/2 has mass
    assert_close(d_star_gap(np.full_like(GRID, 0.5), p_data, p_g), 0.5, atol=1e-12, rtol=0)


def test_kde_matches_scipy_and_the_smoothed_closed_form():
    rng = np.random.default_rng(0)
    s = rng.normal(1.0, 0.7, 200_000)
    ours = kde(s, GRID, bandwidth=0.1)
    ref = gaussian_kde(s, bw_method=0.1 / s.std(ddof=1))(GRID)  # exact kernel sum, same bandwidth
    assert_close(ours, ref, atol=2e-3 * ref.max(), rtol=0)  # binning error only
    # E[KDE] = N(1, 0.7^2 + h^2): the sampling error of 200k points is well under 1% of the peak
    assert_close(ours, gauss(GRID, 1.0, math.hypot(0.7, 0.1)), atol=0.01 * ours.max(), rtol=0)
    assert_close(ours.sum() * (GRID[1] - GRID[0]), 1.0, atol=1e-6, rtol=0)


def test_w1_to_the_toy_is_zero_for_its_own_samples_and_the_shift_when_shifted():
    toy = get_toy("mog-1d")
    x = toy.sample(20_000, seed=3).numpy().ravel()
    assert w1_to_toy(x, toy) < 0.03  # sampling noise of 20k points
    assert_close(w1_to_toy(x + 0.5, toy), 0.5, atol=0.03, rtol=0)  # W1 of a translation is its length


def test_equal_time_budget_gives_each_config_the_same_seconds():
    steps = budget_steps(1000, 50)
    assert steps["k=5"] == 1000  # the reference
    t = 1000 * COST_MS["k=5"]
    for label, n in steps.items():
        assert n % 50 == 0 and abs(n * COST_MS[label] - t) <= 25 * COST_MS[label]  # within half a snapshot
    assert steps["k=1"] > steps["k=2"] > steps["k=5"] > steps["unrolled (5)"]


@pytest.fixture(scope="module")
def quick(tmp_path_factory, lab_quick):
    out = tmp_path_factory.mktemp("k-steps")
    return out, lab_quick("k-steps", out)


def test_quick_run_writes_result_and_figures(quick):
    out, result = quick
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["experiment"] == "k-steps" and on_disk["quick"] is True
    assert result["figures"] == ["k_steps_d_vs_dstar.png", "k_steps_budgets.png"]
    assert all((out / f).stat().st_size > 10_000 for f in result["figures"])
    assert on_disk["equal_time_winner"] in on_disk["w1_equal_time"]


def test_quick_run_d_gap_shrinks_with_k(quick):
    """At a fixed number of G steps D is closer to D* with k = 5 than with k = 1 (seeds 0-4 at --quick: the
    ratio is 0.52-0.58 with the toy defaults; with the slow G, k=1 > k=2 > k=5 in raw and relative terms)."""
    _, r = quick
    gap, slow, rel_slow = r["d_gap"], r["d_gap_slow_g"], r["relative_gap_slow_g"]
    assert all(0.005 < v < 0.3 for v in gap.values())
    assert gap["k=5"] < 0.75 * gap["k=1"]
    assert slow["k=5"] < slow["k=2"] < slow["k=1"]
    assert rel_slow["k=5"] < 0.5 * rel_slow["k=1"] and rel_slow["k=1"] < 0.7  # D tracks D* when G is slow
    assert r["kde"]["floor"] < 0.02  # the estimator's own D* gap for p_g = p_data, well below every d_gap
