"""Segmental SNR against hand-computed values."""

import math

import pytest
import torch

from gankit.metrics.audio_quality import segmental_snr


def test_three_rectangular_frames_by_hand():
    # frames of 10 samples (10 ms at 1 kHz), no overlap: errors of 0.1 s (20 dB), s (0 dB) and none (35 dB, clamped)
    s = torch.randn(30, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = s.clone()
    y[:10] += 0.1 * s[:10]
    y[10:20] = 0.0
    ssnr = segmental_snr(s, y, rate=1000, frame_ms=10, hop_ms=10, window=False)
    assert float(ssnr) == pytest.approx((20 + 0 + 35) / 3, abs=1e-9)


def test_a_constant_ratio_of_error_to_signal_gives_that_snr_in_every_frame():
    s = torch.randn(2, 16000, generator=torch.Generator().manual_seed(1))
    ssnr = segmental_snr(s, s * (1 - 10 ** (-6 / 20)))  # error = s * 10^(-6/20): 6 dB in every frame, any window
    torch.testing.assert_close(ssnr, torch.full((2,), 6.0, dtype=torch.float64))


def test_the_frames_clamp_at_minus_10_db():
    s = torch.randn(16000, generator=torch.Generator().manual_seed(2))
    assert float(segmental_snr(s, -10 * s)) == pytest.approx(-10.0)  # 20 log10(1/11) = -20.8 dB, clamped
    assert 20 * math.log10(1 / 11) < -10


def test_shapes_must_agree_and_hold_one_frame():
    with pytest.raises(ValueError, match="differ in shape"):
        segmental_snr(torch.zeros(1000), torch.zeros(999))
    with pytest.raises(ValueError, match="shorter than one frame"):
        segmental_snr(torch.zeros(100), torch.zeros(100))
