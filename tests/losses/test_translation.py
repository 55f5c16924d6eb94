"""CycleGAN's cycle-consistency and identity losses against hand-computed values."""

import torch
from torch.testing import assert_close

from gankit.losses.translation import cycle_consistency, identity


def test_cycle_consistency_by_hand():
    a = torch.tensor([[0.0, 1.0], [-1.0, 0.5]]).view(1, 1, 2, 2)
    a_rec = torch.tensor([[0.5, 1.0], [-1.0, -0.5]]).view(1, 1, 2, 2)  # |diff| = 0.5, 0, 0, 1 -> mean 0.375
    b = torch.zeros(2, 1, 1, 2)
    b_rec = torch.tensor([0.2, -0.2, 0.4, 0.0]).view(2, 1, 1, 2)  # mean |.| = 0.2
    assert_close(cycle_consistency(a, a_rec, b, b_rec), torch.tensor(0.575))
    assert_close(cycle_consistency(a, a, b, b), torch.tensor(0.0))


def test_cycle_consistency_weighs_the_b_cycle():
    a, b = torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    # |a_rec - a| mean 0.5, |b_rec - b| mean 1: 0.5 + 0.25 * 1
    assert_close(cycle_consistency(a, a + 0.5, b, b - 1, weight_b=0.25), torch.tensor(0.75))
    assert_close(cycle_consistency(a, a + 0.5, b, b - 1, weight_b=0.0), torch.tensor(0.5))


def test_cycle_consistency_is_a_mean_over_pixels_and_channels():
    a = torch.zeros(3, 3, 4, 4)
    assert_close(cycle_consistency(a, a + 2, a, a - 1), torch.tensor(3.0))


def test_identity_by_hand():
    a = torch.full((1, 1, 2, 2), -1.0)
    f_of_a = torch.tensor([[-1.0, 0.0], [1.0, -1.0]]).view(1, 1, 2, 2)  # |diff| = 0, 1, 2, 0 -> mean 0.75
    b = torch.ones(1, 3, 1, 1)
    g_of_b = torch.tensor([1.0, 0.7, 0.4]).view(1, 3, 1, 1)  # |diff| = 0, 0.3, 0.6 -> mean 0.3
    assert_close(identity(a, f_of_a, b, g_of_b), torch.tensor(1.05))
