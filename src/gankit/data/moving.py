"""Moving MNIST built the standard way (Srivastava, Mansimov & Salakhutdinov 2015, "Unsupervised Learning of
Video Representations using LSTMs", sec. 3.1 and their ``moving_mnist.py``), and the same with Fashion-MNIST items.

Each sequence holds ``num_digits`` (2) 28x28 items bouncing inside a 64x64 canvas. An item starts at a uniformly
random place with a uniformly random direction and moves ``step_length`` (0.1) of the free range (64 - 28 = 36
pixels, so 3.6 pixels) per frame; when it would leave the canvas it is put back on the border and that velocity
component flips sign (a reflection). Positions are rounded down to whole pixels, and overlapping items are
combined by the pixel-wise maximum. Every random choice comes from one ``numpy`` generator seeded by ``seed``,
so a (source, seed) pair gives the same tensors on every machine.

Registered datasets (items ``T x 1 x 64 x 64`` in [-1, 1], :class:`DataSpec` kind ``video``):

    ``moving-mnist``          train: 2,000 sequences of 10 frames from the 4,000 ``mnist-5k`` train digits;
                              test: 500 sequences from its 1,000 test digits (disjoint images)
    ``moving-fashion-mnist``  the same sizes from Fashion-MNIST's train (60,000) and test (10,000) images

A split is 2,000 x 10 x 64 x 64 float32 = 328 MB (train) and 82 MB (test); the sequences are built in about
a second and kept (as uint8, 82 MB) for the next load in the same process. ``img_size`` resizes every frame
(32 for quick tests), ``channels=3`` repeats the grey channel.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from gankit.data.base import TensorData, fit_images, register
from gankit.images import from_uint8

CANVAS = 64
NUM_FRAMES = 10
NUM_DIGITS = 2
STEP_LENGTH = 0.1  # Srivastava et al.'s step per frame, as a fraction of the free range CANVAS - 28
SIZES = {"train": 2000, "test": 500}  # sequences per split
SEEDS = {"train": 0, "test": 1}  # the builder's seed per split (fixed: a dataset is the same on every load)


def trajectories(rng: np.random.Generator, num_frames: int, free: int, step_length: float = STEP_LENGTH) -> np.ndarray:
    """Top-left corners (num_frames x 2, integer rows and columns in [0, free]) of one bouncing item.

    Srivastava et al.'s recipe: position and direction uniform, the position moves before each frame is drawn,
    and a coordinate that crosses 0 or 1 is put back on the border with its velocity reversed.
    """
    pos = rng.random(2)  # (row, column) in units of the free range
    theta = rng.random() * 2 * np.pi
    vel = np.array([np.sin(theta), np.cos(theta)])
    out = np.empty((num_frames, 2))
    for t in range(num_frames):
        pos = pos + vel * step_length
        for a in range(2):
            if pos[a] <= 0:
                pos[a], vel[a] = 0.0, -vel[a]
            if pos[a] >= 1:
                pos[a], vel[a] = 1.0, -vel[a]
        out[t] = pos
    return (out * free).astype(np.int64)


def moving_sequences(
    items: np.ndarray,
    num_sequences: int,
    *,
    num_frames: int = NUM_FRAMES,
    num_digits: int = NUM_DIGITS,
    canvas: int = CANVAS,
    seed: int = 0,
) -> np.ndarray:
    """Sequences of ``num_digits`` items bouncing inside a ``canvas`` x ``canvas`` frame.

    Args:
        items: uint8 images (M x h x w), drawn uniformly with replacement.
        num_sequences: how many sequences to build.
        num_frames: frames per sequence.
        num_digits: items per sequence, combined by the pixel-wise maximum.
        canvas: the frame's side (larger than the items').
        seed: the seed of every random choice (which items, positions, directions).

    Returns:
        uint8 array num_sequences x num_frames x canvas x canvas.
    """
    h, w = items.shape[1:]
    if h != w or h >= canvas:
        raise ValueError(f"items of {h}x{w} do not fit a square canvas of {canvas}")
    rng = np.random.default_rng(seed)
    out = np.zeros((num_sequences, num_frames, canvas, canvas), dtype=np.uint8)
    for n in range(num_sequences):
        for _ in range(num_digits):
            item = items[rng.integers(len(items))]
            for t, (r, c) in enumerate(trajectories(rng, num_frames, canvas - h)):
                patch = out[n, t, r : r + h, c : c + w]
                np.maximum(patch, item, out=patch)  # overlapping items: the brighter pixel wins
    return out


@functools.lru_cache(maxsize=4)
def _built(source: str, split: str, root: str | None) -> np.ndarray:
    # Cached as uint8 (82 MB for train): tests and benchmarks load the same split several times.
    from gankit.data import load_dataset

    images = load_dataset(source, split=split, root=root)
    items = ((images.x[:, 0] + 1) * 127.5).round().to(torch.uint8).numpy()
    return moving_sequences(items, SIZES[split], seed=SEEDS[split])


def load_moving(
    source: str, name: str, split: str, root: str | None, img_size: int | None, channels: int | None
) -> TensorData:
    """Sequences (N x T x C x H x W in [-1, 1]) of items of the ``source`` dataset's ``split``."""
    seqs = _built(source, split, root)
    n, t = seqs.shape[:2]
    frames = fit_images(from_uint8(seqs.reshape(n * t, CANVAS, CANVAS)), img_size, channels)  # N*T x C x H x W
    return TensorData(x=frames.reshape(n, t, *frames.shape[1:]), name=name)


@register("moving-mnist")
def moving_mnist(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """Moving MNIST from ``mnist-5k`` (``root``: a folder with ``mnist_5k.csv.gz``)."""
    return load_moving("mnist-5k", "moving-mnist", split, root, img_size, channels)


@register("moving-fashion-mnist")
def moving_fashion_mnist(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """Moving Fashion-MNIST (``root``: a folder with Fashion-MNIST's IDX files)."""
    return load_moving("fashion-mnist", "moving-fashion-mnist", split, root, img_size, channels)
