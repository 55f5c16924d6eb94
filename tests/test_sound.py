"""Spectrograms (a full-scale sine is 0 dB at its bin) and the audio sample writers of `gankit sample`."""

import numpy as np
import pytest
import torch

from gankit.data.audio import read_wav
from gankit.errors import UserError
from gankit.sound import N_FFT, save_audio_samples, spectrogram, spectrogram_grid


def test_a_full_scale_sine_is_0_db_at_its_bin():
    k = 32  # bin 32 of a 512-point FFT at 16 kHz: 1 kHz, exactly on a bin
    t = torch.arange(4096)
    s = spectrogram(torch.sin(2 * torch.pi * k * t / N_FFT)[None, None])  # [1, 1, 257, frames]
    assert s.shape[:3] == (1, 1, N_FFT // 2 + 1)
    mid = s[0, 0, :, s.shape[-1] // 2]
    assert int(mid.argmax()) == k
    assert float(mid[k]) == pytest.approx(0.0, abs=0.05)
    assert float(mid.min()) == pytest.approx(-80.0)  # the floor


def test_audio_samples_go_to_wavs_png_or_npz(tmp_path):
    clips = torch.rand(2, 1, 1024) * 2 - 1
    save_audio_samples(clips, tmp_path / "wavs")
    x, rate = read_wav(tmp_path / "wavs" / "001.wav")
    assert rate == 16000 and np.allclose(x, clips[1, 0].numpy(), atol=1e-4)
    assert save_audio_samples(clips, tmp_path / "s.png").stat().st_size > 1000
    npz = np.load(save_audio_samples(clips, tmp_path / "s.npz"))
    assert npz["audio"].shape == (2, 1, 1024) and int(npz["rate"]) == 16000
    with pytest.raises(UserError, match="s.mp3"):
        save_audio_samples(clips, tmp_path / "s.mp3")


def test_the_preview_grid_puts_a_tone_at_its_row_from_the_bottom():
    t = torch.arange(16384)
    tone = torch.sin(2 * torch.pi * 64 * t / N_FFT)[None, None]  # bin 64 = 2 kHz -> row 32 of the halved bins
    grid = spectrogram_grid(torch.cat([tone, torch.zeros(4, 1, 16384)]))  # 5 clips: 2 rows of 4, gaps of 4
    assert grid.shape == (2 * (129 + 4) + 4, 4 * (129 + 4) + 4, 3) and grid.dtype == np.uint8
    assert (grid[:4] == 255).all() and (grid[:, :4] == 255).all()  # white gaps
    first = grid[4 : 4 + 129, 4 : 4 + 129].astype(int).sum(2)  # the tone's panel
    assert int(first[:, 64].argmax()) == 128 - 32  # row 0 is the top (8 kHz), row 128 the bottom (0 Hz)
