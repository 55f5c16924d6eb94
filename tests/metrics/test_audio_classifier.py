"""The spoken-digit classifier behind the audio scores: mel filters, gain-blind log-mel input, the shipped weights
(on real FSDD test clips when ../shared/data is there), and the extractor's interface."""

from pathlib import Path

import pytest
import torch

from gankit.errors import UserError
from gankit.metrics.audio_classifier import (
    N_FFT,
    SpokenDigitNet,
    fit_digit_classifier,
    load_digit_classifier,
    log_mel,
    mel_filterbank,
    save_digit_classifier,
    shipped_path,
)
from gankit.metrics.extractors import get_extractor

FSDD = Path(__file__).resolve().parents[3] / "shared" / "data" / "fsdd"


def test_one_mel_filter_is_the_triangle_from_0_to_nyquist_peaking_at_the_mel_midpoint():
    # mel(f) = 2595 log10(1 + f / 700): half of mel(8 kHz) is at f = 700 (sqrt(1 + 8000 / 700) - 1) = 1767.8 Hz
    centre = 700 * ((1 + 8000 / 700) ** 0.5 - 1)
    fb = mel_filterbank(n_mels=1, n_fft=16, rate=16000)[0]  # bins every 1 kHz, 0 .. 8 kHz
    expected = [0.0, 1000 / centre] + [(8000 - f) / (8000 - centre) for f in range(2000, 9000, 1000)]
    torch.testing.assert_close(fb, torch.tensor(expected), atol=1e-5, rtol=0)
    assert mel_filterbank().shape == (40, N_FFT // 2 + 1)


def test_log_mel_is_blind_to_gain_and_in_minus_one_zero():
    x = torch.randn(2, 1, 4096)
    a, b = log_mel(x), log_mel(0.1 * x)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert a.shape == (2, 1, 40, 4096 // 256 + 1) and a.max() == 0 and a.min() >= -1


def test_a_short_fit_learns_two_tones_and_round_trips_through_safetensors(tmp_path):
    t = torch.arange(4096) / 16000
    x = torch.stack([torch.sin(2 * torch.pi * f * t) for f in [300.0] * 16 + [2500.0] * 16])[:, None]
    y = torch.tensor([0] * 16 + [1] * 16)
    model = fit_digit_classifier(x, y, epochs=4, batch_size=8, lr=1e-2, max_shift=100)
    assert (model(x).argmax(1) == y).float().mean() == 1.0
    path = save_digit_classifier(model, tmp_path / "c.safetensors", {"test_accuracy": "1.0"})
    loaded, meta = load_digit_classifier(path)
    torch.testing.assert_close(loaded(x), model(x))
    assert meta["test_accuracy"] == "1.0" and loaded.num_classes == 2


def test_a_missing_or_foreign_weights_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_digit_classifier(tmp_path / "none.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(UserError, match="not a spoken-digit classifier"):
        load_digit_classifier(tmp_path / "bad.safetensors")


def test_the_shipped_classifier_is_small_and_the_extractor_takes_clips():
    assert shipped_path().stat().st_size < 1_000_000
    ex = get_extractor("fsdd-classifier")
    f, p = ex.features_and_probs(torch.zeros(2, 1, 16384).uniform_(-0.1, 0.1))
    assert f.shape == (2, SpokenDigitNet.feature_dim) and p.shape == (2, 10)
    torch.testing.assert_close(p.sum(1), torch.ones(2))
    with pytest.raises(UserError, match="N x 1 x T audio clips"):
        ex.features_and_probs(torch.zeros(2, 1, 28, 28))


@pytest.mark.skipif(not FSDD.is_dir(), reason="../shared/data/fsdd (the Free Spoken Digit Dataset) is absent")
def test_the_shipped_classifier_recognises_real_test_digits():
    from gankit.data.audio import load_clips

    files = sorted(FSDD.glob("*_*_[01].wav"))[::2]  # 60 test recordings (indices 0-4 are the test split)
    y = torch.tensor([int(f.name[0]) for f in files])
    model, meta = load_digit_classifier()
    accuracy = (model(load_clips(files)).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.9 and float(meta["test_accuracy"]) >= 0.9
