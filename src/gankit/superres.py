"""Using a trained super-resolution run: upscale image files, and score it on a test set such as Set5 or Set14.

    >>> from gankit.superres import upscale_files, score_images
    >>> upscale_files("runs/srgan", ["photo.png"], "out/")                  # doctest: +SKIP
    >>> score_images("runs/srresnet", "../shared/data/sr/Set5")["psnr"]      # doctest: +SKIP
    30.1

Scoring follows Ledig et al. 2017: each test image is cropped to a multiple of the scale, downscaled by antialiased
bicubic interpolation and rounded to 8 bits (the input), upscaled by the model, rounded to 8 bits (the output as a
PNG would hold it), and compared with the original on the luma channel with ``scale`` border pixels shaved.
``run=None`` scores plain bicubic upscaling, the baseline (28.43 dB on Set5 at 4x in the paper).
"""

from __future__ import annotations

from pathlib import Path

import torch

from gankit.data.photos import image_paths, read_image
from gankit.errors import UserError
from gankit.images import save_image
from gankit.methods.superres import quantize, sr_scores
from gankit.nets.srresnet import downscale_bicubic, upscale_bicubic
from gankit.train.restore import load_method


class Upscaler:
    """A trained ``superres`` run's G (``run``), or plain bicubic interpolation (``run=None``, ``scale`` given)."""

    def __init__(self, run: str | Path | None, scale: int = 4, device: str = "cpu"):
        if run is None:
            self.method, self.scale, self.channels, self.name = None, scale, 3, "bicubic"
            return
        self.method, cfg = load_method(run, device)
        if cfg.method != "superres":
            raise UserError(f"{run}: a {cfg.method} run; upscaling needs a superres run")
        self.scale, self.channels, self.name = cfg.superres.scale, self.method.channels, str(run)

    def __call__(self, low_res: torch.Tensor) -> torch.Tensor:
        """1 x C x h x w in [-1, 1] -> 1 x C x (scale h) x (scale w), rounded to 8 bits."""
        if self.method is None:
            return quantize(upscale_bicubic(low_res, self.scale))
        x = low_res if low_res.shape[1] == self.channels else _to_channels(low_res, self.channels)
        out = quantize(self.method.upscale(x).cpu())
        return out if out.shape[1] == low_res.shape[1] else _to_channels(out, low_res.shape[1])


def _to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    return x.mean(1, keepdim=True) if channels == 1 else x.expand(-1, channels, -1, -1)


def _mod_crop(x: torch.Tensor, scale: int) -> torch.Tensor:
    h, w = x.shape[-2:]
    return x[..., : h - h % scale, : w - w % scale]


def score_images(run: str | Path | None, images: str | Path | list, *, scale: int = 4, out_dir=None) -> dict:
    """PSNR, SSIM (luma, border shaved) and the high-frequency ratio of a run (or bicubic) on test images.

    Args:
        run: a ``superres`` run directory, or None for bicubic upscaling.
        images: a folder of images (e.g. Set5) or a list of files and folders.
        scale: the factor for bicubic (a run uses its own).
        out_dir: also save each upscaled image here as PNG.

    Returns:
        ``psnr``, ``ssim``, ``hf_ratio`` (means over images), ``per_image`` (name -> the three), ``model``, ``scale``.
    """
    up = Upscaler(run, scale)
    paths = image_paths(images if isinstance(images, list) else [images])
    per_image = {}
    for path in paths:
        truth = _mod_crop(read_image(path), up.scale)  # grayscale files become RGB with R = G = B (same luma)
        low = quantize(downscale_bicubic(truth, up.scale))
        out = up(low)
        per_image[path.stem] = {k: float(v) for k, v in sr_scores(out, truth, up.scale).items()}
        if out_dir is not None:
            save_image(out[0], Path(out_dir) / f"{path.stem}.png")
    means = {k: sum(s[k] for s in per_image.values()) / len(per_image) for k in ("psnr", "ssim", "hf_ratio")}
    return {**means, "per_image": per_image, "model": up.name, "scale": up.scale}


def upscale_files(run: str | Path | None, inputs: list, out_dir: str | Path, *, scale: int = 4) -> list[Path]:
    """Upscale image files (or every image in folders) by the run's G; writes ``out_dir/<name>.png``."""
    up = Upscaler(run, scale)
    written = []
    for path in image_paths(inputs):
        mode = "L" if up.channels == 1 else "RGB"
        written.append(save_image(up(read_image(path, mode))[0], Path(out_dir) / f"{path.stem}.png"))
    return written
