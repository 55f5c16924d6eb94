"""``gankit enhance``: WAV files in, enhanced 16 kHz WAV files out under the same names; a corrupt WAV is named in
one line, exit 2, and nothing is written."""

import numpy as np
import pytest
from scipy.io import wavfile

from gankit.cli import main
from gankit.config import apply_overrides, validate
from gankit.methods import METHODS
from gankit.train import train_run


@pytest.fixture(scope="module")
def segan_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("segan") / "run"
    cfg = validate(apply_overrides({"method": "segan"}, METHODS["segan"].smoke + ["train.steps=2"]), "test")
    train_run(cfg, run, progress=False)
    return run


def _wav(path, rate, n, seed=0):
    x = np.random.default_rng(seed).normal(0, 0.1, n)
    wavfile.write(str(path), rate, np.round(x * 32767).astype(np.int16))
    return path


def test_wavs_in_enhanced_wavs_out(tmp_path, segan_run, capsys):
    a, b = _wav(tmp_path / "a.wav", 16000, 5000), _wav(tmp_path / "b.wav", 8000, 4000, seed=1)
    assert main(["enhance", "--run", str(segan_run), str(a), str(b), "--out", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.wav", "b.wav"]
    rate, y = wavfile.read(tmp_path / "out" / "b.wav")
    assert rate == 16000 and len(y) == 8000  # resampled from 8 kHz, the length kept
    assert len(wavfile.read(tmp_path / "out" / "a.wav")[1]) == 5000
    assert "wrote 2 WAV file(s)" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_a_corrupt_wav_is_one_line_exit_2_and_nothing_written(tmp_path, segan_run, capsys):
    good = _wav(tmp_path / "good.wav", 16000, 3000)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00not really a wave file")
    assert main(["enhance", "--run", str(segan_run), str(good), str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.wav" in err and "not a readable WAV file" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_two_inputs_of_one_name_are_refused(tmp_path, segan_run, capsys):
    (tmp_path / "x").mkdir()
    a, b = _wav(tmp_path / "a.wav", 16000, 3000), _wav(tmp_path / "x" / "a.wav", 16000, 3000)
    assert main(["enhance", "--run", str(segan_run), str(a), str(b), "--out", str(tmp_path / "out")]) == 2
    assert "share the name a.wav" in capsys.readouterr().err
