"""Boxes on a canvas (gankit.data.boxes): the spatial masks, the measured box of an object and IoU by hand, and
the placed garments lying in their boxes."""

import pytest
import torch
from torch.testing import assert_close

from gankit.data.boxes import box_iou, box_masks, object_boxes, place
from gankit.errors import UserError


def test_box_masks_by_hand():
    m = box_masks(torch.tensor([[0.25, 0.0, 0.75, 0.5], [0.0, 0.0, 1.0, 1.0]]), 4)
    assert m.shape == (2, 1, 4, 4)
    expected = torch.tensor([[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.float32)
    assert_close(m[0, 0], expected)
    assert_close(m[1, 0], torch.ones(4, 4))
    # a box edge inside a cell covers part of it: x in [0.1, 0.6] on 2 cells -> 0.8, 0.2
    assert_close(box_masks(torch.tensor([[0.1, 0.0, 0.6, 1.0]]), 2)[0, 0], torch.tensor([[0.8, 0.2], [0.8, 0.2]]))
    # at every resolution the mask's mean is the box's area
    for s in (4, 8, 64):
        assert_close(box_masks(torch.tensor([[0.1, 0.3, 0.6, 0.7]]), s).mean(), torch.tensor(0.5 * 0.4))


def test_object_boxes_by_hand():
    x = -torch.ones(2, 1, 8, 8)
    x[0, 0, 2:5, 1:7] = 1.0  # rows 2-4, columns 1-6
    assert_close(object_boxes(x), torch.tensor([[1 / 8, 2 / 8, 7 / 8, 5 / 8], [0.0, 0.0, 0.0, 0.0]]))


def test_box_iou_by_hand():
    a = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]])
    b = torch.tensor([[0.0, 0.0, 0.5, 0.5], [0.25, 0.0, 0.75, 0.5], [0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    assert_close(box_iou(a, b), torch.tensor([1.0, 1 / 3, 0.0, 0.0]))  # equal; half overlap: 1/8 / 3/8; apart


def test_placed_garments_fill_their_boxes():
    from gankit.data.fashion_mnist import fashion_mnist

    try:
        x = fashion_mnist("test").x[:200]
    except UserError as e:
        pytest.skip(f"Fashion-MNIST not available: {e}")
    canvas, boxes = place(x, seed=3)
    assert canvas.shape == (200, 1, 64, 64) and canvas.min() >= -1 and canvas.max() <= 1
    assert ((boxes >= 0) & (boxes <= 1)).all() and (boxes[:, 2:] > boxes[:, :2]).all()
    iou = box_iou(object_boxes(canvas), boxes)
    assert (iou > 0.8).all()  # measured: the lowest of these 200 is 0.83 (scaling blurs the faint edges)
    again, same = place(x, seed=3)
    assert torch.equal(canvas, again) and torch.equal(boxes, same)  # seeded
    assert not torch.equal(boxes, place(x, seed=4)[1])
