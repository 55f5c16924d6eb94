"""DiffAugment's transforms: each is what it says, per sample, and differentiable."""

import pytest
import torch

from gankit.nets.augment import AUGMENTS, color, cutout, diff_augment, translation


def test_empty_policy_is_identity():
    x = torch.randn(2, 1, 8, 8)
    assert diff_augment(x, "") is x


def test_translation_is_a_zero_filled_shift_within_an_eighth():
    torch.manual_seed(0)
    x = torch.rand(6, 2, 16, 16) + 1.0  # strictly positive: zeros can only be the fill
    y = translation(x)
    pad = torch.nn.functional.pad(x, [2, 2, 2, 2])
    for i in range(6):
        shifts = [(a, b) for a in range(-2, 3) for b in range(-2, 3) if torch.equal(y[i], pad[i, :, 2 + a : 18 + a, 2 + b : 18 + b])]
        assert len(shifts) == 1  # exactly one shift in [-2, 2]^2 (16 / 8 = 2) explains the output


def test_cutout_zeroes_one_rectangle():
    torch.manual_seed(0)
    x = torch.ones(8, 1, 16, 16)
    y = cutout(x)
    for i in range(8):
        zero = y[i, 0] == 0
        rows, cols = zero.any(1), zero.any(0)
        assert torch.equal(zero, rows[:, None] & cols[None, :])  # a product set: one axis-aligned rectangle
        assert 4 <= int(rows.sum()) <= 8 and 4 <= int(cols.sum()) <= 8  # a side of 8 = 16 / 2, clipped at the border by at most half


def test_color_shifts_a_flat_image_by_one_brightness_per_sample():
    """On a constant image saturation and contrast change nothing: only a brightness in [-0.5, 0.5] is added."""
    torch.manual_seed(0)
    x = torch.full((5, 1, 4, 4), 0.25)
    torch.manual_seed(1)
    y = color(x)
    torch.manual_seed(1)
    b = torch.rand(5, 1, 1, 1) - 0.5
    torch.testing.assert_close(y, x + b)


@pytest.mark.parametrize("name", sorted(AUGMENTS))
def test_gradient_passes(name):
    """Every transform is differentiable; translation and cutout route each kept pixel to exactly one
    output pixel, so d sum(aug(x)) / dx is 1 where a pixel is kept and 0 where it is dropped."""
    x = torch.rand(3, 1, 8, 8, requires_grad=True)
    AUGMENTS[name](x).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    if name in ("translation", "cutout"):
        assert set(x.grad.unique().tolist()) <= {0.0, 1.0} and x.grad.sum() > 0
