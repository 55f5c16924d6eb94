"""Mathieu et al.'s sharpness difference against hand values."""

import math

import torch
from torch.testing import assert_close

from gankit.metrics.sharpness import gradient_sum, sharpness_difference


def test_hand_value_on_a_2x2_image():
    # One pixel has both neighbours: (1, 1). grad_i = |4 - 1| = 3, grad_j = |4 - 2| = 2, so the gradient sum is 5;
    # a flat prediction has 0. In [0, 1] units (data range 10): 0.5, and 10 log10(1 / 0.5) = 3.0103 dB.
    target = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    assert_close(gradient_sum(target), torch.tensor([[[[5.0]]]]))
    assert_close(sharpness_difference(torch.zeros_like(target), target, data_range=10.0),
                 torch.tensor([10 * math.log10(2.0)]))  # fmt: skip


def test_each_gradient_is_a_magnitude():
    # At (1, 1): Y - Y_up = 1 - 0 = +1 and Y - Y_left = 1 - 3 = -2, so grad_i + grad_j = 1 + 2 = 3 (signed: -1).
    # Range 3: mean difference 1 against a flat prediction, 10 log10(1 / 1) = 0 dB.
    target = torch.tensor([[[[0.0, 0.0], [3.0, 1.0]]]])
    assert_close(sharpness_difference(torch.zeros_like(target), target, data_range=3.0), torch.tensor([0.0]))


def test_hand_value_on_a_3x3_image_in_the_default_range():
    # Target: a vertical edge (-1 | +1) between columns 0 and 1. Of the 2 x 2 pixels with both neighbours, those of
    # column 1 have grad_j = 2; column 2 has 0: mean gradient sum 1 (of range 2: 0.5). Prediction flat: 3.0103 dB.
    target = torch.tensor([[-1.0, 1.0, 1.0]] * 3).view(1, 1, 3, 3)
    assert_close(sharpness_difference(torch.zeros_like(target), target), torch.tensor([10 * math.log10(2.0)]))


def test_blur_scores_lower_and_identity_is_infinite():
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    noisy = x + 0.05 * torch.randn_like(x)
    assert (sharpness_difference(blurred, x) < sharpness_difference(noisy, x)).all()
    assert torch.isinf(sharpness_difference(x, x)).all()
