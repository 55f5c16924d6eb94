"""Mode metrics (PacGAN's definitions) on hand-built sample sets."""

import math

import numpy as np
import torch
from torch.testing import assert_close

from gankit.data.toy import get_toy
from gankit.metrics.modes import ModeCoverage, mean_sem, metrics_from_histogram, mode_metrics, toy_mode_metrics

RING = get_toy("ring")


def _at_modes(counts):
    return torch.cat([torch.as_tensor(RING.means[k]).repeat(c, 1) for k, c in enumerate(counts) if c])


def test_all_modes_equally():
    m = toy_mode_metrics(_at_modes([5] * 8), RING)
    assert m == {"modes": 8.0, "high_quality": 1.0, "reverse_kl": 0.0}


def test_one_mode_is_a_collapse():
    m = toy_mode_metrics(_at_modes([40, 0, 0, 0, 0, 0, 0, 0]), RING)
    assert m["modes"] == 1.0 and m["high_quality"] == 1.0
    assert_close(m["reverse_kl"], math.log(8))


def test_off_manifold_points_are_not_high_quality():
    x = torch.cat([_at_modes([1] * 8), torch.zeros(8, 2)])  # the origin is 100 std from every mode
    m = toy_mode_metrics(x, RING)
    assert m["modes"] == 8.0 and m["high_quality"] == 0.5 and m["reverse_kl"] == 0.0


def test_three_std_threshold():
    mu = torch.as_tensor(RING.means[0])
    inside, outside = mu + torch.tensor([0.0299, 0.0]), mu + torch.tensor([0.0, 0.0301])
    assert toy_mode_metrics(inside[None], RING)["high_quality"] == 1.0
    assert toy_mode_metrics(outside[None], RING)["high_quality"] == 0.0


def test_reverse_kl_hand_value():
    # p = (1/2, 1/4, 1/4, 0, ...), w = 1/8: KL = 1/2 log 4 + 2 * 1/4 log 2 = 1.5 log 2
    m = toy_mode_metrics(_at_modes([2, 1, 1, 0, 0, 0, 0, 0]), RING)
    assert m["modes"] == 3.0
    assert_close(m["reverse_kl"], 1.5 * math.log(2))


def test_no_high_quality_sample_gives_the_worst_reverse_kl():
    m = metrics_from_histogram(torch.zeros(3), 10, [0.5, 0.3, 0.2])
    assert m["modes"] == 0.0 and m["high_quality"] == 0.0
    assert_close(m["reverse_kl"], math.log(5))


def test_unequal_weights_and_stds():
    means, stds, w = np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([1.0, 0.1]), np.array([0.25, 0.75])
    x = torch.tensor([[0.5, 0.0], [2.9, 0.0], [10.2, 0.0], [10.5, 0.0]])  # last: 5 std of mode 1
    m = mode_metrics(x, means, stds, w)
    p = np.array([2 / 3, 1 / 3])
    assert m["modes"] == 2.0 and m["high_quality"] == 0.75
    assert_close(m["reverse_kl"], float((p * np.log(p / w)).sum()))


def test_streaming_matches_functional():
    x = RING.sample(1000, seed=0) * 1.02  # some points pushed off their modes
    metric = ModeCoverage(RING.mode_means, RING.mode_stds, RING.mode_weights)
    for xb in x.split(300):
        metric.update(xb)
    assert metric.compute() == toy_mode_metrics(x, RING)
    metric.reset()
    assert metric.n == 0 and float(metric.counts.sum()) == 0.0


def test_mean_sem_hand_values():
    mean, sem = mean_sem([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert_close(sem, 1 / math.sqrt(3))
    assert mean_sem([4.0]) == (4.0, 0.0)
