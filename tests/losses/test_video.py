"""The regression losses of next-frame prediction (Mathieu et al. 2016, eq. 1 and 5) against hand values."""

import torch
from torch.testing import assert_close

from gankit.losses.video import gradient_difference_loss, lp_loss

TARGET = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # 1 x 1 x 2 x 2


def test_gdl_hand_values():
    # Against a flat prediction: |grad| of the target down the rows is (2, 3), along the columns (1, 2).
    flat = torch.zeros_like(TARGET)
    assert_close(gradient_difference_loss(flat, TARGET, alpha=1.0), torch.tensor((2 + 3) / 2 + (1 + 2) / 2))
    assert_close(gradient_difference_loss(flat, TARGET, alpha=2.0), torch.tensor((4 + 9) / 2 + (1 + 4) / 2))


def test_gdl_ignores_offsets_and_sign_but_not_blur():
    x = torch.randn(2, 1, 8, 8)
    assert_close(gradient_difference_loss(x + 0.7, x), torch.tensor(0.0))
    assert_close(gradient_difference_loss(-x, x), torch.tensor(0.0))  # the same gradient magnitudes
    blurred = torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
    assert gradient_difference_loss(blurred, x) > 0.1


def test_lp_hand_values():
    pred = torch.zeros_like(TARGET)
    assert_close(lp_loss(pred, TARGET, p=2), torch.tensor((0 + 1 + 4 + 16) / 4))
    assert_close(lp_loss(pred, TARGET, p=1), torch.tensor((0 + 1 + 2 + 4) / 4))
