"""Photographs at their own size: the BSDS500 set (``bsds500``), image files of any size, and random crops.

Super-resolution trains on random crops of large photographs and is tested on whole images of assorted sizes
(Set5, Set14), so these loaders keep every photograph's resolution instead of resizing it to a square.

``bsds500`` (Arbelaez, Maire, Fowlkes & Malik 2011) is not shipped and never downloaded in tests: point
``data.root`` at the folder holding its ``train/``, ``val/`` and ``test/`` JPEGs (500 photographs, 481 x 321).
Split ``train`` is the 300 train and val photographs (the SR papers' convention for BSDS), ``test`` the other 200.
Portrait photographs are turned to landscape so that all of them stack into one N x 3 x 321 x 481 tensor
(rotating a training photograph is harmless for crops).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gankit.data.base import TensorData, register
from gankit.data.folder import EXTENSIONS, list_images
from gankit.errors import UserError
from gankit.images import from_uint8

BSDS_SPLITS = {"train": ("train", "val"), "test": ("test",)}


def read_image(path: str | Path, mode: str = "RGB") -> torch.Tensor:
    """One image file as a 1 x C x H x W tensor in [-1, 1] (``mode`` ``RGB`` or ``L``)."""
    try:
        with Image.open(path) as im:
            a = np.asarray(im.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None
    return from_uint8(a[None] if a.ndim == 3 else a[None, :, :, None])


def image_paths(items: list[str | Path]) -> list[Path]:
    """Image files named directly or found (recursively, sorted) in the folders named; one-line error if none."""
    paths: list[Path] = []
    for item in items:
        p = Path(item).expanduser()
        if p.is_dir():
            found = list_images(p)
            if not found:
                raise UserError(f"{item}: no images (PNG/JPEG) in this folder")
            paths += found
        elif p.is_file():
            if p.suffix.lower() not in EXTENSIONS:
                raise UserError(f"{item}: not an image file ({', '.join(sorted(EXTENSIONS))})")
            paths.append(p)
        else:
            raise UserError(f"{item}: no such file or folder")
    return paths


def random_crops(x: torch.Tensor, size: int, generator: torch.Generator | None = None, align: int = 1):
    """One random ``size`` x ``size`` window from each image of ``x`` (N x C x H x W), its corner on a multiple of
    ``align`` (the SR scale, so that a crop's downscaled version lines up with the photograph's pixel grid).

    Returns (crops N x C x size x size, corners N x 2 as (top, left)). Images no larger than ``size`` are returned
    whole.
    """
    n, _, h, w = x.shape
    if h <= size and w <= size:
        return x, torch.zeros(n, 2, dtype=torch.long)
    if size > h or size > w:
        raise ValueError(f"a crop of {size} does not fit images of {h} x {w}")
    top = torch.randint(0, (h - size) // align + 1, (n,), generator=generator) * align
    left = torch.randint(0, (w - size) // align + 1, (n,), generator=generator) * align
    # Gather with one index per pixel (no Python loop over the batch): rows top..top+size, columns left..left+size.
    r = top[:, None] + torch.arange(size)  # N x size
    c = left[:, None] + torch.arange(size)
    idx = (r[:, :, None] * w + c[:, None, :]).flatten(1)  # N x size*size, into the flattened H*W plane
    flat = x.flatten(2)  # N x C x H*W
    crops = flat.gather(2, idx[:, None, :].expand(-1, x.shape[1], -1).to(x.device))
    return crops.view(n, x.shape[1], size, size), torch.stack([top, left], 1)


@register("bsds500")
def load_bsds500(split: str = "train", root: str | None = None, img_size=None, channels=None) -> TensorData:
    """BSDS500 photographs from ``root`` (see the module docstring), landscape, in [-1, 1]."""
    if root is None:
        raise UserError(
            "data.root: bsds500 is read from a folder you name (with train/, val/ and test/ of JPEGs), "
            "e.g. data.root=../shared/data/bsds500; get it from the Berkeley BSR page (BSR_bsds500.tgz)"
        )
    if img_size is not None:
        raise UserError("data.img_size: bsds500 photographs keep their size (methods crop them); leave it unset")
    base = Path(root).expanduser()
    folders = [base / s for s in BSDS_SPLITS[split]]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise UserError(f"data.root={root}: no folder {missing[0]} (bsds500 needs train/, val/ and test/)")
    mode = "L" if channels == 1 else "RGB"
    photos = []
    for path in sorted(p for f in folders for p in f.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        im = read_image(path, mode)
        if im.shape[-2] > im.shape[-1]:  # portrait -> landscape
            im = im.transpose(-2, -1).flip(-1)
        photos.append(im)
    sizes = {tuple(p.shape[-2:]) for p in photos}
    if not photos or len(sizes) > 1:
        raise UserError(f"data.root={root}: expected BSDS500's 481 x 321 photographs, found sizes {sorted(sizes)}")
    return TensorData(x=torch.cat(photos), name="bsds500")
