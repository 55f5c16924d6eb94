"""Scores for class-conditional generators (gankit.metrics.conditional): class accuracy and intra-class FID
against closed forms, and the generator-level helper on generators that do and do not obey the class."""

import pytest
import torch
from torch.testing import assert_close

from gankit.data import load_dataset
from gankit.errors import UserError
from gankit.metrics.conditional import (
    balanced_labels,
    class_accuracy,
    conditional_report,
    conditional_scores,
    intra_fid,
)
from gankit.metrics.scoring import higher_is_better


def test_class_accuracy_counts_the_argmax_hits():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.2, 0.2, 0.6]])
    assert class_accuracy(probs, torch.tensor([0, 1, 2, 2])) == 0.75  # row 3 asked for 2, classified 0
    always_zero = torch.zeros(30, 10).index_fill_(1, torch.tensor([0]), 1.0)
    assert class_accuracy(always_zero, balanced_labels(30, 10)) == pytest.approx(0.1)  # ignores y: chance


def test_balanced_labels_give_every_class_equally_often():
    y = balanced_labels(25, 5)
    assert torch.bincount(y).tolist() == [5] * 5 and y[:6].tolist() == [0, 1, 2, 3, 4, 0]


def test_intra_fid_is_zero_for_identical_features_and_the_squared_shift_per_class():
    torch.manual_seed(0)
    f, y = torch.randn(400, 6, dtype=torch.float64), torch.arange(400) % 4
    assert_close(torch.tensor(intra_fid(f, y, f, y, 4), dtype=torch.float64), torch.zeros(4, dtype=torch.float64), atol=1e-9, rtol=0)
    # every class moved by its own vector: same covariances, so FID_k = ||shift_k||^2 exactly
    shift = torch.randn(4, 6, dtype=torch.float64)
    want = shift.pow(2).sum(1)
    assert_close(torch.tensor(intra_fid(f, y, f + shift[y], y, 4), dtype=torch.float64), want)
    res = conditional_report(f, y, f + shift[y], y, ["a", "b", "c", "d"])
    assert res["intra_fid"] == pytest.approx(want.mean().item(), rel=1e-9)
    assert list(res["intra_fid_by_class"]) == ["a", "b", "c", "d"] and "class_accuracy" not in res
    # the classes are told apart: the right shifts under swapped labels are not the answer
    assert intra_fid(f, y, f + shift[y], (y + 1) % 4, 4)[0] > 1.0


def test_intra_fid_needs_two_images_of_every_class():
    f = torch.randn(10, 3)
    with pytest.raises(ValueError, match="class 2"):
        intra_fid(f, torch.tensor([0, 1] * 5), f, torch.tensor([0, 1] * 5), 3)


def test_directions_are_registered():
    assert higher_is_better("class_accuracy") and not higher_is_better("intra_fid")


_TEST = {}


def _real_images_of(cls: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """A 'generator' drawing real training images of the requested classes (which one: from z)."""
    if "train" not in _TEST:
        _TEST["train"] = load_dataset("mnist-5k", split="train")
    data = _TEST["train"]
    out = []
    for k, zi in zip(cls.tolist(), z):
        pool = (data.y == k).nonzero().flatten()
        out.append(data.x[pool[int(zi.abs().sum() * 1e4) % len(pool)]])
    return torch.stack(out)


def test_conditional_scores_tell_a_generator_that_obeys_the_class_from_one_that_does_not():
    classes = [str(k) for k in range(10)]
    obey = conditional_scores(lambda z, y: _real_images_of(y, z), 4, classes, "mnist-5k", n=300)
    ignore = conditional_scores(lambda z, y: _real_images_of((y + 3) % 10, z), 4, classes, "mnist-5k", n=300)
    assert obey["class_accuracy"] > 0.9  # the shipped classifier's accuracy on real digits (98.8% on the test split)
    assert ignore["class_accuracy"] < 0.1  # every sample is of another class
    assert obey["intra_fid"] * 5 < ignore["intra_fid"]
    assert set(obey["intra_fid_by_class"]) == set(classes)


def test_conditional_scores_leave_the_global_rng_alone_and_check_the_classes():
    state = torch.get_rng_state()
    conditional_scores(lambda z, y: _real_images_of(y, z), 4, [str(k) for k in range(10)], "mnist-5k", n=100)
    assert torch.equal(torch.get_rng_state(), state)
    with pytest.raises(UserError, match="10 classes, the generator 3"):
        conditional_scores(lambda z, y: _real_images_of(y, z), 4, ["0", "1", "2"], "mnist-5k", n=100)
