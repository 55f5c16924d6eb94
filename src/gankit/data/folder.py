"""``folder:PATH``: a folder of PNG/JPEG images, searched recursively.

Images directly in sub-folders take the sub-folder's name as their class label. Each image is
resized (shorter side) and centre-cropped to ``img_size``, then converted to ``channels``
(default: grayscale when every image is grayscale, else RGB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gankit.data.base import TensorData
from gankit.errors import UserError
from gankit.images import from_uint8

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def _open(path: Path, size: int | None, mode: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im = im.convert(mode)
            if size is not None:
                scale = size / min(im.size)
                w, h = max(size, round(im.width * scale)), max(size, round(im.height * scale))
                im = im.resize((w, h), Image.Resampling.BICUBIC)
                left, top = (w - size) // 2, (h - size) // 2
                im = im.crop((left, top, left + size, top + size))
            return np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None


def list_images(root: Path) -> list[Path]:
    """The image files below ``root`` (by extension), sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())


def load_folder(path: str, img_size: int | None = None, channels: int | None = None) -> TensorData:
    """``folder:PATH``: every image below PATH, unlabelled, resized and converted (``img_size``, ``channels``)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UserError(f"folder:{path}: no such folder")
    files = list_images(root)
    if not files:
        raise UserError(f"folder:{path}: no images (PNG/JPEG) in this folder")
    if channels is None:
        channels = 1 if all(_mode(f) in ("L", "1", "I", "I;16", "LA") for f in files) else 3
    mode = "L" if channels == 1 else "RGB"
    arrays = [_open(f, img_size, mode) for f in files]
    if len({a.shape for a in arrays}) > 1:
        raise UserError(f"folder:{path}: images differ in size; set data.img_size to resize them")
    # Class labels: the first path component below the root, when every image sits in a sub-folder.
    parts = [f.relative_to(root).parts for f in files]
    classes: list[str] = []
    labels = None
    if all(len(p) > 1 for p in parts):
        classes = sorted({p[0] for p in parts})
        index = {c: i for i, c in enumerate(classes)}
        labels = torch.tensor([index[p[0]] for p in parts], dtype=torch.int64)
    return TensorData(x=from_uint8(np.stack(arrays)), y=labels, classes=classes, name=f"folder:{path}")


def _mode(path: Path) -> str:
    try:
        with Image.open(path) as im:  # reads the header only
            return im.mode
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise UserError(f"{path}: not a readable image ({type(e).__name__})") from None
