"""Using a trained SEGAN run: enhance WAV files (``gankit enhance``).

    >>> from gankit.enhance import enhance_files
    >>> enhance_files("runs/segan-fsdd", ["noisy/a.wav", "noisy/b.wav"], "clean/")       # doctest: +SKIP
    [PosixPath('clean/a.wav'), PosixPath('clean/b.wav')]

Each file is read as training clips were (mono, resampled to 16 kHz) and scaled to peak 1, as the noisy clips of
training are; G's output is scaled back to the input's level and written as 16-bit PCM at 16 kHz under the input's
name. Every input is read before anything is written, and the outputs go to a temporary folder beside ``out_dir``
that is moved into place at the end: a corrupt file is a one-line error naming it, and nothing is written.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from gankit.data.audio import SAMPLE_RATE, read_wav, resample, write_wav
from gankit.errors import UserError
from gankit.train.restore import load_method


def read_input(path: str | Path) -> np.ndarray:
    """One WAV file as float32 mono samples at 16 kHz (a one-line :class:`UserError` naming a bad file)."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file")
    x, rate = read_wav(path)
    return resample(x, rate, SAMPLE_RATE)


def enhance_clip(method, x: np.ndarray) -> np.ndarray:
    """Enhance one signal (T samples at 16 kHz) with a SEGAN ``method``, at the input's level."""
    peak = float(np.abs(x).max())
    if peak == 0:
        return x.copy()  # silence stays silent
    y = method.enhance(torch.from_numpy(x / peak).float()[None, None])[0, 0]
    return y.numpy() * peak


def enhance_files(run: str | Path, inputs: list[str | Path], out_dir: str | Path, *, device: str = "cpu"):
    """Enhance WAV files with a SEGAN run; writes ``out_dir/<input name>`` (16 kHz, 16-bit PCM).

    Args:
        run: a segan run directory.
        inputs: WAV files (their names must differ).
        out_dir: where the outputs go (created; files of the same name are replaced).
        device: cpu, cuda or cuda:N.

    Returns:
        The paths written, in input order.
    """
    method, cfg = load_method(run, device)
    if not hasattr(method, "enhance"):
        raise UserError(f"{run}: a {cfg.method} run; enhancing speech needs a segan run")
    paths = [Path(p).expanduser() for p in inputs]
    names = [p.name for p in paths]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"two inputs share the name {twice[0]}; outputs are named after their inputs")
    signals = [read_input(p) for p in paths]  # every file is checked before anything is written
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix=f".{out.name}-", dir=out.parent) as tmp:
        for name, x in zip(names, signals):
            write_wav(Path(tmp) / name, np.clip(enhance_clip(method, x), -1.0, 1.0))
        for name in names:  # all outputs exist: move them into place
            shutil.move(str(Path(tmp) / name), out / name)
            written.append(out / name)
    return written
