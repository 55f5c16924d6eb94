"""Fashion-MNIST (Xiao et al. 2017): 70,000 28x28 grayscale garments in 10 classes.

The IDX files are looked up in order: ``root`` given by the user, the Debian package
``dataset-fashion-mnist``, gankit's cache folder, then downloaded from the dataset's original
source into the cache (never when ``GANKIT_OFFLINE=1``, which the tests set).
"""

from __future__ import annotations

import functools
import os
import urllib.request
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gankit.data.base import TensorData, fit_images, register
from gankit.data.idx import read_idx
from gankit.errors import UserError
from gankit.images import from_uint8

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def cache_dir() -> Path:
    """gankit's cache folder: ``$GANKIT_CACHE``, else ``$XDG_CACHE_HOME/gankit``, else ``~/.cache/gankit``."""
    if os.environ.get("GANKIT_CACHE"):
        return Path(os.environ["GANKIT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gankit"


def _has_files(folder: Path, split: str) -> bool:
    return all((folder / f).is_file() or (folder / f.removesuffix(".gz")).is_file() for f in FILES[split])


def _file(folder: Path, name: str) -> Path:
    return folder / name if (folder / name).is_file() else folder / name.removesuffix(".gz")


def download(dest: Path, split: str) -> None:
    """Download one split's IDX files from the original source into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES[split]:
        target = dest / name
        if target.is_file():
            continue
        tmp = target.with_name(target.name + ".part")
        with urllib.request.urlopen(SOURCE_URL + name, timeout=30) as r, open(tmp, "wb") as f:
            total = int(r.headers.get("Content-Length", 0)) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}") as bar:
                while chunk := r.read(1 << 16):
                    f.write(chunk)
                    bar.update(len(chunk))
        os.replace(tmp, target)


def locate(split: str, root: str | None = None) -> Path:
    """Find the folder holding ``split``'s files, downloading them when allowed and needed."""
    if root is not None:
        if not _has_files(Path(root), split):
            raise UserError(f"data.root={root}: no Fashion-MNIST {split} files ({', '.join(FILES[split])}) there")
        return Path(root)
    for folder in (DEBIAN_DIR, cache_dir() / "fashion-mnist"):
        if _has_files(folder, split):
            return folder
    how = "install it with 'apt-get install dataset-fashion-mnist', or give data.root=DIR with the IDX files"
    if os.environ.get("GANKIT_OFFLINE") == "1":
        raise UserError(f"Fashion-MNIST not found (GANKIT_OFFLINE=1 forbids the download); {how}")
    try:
        download(cache_dir() / "fashion-mnist", split)
    except OSError as e:
        raise UserError(f"Fashion-MNIST not found and the download failed ({e}); {how}") from None
    return cache_dir() / "fashion-mnist"


@functools.lru_cache(maxsize=4)
def _read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    # Cached: decompressing the 60,000 training images takes a second or two, and tests load them often.
    images_file, labels_file = (_file(folder, f) for f in FILES[split])
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise UserError(f"{images_file}: expected N x 28 x 28 images matching {labels_file.name}")
    return images, labels


@register("fashion-mnist")
def fashion_mnist(
    split: str = "train", root: str | None = None, img_size: int | None = None, channels: int | None = None
) -> TensorData:
    """Fashion-MNIST (Xiao et al. 2017): 28 x 28 grey images in [-1, 1] and their 10 class labels."""
    images, labels = _read_split(locate(split, root), split)
    x = fit_images(from_uint8(images), img_size, channels)
    return TensorData(x=x, y=torch.from_numpy(labels.astype("int64")), classes=list(CLASSES), name="fashion-mnist")
