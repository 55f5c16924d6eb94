"""Using a trained translation run (``pix2pix``, ``cyclegan``): translate every image of a folder.

    >>> from gankit.translate import translate_folder
    >>> translate_folder("runs/pix2pix", "edges/", "garments/")                  # doctest: +SKIP
    [PosixPath('garments/0001.png'), ...]

Every input is read (and checked) before anything is written, and the outputs go to a temporary folder beside
``out_dir`` that is moved into place at the end: a corrupt image is a one-line error naming it, with no output
written. Inputs are converted to the run's channels (gray or RGB) and resized to its image size when they differ;
outputs keep the folder structure below the input folder, as PNG.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch
from tqdm import tqdm

from gankit.data.photos import image_paths, read_image
from gankit.errors import UserError
from gankit.images import resize, save_image
from gankit.train.restore import load_method

DIRECTIONS = ("AtoB", "BtoA")


class Translator:
    """A trained translation run's generator for one ``direction`` (default: the run's own, AtoB for CycleGAN)."""

    def __init__(self, run: str | Path, direction: str | None = None, device: str = "cpu"):
        if direction not in (None, *DIRECTIONS):
            raise UserError(f"--direction {direction}: use AtoB or BtoA")
        self.method, cfg = load_method(run, device)
        if not hasattr(self.method, "translate"):
            raise UserError(f"{run}: a {cfg.method} run; translating needs a pix2pix or cyclegan run")
        self.direction, self.channels, self.size = direction, self.method.channels, self.method.size
        probe = torch.zeros(1, self.channels, self.size, self.size)
        self.method.translate(probe, direction)  # a direction the run lacks fails now, before any file is read

    def read(self, path: Path) -> torch.Tensor:
        """One image file as the run's input: 1 x C x size x size in [-1, 1]."""
        x = read_image(path, "L" if self.channels == 1 else "RGB")
        return x if x.shape[-2:] == (self.size, self.size) else resize(x, self.size)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.method.translate(x, self.direction).cpu()


def translate_folder(
    run: str | Path, input_dir: str | Path, out_dir: str | Path, *, direction: str | None = None,
    batch_size: int = 64, progress: bool = False, device: str = "cpu",
) -> list[Path]:
    """Translate every image below ``input_dir`` with the run's G; writes ``out_dir/<relative path>.png``.

    Args:
        run: a pix2pix or cyclegan run directory.
        input_dir: a folder of images (searched recursively).
        out_dir: where the outputs go (created; files of the same name are replaced).
        direction: AtoB or BtoA (CycleGAN has both; a pix2pix run only the one it was trained in).
        batch_size: images per forward pass.
        progress: show a progress bar.

    Returns:
        The paths written, in input order.
    """
    translator = Translator(run, direction, device)
    base = Path(input_dir).expanduser()
    if not base.is_dir():
        raise UserError(f"{input_dir}: no such folder")
    paths = image_paths([base])
    inputs = [translator.read(p) for p in paths]  # every file is checked before anything is written
    names = [p.relative_to(base).with_suffix(".png") for p in paths]
    out = Path(out_dir).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent) as tmp:
        with tqdm(total=len(paths), desc="translate", unit="img", disable=not progress, dynamic_ncols=True) as bar:
            for start in range(0, len(inputs), batch_size):
                batch = translator(torch.cat(inputs[start : start + batch_size]))
                for name, img in zip(names[start : start + batch_size], batch):
                    save_image(img, Path(tmp) / name)
                bar.update(len(batch))
        written = []
        for name in names:  # all outputs exist: move them into place
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(tmp) / name), out / name)
            written.append(out / name)
    return written
