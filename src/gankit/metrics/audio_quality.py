"""Objective quality of enhanced speech: segmental SNR (the measure SEGAN reports beside PESQ and STOI).

Segmental SNR (Hansen & Pellom 1998; the ``comp_snr`` routine of Loizou's "Speech Enhancement: Theory and
Practice", whose MATLAB code Pascual et al. 2017 used for SEGAN's Table 1) averages the SNR of short frames,
each clamped to [-10, 35] dB, so that silent frames (huge or hopeless SNRs) do not dominate:

    SSNR = mean_frames clamp( 10 log10( sum_t s_w(t)^2 / sum_t (s_w(t) - y_w(t))^2 ), -10, 35 )

with s the clean and y the estimated signal, framed in 30 ms windows every 7.5 ms (Hann-weighted).
"""

from __future__ import annotations

import torch

from gankit.data.audio import SAMPLE_RATE

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
