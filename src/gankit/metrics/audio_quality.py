"""Objective quality of enhanced speech: segmental SNR (the measure SEGAN reports beside PESQ and STOI).

Segmental SNR (Hansen & Pellom 1998; the ``comp_snr`` routine of Loizou's "Speech Enhancement: Theory and
Practice", whose MATLAB code Pascual et al. 2017 used for SEGAN's Table 1) averages the SNR of short frames,
each clamped to [-10, 35] dB, so that silent frames (huge or hopeless SNRs) do not dominate:

    SSNR = mean_frames clamp( 10 log10( sum_t s_w(t)^2 / sum_t (s_w(t) - y_w(t))^2 ), -10, 35 )

with s the clean and y the estimated signal, framed in 30 ms windows every 7.5 ms (Hann-weighted).

PESQ (ITU-T P.862.2, wide band: -0.5 to 4.5, as SEGAN reports it) and STOI (Taal et al. 2011, 0 to 1) come from
the PyPI packages ``pesq`` and ``pystoi`` (the optional extra ``pip install 'gankit[speech]'``): :func:`pesq_score`
and :func:`stoi_score` wrap them for batches of clips, and :func:`enhancement_scores` gives all three.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from gankit.data.audio import SAMPLE_RATE
from gankit.errors import UserError

MIN_DB, MAX_DB = -10.0, 35.0
EPS = 2.2204e-16  # MATLAB's eps, as in comp_snr


def segmental_snr(
    clean: torch.Tensor,
    estimate: torch.Tensor,
    rate: int = SAMPLE_RATE,
    frame_ms: float = 30.0,
    hop_ms: float | None = None,
    window: bool = True,
) -> torch.Tensor:
    """Segmental SNR in dB of ``estimate`` against ``clean`` (both ... x T): one value per leading index.

    Args:
        clean, estimate: signals of the same shape, time last.
        rate: sample rate (frames are given in ms).
        frame_ms: frame length (30 ms); ``hop_ms`` the hop (None: a quarter of the frame, 75% overlap).
        window: weight each frame with a Hann window (False: rectangular, for hand-checkable values).

    Returns:
        A tensor of the leading shape (a 0-dim tensor for 1-D signals).
    """
    if clean.shape != estimate.shape:
        raise ValueError(f"clean and estimate differ in shape: {list(clean.shape)} vs {list(estimate.shape)}")
    frame = round(frame_ms * rate / 1000)
    hop = round(hop_ms * rate / 1000) if hop_ms is not None else frame // 4
    if clean.shape[-1] < frame:
        raise ValueError(f"signals of {clean.shape[-1]} samples are shorter than one frame ({frame})")
    s = clean.double().unfold(-1, frame, hop)  # [..., frames, frame]
    e = (clean.double() - estimate.double()).unfold(-1, frame, hop)
    if window:
        w = torch.hann_window(frame, periodic=False, dtype=torch.float64, device=clean.device)
        s, e = s * w, e * w
    snr = 10 * torch.log10(s.square().sum(-1) / (e.square().sum(-1) + EPS) + EPS)
    return snr.clamp(MIN_DB, MAX_DB).mean(-1)


def _rows(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().double().reshape(-1, x.shape[-1]).numpy()


def pesq_score(clean: torch.Tensor, estimate: torch.Tensor, rate: int = SAMPLE_RATE, mode: str = "wb") -> torch.Tensor:
    """PESQ (ITU-T P.862; ``mode`` ``wb``: P.862.2 wide band, ``nb``: narrow band) of each clip (... x T -> N).

    A clip in which the algorithm finds no speech (an all-silent reference) scores NaN."""
    try:
        from pesq import pesq
    except ImportError:
        raise UserError("PESQ needs the pesq package: pip install 'gankit[speech]'") from None
    out = []
    for s, y in zip(_rows(clean), _rows(estimate)):
        try:
            out.append(float(pesq(rate, s, y, mode)))
        except Exception:  # noqa: BLE001  (pesq raises NoUtterancesError and friends for silent clips)
            out.append(math.nan)
    return torch.tensor(out, dtype=torch.float64)


def stoi_score(clean: torch.Tensor, estimate: torch.Tensor, rate: int = SAMPLE_RATE, extended: bool = False):
    """STOI (Taal et al. 2011; ``extended``: ESTOI, Jensen & Taal 2016) of each clip (... x T -> N), 0 to 1.

    STOI correlates 384 ms segments of the clean reference's voiced frames; a clip with fewer (a short word) has no
    score, NaN here (``pystoi`` warns and returns 1e-5)."""
    try:
        from pystoi import stoi
    except ImportError:
        raise UserError("STOI needs the pystoi package: pip install 'gankit[speech]'") from None
    scores = []
    for s, y in zip(_rows(clean), _rows(estimate)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = float(stoi(s, y, rate, extended=extended))
        scores.append(math.nan if any("Not enough STFT frames" in str(w.message) for w in caught) else value)
    return torch.tensor(scores, dtype=torch.float64)


def _nanmean(x: torch.Tensor) -> float:
    return float(x[~x.isnan()].mean()) if (~x.isnan()).any() else math.nan


def enhancement_scores(clean: torch.Tensor, estimate: torch.Tensor, rate: int = SAMPLE_RATE) -> dict[str, float]:
    """Means over clips of ``segsnr`` (dB), ``pesq`` (wide band) and ``stoi``, leaving out the clips without a
    PESQ or STOI value (NaN)."""
    return {
        "segsnr": float(segmental_snr(clean, estimate, rate).mean()),
        "pesq": _nanmean(pesq_score(clean, estimate, rate)),
        "stoi": _nanmean(stoi_score(clean, estimate, rate)),
    }
