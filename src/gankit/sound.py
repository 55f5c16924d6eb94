"""Seeing and hearing audio samples: log-magnitude spectrograms, a spectrogram figure, and WAV files.

An audio preview (``Preview`` of kind ``audio``, N x 1 x T clips in [-1, 1] at 16 kHz) is saved as a PNG of
spectrograms (``samples/step_N.png``, like every preview) plus the first clips as WAV files beside it
(``samples/step_N/00.wav`` ...), so a run can be listened to while it trains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit.data.audio import SAMPLE_RATE, write_wav
from gankit.errors import UserError

N_FFT, HOP = 512, 128  # 32 ms windows every 8 ms at 16 kHz: resolves the formants of speech (~ 100 Hz bins)
WAVS_PER_PREVIEW = 8


def spectrogram(x: torch.Tensor, n_fft: int = N_FFT, hop: int = HOP, floor_db: float = -80.0) -> torch.Tensor:
    """Log-magnitude spectrogram in dB of clips (... x T), Hann window: (... x (n_fft/2 + 1) x frames).

    Magnitudes are relative to a full-scale sine's peak bin (0 dB) and floored at ``floor_db``."""
    window = torch.hann_window(n_fft, device=x.device)
    flat = x.reshape(-1, x.shape[-1]).float()
    mag = torch.stft(flat, n_fft, hop, window=window, return_complex=True).abs() / (window.sum() / 2)
    db = 20 * torch.log10(mag.clamp_min(10 ** (floor_db / 20)))
    return db.reshape(*x.shape[:-1], *db.shape[-2:])


def save_spectrograms(
    clips: torch.Tensor, path: str | Path, rate: int = SAMPLE_RATE, titles: list[str] | None = None, ncol: int = 4
) -> Path:
    """A PNG of the spectrograms of N clips (N x 1 x T or N x T): time in s across, frequency in kHz up."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = clips.detach().cpu().reshape(len(clips), -1)
    spec = spectrogram(x).numpy()
    n = len(x)
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol, 2.0 * nrow), squeeze=False, sharex=True, sharey=True)
    extent = (0.0, x.shape[1] / rate, 0.0, rate / 2000)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(spec[i], origin="lower", aspect="auto", extent=extent, cmap="magma", vmin=-80, vmax=0)
        if titles:
            ax.set_title(titles[i], fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("kHz")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def spectrogram_grid(clips: torch.Tensor, ncol: int = 4, gap: int = 4) -> np.ndarray:
    """The spectrograms of N clips side by side as one RGB image (uint8 H x W x 3; low frequencies at the bottom,
    -80..0 dB through the magma colour map, white gaps): a preview without axes, ten times faster to draw than
    :func:`save_spectrograms`' labelled figure, which matters when a run saves one every few steps."""
    from matplotlib import colormaps

    spec = spectrogram(clips.detach().cpu().reshape(len(clips), -1))[:, ::2].flip(1)  # [N, 129, frames]: every
    # second frequency bin (62.5 Hz apart), high frequencies at the top: about square for 16,384 samples
    n, h, w = spec.shape
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    grid = np.ones((nrow * (h + gap) + gap, ncol * (w + gap) + gap, 3), np.uint8) * 255
    rgb = (colormaps["magma"](((spec + 80) / 80).clamp(0, 1).numpy())[..., :3] * 255).astype(np.uint8)
    for i in range(n):
        top, left = gap + (i // ncol) * (h + gap), gap + (i % ncol) * (w + gap)
        grid[top : top + h, left : left + w] = rgb[i]
    return grid


def save_audio_preview(clips: torch.Tensor, path: str | Path, rate: int = SAMPLE_RATE) -> Path:
    """The spectrograms of the first :data:`WAVS_PER_PREVIEW` clips as a PNG at ``path`` (:func:`spectrogram_grid`)
    and the clips as ``<path stem>/NN.wav``."""
    from PIL import Image

    path = Path(path)
    for i, clip in enumerate(clips[:WAVS_PER_PREVIEW]):
        write_wav(path.with_suffix("") / f"{i:02d}.wav", clip, rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(spectrogram_grid(clips[:WAVS_PER_PREVIEW])).save(path)
    return path


def save_audio_samples(clips: torch.Tensor, out: str | Path, rate: int = SAMPLE_RATE) -> Path:
    """``gankit sample`` for audio runs: ``DIR`` or ``FILE.wav`` (N WAV files ``FILE_000.wav`` ...), ``FILE.png``
    (spectrograms) or ``FILE.npz`` (``audio``: float32 N x C x T, ``rate``). Returns the file or folder written."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".png":
        return save_spectrograms(clips, out, rate)
    if suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(out, audio=clips.float().numpy(), rate=rate)
        return out
    if suffix == ".wav":
        for i, clip in enumerate(clips):
            write_wav(out.with_name(f"{out.stem}_{i:03d}.wav"), clip, rate)
        return out.parent
    if suffix:
        raise UserError(f"{out}: audio samples go to a folder, FILE.wav, FILE.png or FILE.npz")
    for i, clip in enumerate(clips):
        write_wav(out / f"{i:03d}.wav", clip, rate)
    return out
