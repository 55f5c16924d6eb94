"""Gated PixelCNN nets: the masks keep every pixel's conditional causal (no pixel sees itself or later ones)
and leave no blind spot (every earlier pixel within reach is seen)."""

import pytest
import torch
from torch.testing import assert_close

from gankit.nets.pixelcnn import GatedPixelCNN, horizontal_mask, shift_down, vertical_mask


def _dependence(net: GatedPixelCNN, size: int, r: int, c: int) -> torch.Tensor:
    """|d out[r, c] / d x| per input pixel, summed over the output's levels and 8 random inputs (so that no
    dependence hides behind a ReLU that happens to be off for one input)."""
    x = torch.randn(8, 1, size, size, requires_grad=True)
    net(x)[:, :, r, c].sum().backward()
    return x.grad[:, 0].abs().sum(0)


@pytest.mark.parametrize("levels", [1, 256])  # the Bernoulli and the 8-bit head
def test_output_at_pixel_i_does_not_depend_on_pixels_i_to_n(levels):
    torch.manual_seed(0)
    size = 7
    net = GatedPixelCNN(levels, width=4, layers=4, kernel=3, first_kernel=3)
    for p in net.parameters():  # random non-zero biases and weights everywhere: no dependence hidden by zeros
        torch.nn.init.normal_(p, std=0.5)
    index = torch.arange(size * size).view(size, size)
    for r, c in [(0, 0), (0, 3), (3, 0), (3, 3), (6, 6), (2, 6)]:
        grad = _dependence(net, size, r, c)
        i = r * size + c
        later = index >= i
        assert grad[later].abs().max() == 0, f"pixel ({r}, {c}) sees itself or a later pixel"
        # no blind spot: the receptive field is exactly the vertical stack's rows above (5 = layers + 1, the
        # shift adds one), |column - c| <= 4 on both sides, and the horizontal stack's 4 pixels to the left
        row, col = index // size, index % size
        above = (row < r) & (row >= r - 5) & ((col - c).abs() <= 4)
        left = (row == r) & (col < c) & (col >= c - 4)
        assert torch.equal(grad > 0, above | left), f"pixel ({r}, {c}): receptive field\n{(grad > 0).int()}"


def test_each_stack_alone_is_causal():
    """The vertical stack (through the one-row shift) sees only rows above; the horizontal stack only pixels to
    the left in the current row: cut one stack's contribution and the other still obeys the order."""
    torch.manual_seed(1)
    size = 6
    net = GatedPixelCNN(1, width=4, layers=3, kernel=3, first_kernel=3)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    r, c = 3, 2
    with torch.no_grad():  # vertical only: no horizontal convolution input
        for layer in net.layers:
            layer.h_conv.weight.zero_()
    grad = _dependence(net, size, r, c)
    assert grad[r:].max() == 0 and grad[:r].max() > 0  # rows above only, not the current row
    assert grad[r - 1, c + 1 :].max() > 0  # ... including pixels up and to the right (no blind spot)

    net = GatedPixelCNN(1, width=4, layers=3, kernel=3, first_kernel=3)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    with torch.no_grad():  # horizontal only: no vertical-to-horizontal link
        for layer in net.layers:
            layer.v_to_h.weight.zero_()
            layer.v_to_h.bias.zero_()
    grad = _dependence(net, size, r, c)
    assert grad[:r].max() == 0 and grad[r + 1 :].max() == 0  # the current row only
    assert grad[r, c:].max() == 0 and bool((grad[r, :c] > 0).all())  # strictly left of the pixel


def test_masks_and_shift():
    assert_close(vertical_mask(3), torch.tensor([[1.0, 1, 1], [1, 1, 1], [0, 0, 0]]))
    assert_close(horizontal_mask(5, include_centre=False), torch.tensor([[1.0, 1, 0, 0, 0]]))
    assert_close(horizontal_mask(5, include_centre=True), torch.tensor([[1.0, 1, 1, 0, 0]]))
    x = torch.arange(6.0).view(1, 1, 3, 2)
    assert_close(shift_down(x), torch.tensor([[[[0.0, 0], [0, 1], [2, 3]]]]))


@pytest.mark.parametrize("levels", [1, 256])
def test_shapes(levels):
    net = GatedPixelCNN(levels, width=8, layers=2)
    assert net(torch.zeros(3, 1, 28, 28)).shape == (3, levels, 28, 28)
    with pytest.raises(ValueError, match="odd"):
        GatedPixelCNN(levels, kernel=4)
