"""What a method shows of itself while it trains: a :class:`Preview`, rendered by its kind.

The loop saves ``method.preview()`` every ``train.sample_every`` steps as ``samples/step_N.png``, without
knowing what it shows: an image grid (GANs, VAEs), a scatter of points (toys, DANN on 2-D data), and
strips of video frames (next-frame prediction), and later spectrograms, each one renderer here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from gankit.images import save_grid, save_image, save_points


@dataclass
class Preview:
    """``kind``: ``images`` (``data`` N x C x H x W in [-1, 1], ``nrow`` per row), ``points`` (N x D,
    coloured by ``labels`` when given), ``audio`` (N x C x T clips at ``rate`` samples per second, 0 for 16 kHz:
    spectrograms and WAV files) or ``frames``
    (``data`` R x T x C x H x W in [-1, 1]: a strip of T frames per row, with a wider gap before frame ``split``
    when given, e.g. between context and prediction)."""

    kind: str
    data: torch.Tensor
    nrow: int | None = None
    labels: torch.Tensor | None = None
    title: str = ""
    split: int | None = None
    rate: int = 0


def samples_preview(x: torch.Tensor, nrow: int | None = None, rate: int = 0) -> Preview:
    """Generated samples as a preview: an image grid for images, spectrograms (and WAVs at ``rate``) for audio, a
    scatter for points."""
    return Preview({4: "images", 3: "audio"}.get(x.ndim, "points"), x.detach().cpu(), nrow=nrow, rate=rate)


def frame_strips(frames: torch.Tensor, split: int | None = None, padding: int = 2, gap: int = 8) -> torch.Tensor:
    """Rows of frames as one C x H' x W' image in [-1, 1] on a white background.

    Args:
        frames: R x T x C x H x W in [-1, 1]; frame t of row r goes to column t (a white frame reads as empty).
        split: a ``gap``-pixel space (instead of ``padding``) before column ``split``.
        padding: pixels between frames and around the image.
        gap: the width of the space at ``split``.
    """
    r, t, c, h, w = frames.shape
    extra = gap - padding if split is not None and 0 < split < t else 0
    width = t * (w + padding) + padding + extra
    out = torch.ones(c, r * (h + padding) + padding, width, dtype=torch.float32)
    for i in range(r):
        for j in range(t):
            top, left = padding + i * (h + padding), padding + j * (w + padding) + (extra if j >= (split or t) else 0)
            out[:, top : top + h, left : left + w] = frames[i, j].float()
    return out


def save_preview(preview: Preview, path: str | Path) -> Path:
    """Render ``preview`` to the PNG ``path``."""
    if preview.kind == "images":
        return save_grid(preview.data, path, nrow=preview.nrow)
    if preview.kind == "points":
        return save_points(preview.data, path, labels=preview.labels, title=preview.title)
    if preview.kind == "audio":  # N x C x T clips: spectrograms, and WAV files beside the PNG
        from gankit.sound import SAMPLE_RATE, save_audio_preview

        return save_audio_preview(preview.data, path, preview.rate or SAMPLE_RATE)
    if preview.kind == "frames":
        return save_image(frame_strips(preview.data, preview.split), path, scale=max(1, 64 // preview.data.shape[-1]))
    raise ValueError(f"no renderer for previews of kind '{preview.kind}'")
