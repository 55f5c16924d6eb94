"""Paired data for image-to-image translation: ``x`` is the target image B, ``extra["a"]`` its input image A.

Datasets, by name:

``fashion-mnist-edges`` / ``mnist-5k-edges``
    edges -> garments (or digits), the small analogue of pix2pix's edges2shoes (Isola et al. 2017, sec. 4): A is
    the Canny edge map (Canny 1986; scikit-image, sigma 1) of B, white edges on black. Canny has no randomness,
    so the maps are the same on every run. ``data.img_size`` 28 keeps the native size, 32 pads 2 pixels of
    background on each side (as LeNet-5 fed MNIST; a U-Net can then halve the size five times) and 64
    upsamples by two (bilinear) and pads 4; the edges are taken at that size. :func:`to_native` undoes it
    for the shipped 28 x 28 classifiers.
``paired-folder``
    the user's own pairs under ``data.root`` (or ``data.root/<split>`` when that folder exists), in either
    layout: side-by-side ``A|B`` images, each one file as pix2pix's published datasets ship them (A the left
    half); or two folders ``A/`` and ``B/`` whose files are matched by file name (stem). Each side keeps one
    channel when all its images are gray, else three; a gray side is repeated to three channels when the
    other is colour (losslessly), so that A and B share one shape. ``data.channels`` forces both sides.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from gankit.data.base import TensorData, register
from gankit.data.folder import list_images
from gankit.errors import UserError
from gankit.images import from_uint8

EDGE_SIGMA = 1.0  # Canny's Gaussian; 1 keeps the seams and collars of 28-pixel garments, 2 loses them
NATIVE = 28


def to_size(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """28 x 28 images in [-1, 1] -> ``size`` (28, 32: pad 2; 64: upsample x2 then pad 4), background -1."""
    if size in (None, NATIVE):
        return x
    if size == 32:
        return F.pad(x, (2, 2, 2, 2), value=-1.0)
    if size == 64:
        return F.pad(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False), (4,) * 4, value=-1.0)
    raise UserError(f"data.img_size: {size} is not supported for edge maps (use 28, 32 or 64)")


def to_native(x: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`to_size`: 28, 32 or 64 pixel images -> 28 x 28 (for the shipped classifiers)."""
    size = x.shape[-1]
    if size == 64:
        x = F.avg_pool2d(x[..., 4:-4, 4:-4], 2)
    elif size == 32:
        x = x[..., 2:-2, 2:-2]
    elif size != NATIVE:
        raise ValueError(f"images of {size} pixels have no 28-pixel original")
    return x


def canny_edges(x: torch.Tensor, sigma: float = EDGE_SIGMA) -> torch.Tensor:
    """Canny edge maps of gray images: N x 1 x H x W in [-1, 1] -> N x 1 x H x W in {-1, 1} (edges 1).

    RGB images are averaged to gray first. Thresholds are scikit-image's defaults (10% and 20% of the
    largest gradient magnitude the image could have), so a map depends on its image only.
    """
    from skimage.feature import canny  # late import: scikit-image is needed for edge maps only

    gray = x.mean(1) if x.shape[1] == 3 else x[:, 0]
    a = ((gray.clamp(-1, 1) + 1) / 2).double().numpy()  # [0, 1], the range the default thresholds assume
    edges = np.stack([canny(im, sigma=sigma) for im in a])
    return torch.from_numpy(edges).float().unsqueeze(1) * 2 - 1


@functools.lru_cache(maxsize=4)
def _edges_pair(name: str, split: str, root: str | None, size: int | None) -> TensorData:
    # Canny over 60,000 images takes about 15 s: a process that loads a split twice (train, then score) pays once.
    from gankit.data import load_dataset

    base = load_dataset(name, split=split, root=root)
    target = to_size(base.x, size)
    return TensorData(target, base.y, list(base.classes), f"{name}-edges", extra={"a": canny_edges(target)})


def _edges(name: str, split: str, root: str | None, img_size: int | None, channels: int | None) -> TensorData:
    data = _edges_pair(name, split, root, img_size)
    if channels == 3:
        rgb = lambda t: t.expand(-1, 3, -1, -1).contiguous()  # noqa: E731
        return TensorData(rgb(data.x), data.y, data.classes, data.name, {"a": rgb(data.extra["a"])})
    return data


@register("fashion-mnist-edges")
def fashion_mnist_edges(split="train", root=None, img_size=None, channels=None) -> TensorData:
    """Canny edges of Fashion-MNIST garments (A) and the garments (B, ``x``) with their class labels."""
    return _edges("fashion-mnist", split, root, img_size, channels)


@register("mnist-5k-edges")
def mnist_5k_edges(split="train", root=None, img_size=None, channels=None) -> TensorData:
    """Canny edges of the 5,000 MNIST digits of mnist-5k (a small paired set for tests and smoke runs)."""
    return _edges("mnist-5k", split, root, img_size, channels)


# ----------------------------------------------------------------------------- paired folders


def _read(path: Path) -> Image.Image:
    try:
        with Image.open(path) as im:
            im.load()
            return im.copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None


def _is_gray(images: list[Image.Image]) -> bool:
    return all(im.mode in ("L", "1", "I", "I;16", "LA") for im in images)


def _stack(images: list[Image.Image], channels: int, size: int | None, where: str) -> torch.Tensor:
    mode = "L" if channels == 1 else "RGB"
    images = [im.convert(mode) for im in images]
    if size is not None:
        images = [im.resize((size, size), Image.Resampling.BICUBIC) for im in images]
    if len({im.size for im in images}) > 1:
        raise UserError(f"{where}: images differ in size; set data.img_size to resize them")
    return from_uint8(np.stack([np.asarray(im) for im in images]))


def split_pairs(root: Path) -> tuple[list[Image.Image], list[Image.Image], list[str]]:
    """The A and B halves of side-by-side ``A|B`` files, or the files of ``A/`` and ``B/`` matched by name."""
    if (root / "A").is_dir() and (root / "B").is_dir():
        files_a = {p.stem: p for p in list_images(root / "A")}
        files_b = {p.stem: p for p in list_images(root / "B")}
        unmatched = sorted(set(files_a) ^ set(files_b))
        if unmatched:
            side = "A" if unmatched[0] in files_a else "B"
            raise UserError(
                f"data.root={root}: {len(unmatched)} file(s) without a partner of the same name, "
                f"e.g. {side}/{(files_a.get(unmatched[0]) or files_b[unmatched[0]]).name}"
            )
        names = sorted(files_a)
        return [_read(files_a[n]) for n in names], [_read(files_b[n]) for n in names], names
    files = list_images(root)
    if not files:
        raise UserError(f"data.root={root}: no images, and no A/ and B/ folders")
    a, b = [], []
    for f in files:
        im = _read(f)
        if im.width % 2:
            raise UserError(f"{f}: {im.width} pixels wide; a side-by-side A|B pair needs an even width")
        half = im.width // 2
        a.append(im.crop((0, 0, half, im.height)))
        b.append(im.crop((half, 0, im.width, im.height)))
    return a, b, [f.stem for f in files]


@register("paired-folder")
def paired_folder(split="train", root=None, img_size=None, channels=None) -> TensorData:
    """Pairs from ``data.root`` (see the module docstring): ``x`` the B images, ``extra["a"]`` the A images."""
    if root is None:
        raise UserError("data.root: paired-folder reads pairs from a folder you name (A|B images, or A/ and B/)")
    base = Path(root).expanduser()
    if not base.is_dir():
        raise UserError(f"data.root={root}: no such folder")
    folder = base / split if (base / split).is_dir() else base
    a, b, _ = split_pairs(folder)
    if channels is None:
        channels = 1 if _is_gray(a) and _is_gray(b) else 3
    xa = _stack(a, channels, img_size, f"{folder} (A)")
    xb = _stack(b, channels, img_size, f"{folder} (B)")
    if xa.shape != xb.shape:
        sizes = f"A is {tuple(xa.shape[-2:])} and B {tuple(xb.shape[-2:])}"
        raise UserError(f"data.root={root}: {sizes}; set data.img_size")
    return TensorData(xb, name=f"paired-folder:{folder}", extra={"a": xa})
