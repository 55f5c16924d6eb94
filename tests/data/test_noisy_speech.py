"""Noisy/clean speech pairs (gankit.data.noisy_speech): the SNR of a mixture in closed form, the noises made from
other recordings, speaker-disjoint splits, determinism per seed."""

import math
from pathlib import Path

import pytest
import torch

from gankit.data import load_dataset
from gankit.data.noisy_speech import (
    NOISE_KINDS,
    SPEAKER_SPLITS,
    TRAIN_SNRS,
    babble,
    fsdd_speaker_files,
    make_pairs,
    mix_at_snr,
    snr_db,
    speech_shaped_noise,
    synthetic_syllables,
)
from gankit.errors import UserError

FSDD = Path(__file__).resolve().parents[3] / "shared" / "data" / "fsdd"  # ../shared/data/fsdd from the repo root


def test_mixing_by_hand():
    # clean energy 4, noise energy 4: at 10 log10(4) = 6.02 dB the noise gain is 1/2
    clean, noise = torch.tensor([1.0, 1.0, 1.0, 1.0]), torch.tensor([1.0, -1.0, 1.0, -1.0])
    torch.testing.assert_close(mix_at_snr(clean, noise, 10 * math.log10(4)), torch.tensor([1.5, 0.5, 1.5, 0.5]))


def test_mixtures_hit_the_requested_snr_per_item():
    g = torch.Generator().manual_seed(0)
    clean, noise = torch.randn(5, 1000, generator=g), torch.rand(5, 1000, generator=g)
    snr = torch.tensor([-5.0, 0.0, 2.5, 10.0, 17.5], dtype=torch.float64)
    torch.testing.assert_close(snr_db(clean, mix_at_snr(clean, noise, snr)), snr)


def test_pairs_keep_their_snr_through_the_peak_scaling_and_are_balanced():
    clean = synthetic_syllables(24, seed=3, length=4096)
    c, noisy, kinds, snrs = make_pairs(clean, TRAIN_SNRS, seed=7)
    assert c.shape == noisy.shape == (24, 1, 4096)
    torch.testing.assert_close(snr_db(c[:, 0], noisy[:, 0]), snrs)  # the same gain on both: the SNR stays
    torch.testing.assert_close(noisy.abs().amax(-1)[:, 0], torch.ones(24))  # noisy clips peak at 1
    assert torch.bincount(kinds).tolist() == [8, 8, 8]
    assert sorted(torch.unique(snrs).tolist()) == sorted(TRAIN_SNRS)
    assert (torch.unique(snrs, return_counts=True)[1] == 6).all()


def test_pairs_are_deterministic_per_seed():
    clean = synthetic_syllables(6, seed=3, length=2048)
    a, b, c = (make_pairs(clean, (5.0,), seed=s)[1] for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_babble_never_contains_the_target_recording():
    # row j is the constant 2^j, so a sum of distinct rows spells out which rows it holds in binary
    pool = (2.0 ** torch.arange(8, dtype=torch.float64))[:, None].expand(8, 16).float()
    mix = babble(pool, torch.arange(8), torch.Generator().manual_seed(0), talkers=4)
    for i, row in enumerate(mix):
        code = int(row[0])
        assert (row == row[0]).all() and bin(code).count("1") == 4 and not code >> i & 1


def test_speech_shaped_noise_has_the_pools_magnitude_spectrum():
    t = torch.arange(512, dtype=torch.float64)
    pool = torch.sin(2 * math.pi * 5 * t / 512)[None].float()  # one recording: all energy in bin 5
    noise = speech_shaped_noise(pool, 3, torch.Generator().manual_seed(0))
    mag = torch.fft.rfft(noise.double()).abs()
    want = torch.fft.rfft(pool.double()).abs().expand(3, -1)
    torch.testing.assert_close(mag[:, 1:-1], want[:, 1:-1], atol=1e-4, rtol=0)  # float32 noise
    assert not torch.allclose(noise[0], noise[1])  # random phases


def test_unknown_kinds_and_splits_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="unknown noise kind"):
        make_pairs(torch.zeros(4, 1, 64), (0.0,), 0, kinds=("pink",))
    with pytest.raises(UserError, match="unknown split 'dev'"):
        fsdd_speaker_files(tmp_path, "dev")
    with pytest.raises(UserError, match="unknown split 'dev'"):
        load_dataset("tones-noisy", split="dev")


def test_speaker_splits_are_disjoint_and_held_out_speakers_never_train(tmp_path):
    assert {s for v in SPEAKER_SPLITS.values() for s in v} == {"george", "jackson", "lucas", "nicolas", "theo",
                                                                "yweweler"}
    assert sum(len(v) for v in SPEAKER_SPLITS.values()) == 6  # no speaker in two splits
    for speaker in ("george", "jackson", "lucas", "nicolas", "theo", "yweweler"):
        for digit, index in ((0, 0), (7, 49)):  # both halves of FSDD's official split
            (tmp_path / f"{digit}_{speaker}_{index}.wav").touch()
    files = {s: fsdd_speaker_files(tmp_path, s) for s in SPEAKER_SPLITS}
    for split, names in files.items():
        assert {p.name.split("_")[1] for p in names} == set(SPEAKER_SPLITS[split])
    assert not {p.name for p in files["train"]} & {p.name for p in files["test"] + files["val"]}


def test_tones_noisy_is_a_paired_audio_dataset():
    train, val = load_dataset("tones-noisy", "train"), load_dataset("tones-noisy", "val")
    assert train.spec.kind == "audio" and train.spec.cond == ("noisy",) and train.x.shape == (64, 1, 16384)
    assert len(val) == 16 and not torch.equal(val.x, train.x[:16])
    assert set(snr_db(val.x[:, 0], val.extra["noisy"][:, 0]).round(decimals=6).tolist()) <= {2.5, 7.5, 12.5, 17.5}


@pytest.mark.skipif(not FSDD.is_dir(), reason="../shared/data/fsdd (the Free Spoken Digit Dataset) is absent")
def test_fsdd_test_speakers_are_not_in_the_training_files():
    train, test = fsdd_speaker_files(FSDD, "train"), fsdd_speaker_files(FSDD, "test")
    assert len(train) == 1500 and len(test) == 1000 and len(fsdd_speaker_files(FSDD, "val")) == 500
    assert {p.name.split("_")[1] for p in test} == {"nicolas", "theo"}
    assert not {p.name.split("_")[1] for p in train} & {"nicolas", "theo", "lucas"}
    assert len(NOISE_KINDS) == 3
