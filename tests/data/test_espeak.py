"""The espeak-ng spoken-digit generator (gankit.data.espeak) and its command, `gankit data espeak-digits`."""

import shutil

import pytest
import torch

from gankit.cli import main
from gankit.data.audio import CLIP_LENGTH, load_audio_folder
from gankit.data.espeak import synthesize_digits
from gankit.errors import UserError

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@needs_espeak
def test_every_digit_in_every_setting_labelled_by_its_folder(tmp_path):
    paths = synthesize_digits(tmp_path, voices=("en-us", "en-gb"), variants=("m3",), speeds=(120, 200), pitches=(50,))
    assert len(paths) == 10 * 2 * 2 and paths[0] == tmp_path / "0" / "en-gb+m3_s120_p50.wav"
    data = load_audio_folder(str(tmp_path))
    assert data.x.shape == (40, 1, CLIP_LENGTH) and data.classes == [str(d) for d in range(10)]
    assert torch.equal(data.y.bincount(), torch.full((10,), 4))
    slow, fast = (data.x[0] != 0).sum(), (data.x[1] != 0).sum()  # "zero" at 120 and 200 words per minute
    assert slow > 1.3 * fast


@needs_espeak
def test_silence_is_trimmed_so_the_word_sits_in_the_middle_of_the_clip(tmp_path):
    synthesize_digits(tmp_path, voices=("en-us",), variants=("m3",), speeds=(160,), pitches=(50,))
    for clip in load_audio_folder(str(tmp_path)).x[:, 0]:
        loud = (clip.abs() > 0.01).nonzero()[:, 0].float()
        assert abs(float(loud.min() + loud.max()) / 2 - CLIP_LENGTH / 2) < 400  # centred within 25 ms


@needs_espeak
def test_the_same_settings_give_the_same_bytes_and_existing_clips_are_kept(tmp_path):
    a = synthesize_digits(tmp_path / "a", voices=("en-us",), variants=("f3",), speeds=(160,), pitches=(35,))
    b = synthesize_digits(tmp_path / "b", voices=("en-us",), variants=("f3",), speeds=(160,), pitches=(35,))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    a[3].write_bytes(b"kept")  # a file already there is not overwritten
    synthesize_digits(tmp_path / "a", voices=("en-us",), variants=("f3",), speeds=(160,), pitches=(35,))
    assert a[3].read_bytes() == b"kept" and not list((tmp_path / "a").rglob("*.tmp"))


def test_a_missing_synthesiser_or_bad_settings_are_one_line_errors(tmp_path, monkeypatch, capsys):
    with pytest.raises(UserError, match="espeak-ng-nosuch: not found on PATH; install it"):
        synthesize_digits(tmp_path, executable="espeak-ng-nosuch")
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng anywhere
    assert main(["data", "espeak-digits", str(tmp_path / "out")]) == 2
    assert "espeak-ng: not found on PATH" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@needs_espeak
def test_bad_settings_name_the_option(tmp_path, capsys):
    assert main(["data", "espeak-digits", str(tmp_path), "--speeds", "10"]) == 2
    assert "speeds: [10] must be" in capsys.readouterr().err
    assert main(["data", "espeak-digits", str(tmp_path), "--voices", "nosuch", "--variants", "m1"]) == 2
    assert "espeak-ng -v nosuch+m1" in capsys.readouterr().err
