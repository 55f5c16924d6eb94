"""The audio loader: WAV reading (soundfile and the SciPy fallback), 16 kHz resampling, 16,384-sample clips,
peak normalisation, labels, FSDD's official split, and one-line errors for bad files."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.io import wavfile

from gankit.cli import main
from gankit.data import DataSpec, load_dataset
from gankit.data.audio import (CLIP_LENGTH, SAMPLE_RATE, clip_length, fit_length, load_clip, read_wav, resample,
                               resample_clips, write_wav)
from gankit.errors import UserError

FSDD = Path(__file__).resolve().parents[3] / "shared" / "data" / "fsdd"  # ../shared/data/fsdd from the repo root


def _tone(path: Path, hz: float = 440.0, rate: int = 8000, n: int = 4000, amp: float = 0.25) -> Path:
    t = np.arange(n) / rate
    wavfile.write(str(path), rate, np.round(amp * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16))
    return path


def _peak_hz(x: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(x))) * rate / len(x))


def test_a_clip_is_16384_samples_at_16_khz_peak_normalised(tmp_path):
    clip = load_clip(_tone(tmp_path / "a.wav"))  # 0.5 s at 8 kHz
    assert clip.shape == (CLIP_LENGTH,) and clip.dtype == np.float32
    assert np.abs(clip).max() == pytest.approx(1.0, abs=1e-6)  # 0.25 full scale, normalised to 1
    # 8 kHz -> 16 kHz: the 0.5 s tone now spans 8,000 samples and is still 440 Hz at the new rate
    voiced = np.flatnonzero(np.abs(clip) > 0.05)
    assert voiced[-1] - voiced[0] + 1 == pytest.approx(8000, abs=16)
    assert _peak_hz(clip[voiced[0] : voiced[-1] + 1], SAMPLE_RATE) == pytest.approx(440.0, abs=2.0)


def test_resample_keeps_the_frequency_and_scales_the_length():
    rate = 22050
    x = np.sin(2 * np.pi * 1000.0 * np.arange(rate) / rate).astype(np.float32)  # 1 s of 1 kHz
    y = resample(x, rate, SAMPLE_RATE)
    assert len(y) == SAMPLE_RATE
    assert _peak_hz(y, SAMPLE_RATE) == pytest.approx(1000.0, abs=1.0)


def test_resample_clips_keeps_the_tone_and_doubles_the_length():
    t = torch.arange(8192) / 8000
    clips = torch.stack([torch.sin(2 * torch.pi * 1000 * t), torch.sin(2 * torch.pi * 440 * t)])[:, None]
    up = resample_clips(clips, 8000, 16000)
    assert up.shape == (2, 1, 16384) and up.dtype == torch.float32
    assert _peak_hz(up[0, 0].numpy(), 16000) == pytest.approx(1000, abs=2)
    assert _peak_hz(up[1, 0].numpy(), 16000) == pytest.approx(440, abs=2)
    assert resample_clips(clips, 8000, 8000) is clips


def test_fit_length_centres_by_padding_and_cropping():
    np.testing.assert_array_equal(fit_length(np.array([1.0, 2.0, 3.0]), 6), [0, 1, 2, 3, 0, 0])
    np.testing.assert_array_equal(fit_length(np.arange(10.0), 4), [3, 4, 5, 6])
    np.testing.assert_array_equal(fit_length(np.arange(4.0), 4), [0, 1, 2, 3])


def test_soundfile_and_the_scipy_fallback_read_the_same_samples(tmp_path, monkeypatch):
    path = _tone(tmp_path / "a.wav", n=800)
    pytest.importorskip("soundfile")
    with_soundfile, rate = read_wav(path)
    monkeypatch.setitem(sys.modules, "soundfile", None)  # `import soundfile` now raises ImportError
    with_scipy, rate2 = read_wav(path)
    assert rate == rate2 == 8000
    np.testing.assert_allclose(with_soundfile, with_scipy, atol=1e-7)
    np.testing.assert_allclose(with_scipy[:3], np.round(0.25 * 32767 * np.sin(2 * np.pi * 440 * np.arange(3) / 8000)) / 32768)


def test_write_wav_round_trips(tmp_path):
    x = torch.linspace(-1, 1, 101)
    y, rate = read_wav(write_wav(tmp_path / "x.wav", x))
    assert rate == SAMPLE_RATE
    np.testing.assert_allclose(y, x.numpy(), atol=2 / 32767)  # written as round(32767 x), read as n / 32768


@pytest.mark.parametrize("content", [b"RIFF\x10\x00\x00\x00WAVEjunkjunk", b"", b"not a wav file at all" * 10])
def test_a_corrupt_wav_is_a_user_error_naming_the_file(tmp_path, content):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(content)
    with pytest.raises(UserError, match="broken.wav: .*WAV"):
        read_wav(bad)


def test_a_corrupt_wav_in_a_folder_exits_2_with_one_line(tmp_path, capsys):
    _tone(tmp_path / "good.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF????WAVEfmt garbage")
    assert main(["train", "--config", "wavegan-fsdd", f"data.name=folder:{tmp_path}", "train.steps=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.wav" in err


def _fake_fsdd(folder: Path, digits=(3, 7), speakers=("ann", "bob"), indices=range(7)) -> Path:
    folder.mkdir()
    for d in digits:
        for s in speakers:
            for i in indices:
                _tone(folder / f"{d}_{s}_{i}.wav", hz=200.0 + 50 * d, n=400)
    return folder


def test_fsdd_official_split_and_labels(tmp_path):
    root = _fake_fsdd(tmp_path / "fsdd")
    train, test = load_dataset("fsdd", "train", root=str(root)), load_dataset("fsdd", "test", root=str(root))
    assert (len(train), len(test)) == (2 * 2 * 2, 2 * 2 * 5)  # indices 5-6 train, 0-4 test
    assert test.x.shape == (20, 1, CLIP_LENGTH) and test.spec.kind == "audio"
    assert test.classes == [str(d) for d in range(10)]
    assert sorted(test.y.tolist()) == [3] * 10 + [7] * 10


def test_fsdd_at_its_own_8_khz_rate_is_1024_s_clips_without_resampling(tmp_path):
    root = _fake_fsdd(tmp_path / "fsdd")
    test = load_dataset("fsdd", "test", root=str(root), sample_rate=8000)
    assert test.x.shape == (20, 1, 8192) and test.spec.rate == 8000
    assert load_dataset("fsdd", "test", root=str(root)).spec.rate == SAMPLE_RATE
    one = sorted(root.glob("3_*_0.wav"))[0]
    raw = read_wav(one)[0]  # 400 samples at 8 kHz, kept as they are: centred in 8,192 zeros, peak-normalised
    start = (8192 - len(raw)) // 2
    np.testing.assert_allclose(test.x[0, 0, start : start + len(raw)].numpy(), raw / np.abs(raw).max(), atol=1e-6)


def test_a_clip_length_needs_a_rate_that_divides_evenly():
    assert (clip_length(8000), clip_length(16000), clip_length(4000)) == (8192, 16384, 4096)
    with pytest.raises(UserError, match="data.sample_rate=22050"):
        clip_length(22050)


def test_a_sample_rate_for_data_that_is_not_audio_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="data.sample_rate=8000: moons does not take a sample rate"):
        load_dataset("moons", sample_rate=8000)


def test_the_rate_is_kept_in_the_spec_and_old_audio_specs_read_as_16_khz():
    spec = DataSpec((1, 8192), "audio", rate=8000)
    assert DataSpec.from_dict(spec.to_dict()) == spec
    assert DataSpec.from_dict({"shape": [1, 16384], "kind": "audio"}).rate == 16000  # written before rates were kept
    assert DataSpec.from_dict({"shape": [1, 28, 28]}).rate == 0


def test_folder_labels_come_from_fsdd_names_or_sub_folders(tmp_path):
    root = _fake_fsdd(tmp_path / "names", indices=range(1))
    data = load_dataset(f"folder:{root}")
    assert data.classes == ["3", "7"] and data.y.tolist() == [0, 0, 1, 1]
    for sub in ("yes", "no"):
        (tmp_path / "sub" / sub).mkdir(parents=True)
        _tone(tmp_path / "sub" / sub / "take.wav")
    data = load_dataset(f"folder:{tmp_path / 'sub'}")
    assert data.classes == ["no", "yes"] and data.y.tolist() == [0, 1] and data.x.shape == (2, 1, CLIP_LENGTH)


def test_fsdd_without_its_folder_names_data_root(tmp_path):
    with pytest.raises(UserError, match="data.root=DIR"):
        load_dataset("fsdd", root=str(tmp_path))


@pytest.mark.skipif(not FSDD.is_dir(), reason="../shared/data/fsdd (the Free Spoken Digit Dataset) is absent")
def test_real_fsdd_recordings_load_as_16_khz_clips():
    files = sorted(FSDD.glob("*_*_0.wav"))[:6]  # a few real recordings: 8 kHz mono 16-bit
    assert read_wav(files[0])[1] == 8000
    clips = np.stack([load_clip(f) for f in files])
    assert clips.shape == (6, CLIP_LENGTH)
    np.testing.assert_allclose(np.abs(clips).max(1), 1.0, atol=1e-6)
