"""WaveGAN's networks (Donahue et al. 2019): phase shuffle by hand values, shapes, and a tiny run of the GAN on audio
that writes spectrogram previews, WAV files and `gankit sample` WAVs."""

import sys

import pytest
import torch

from gankit.cli import main
from gankit.config import load_config
from gankit.data import RunData, TensorData
from gankit import evaluation
from gankit.data.audio import read_wav, write_wav
from gankit.errors import UserError
from gankit.nets import build_gan
from gankit.nets.wavegan import (PhaseShuffle, WaveGANDiscriminator, WaveGANGenerator, phase_shuffle, stages_for,
                                 upsampling_layer)

RAMP = torch.arange(6.0).view(1, 1, 6)  # [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "shift,expected",
    [
        (0, [0, 1, 2, 3, 4, 5]),
        (1, [1, 0, 1, 2, 3, 4]),  # right by one: the edge is x[1] (reflection, not a copy of x[0])
        (2, [2, 1, 0, 1, 2, 3]),
        (-1, [1, 2, 3, 4, 5, 4]),
        (-2, [2, 3, 4, 5, 4, 3]),
    ],
)
def test_phase_shuffle_shifts_with_reflection_padding(shift, expected):
    torch.testing.assert_close(phase_shuffle(RAMP, shift, n=2), torch.tensor(expected, dtype=torch.float32).view(1, 1, 6))


def test_phase_shuffle_refuses_a_shift_beyond_n():
    with pytest.raises(ValueError, match=r"\[-2, 2\]"):
        phase_shuffle(RAMP, 3, n=2)


def test_the_module_shifts_by_at_most_n_and_is_the_identity_in_eval_mode():
    torch.manual_seed(0)
    ps, x = PhaseShuffle(2), torch.randn(4, 3, 50)
    seen = set()
    for _ in range(60):
        out = ps(x)
        matches = [k for k in range(-2, 3) if torch.equal(out, phase_shuffle(x, k, 2))]
        assert len(matches) == 1  # one shift in [-2, 2] for the whole batch
        seen.add(matches[0])
    assert seen == {-2, -1, 0, 1, 2}  # every allowed shift occurs
    assert torch.equal(ps.eval()(x), x)


@pytest.mark.parametrize("length,channels", [(16384, 1), (1024, 2), (8192, 1), (2048, 1)])
def test_shapes(length, channels):
    G = WaveGANGenerator(z_dim=10, length=length, channels=channels, width=2)
    D = WaveGANDiscriminator(length=length, channels=channels, width=2)
    x = G(torch.randn(3, 10))
    assert x.shape == (3, channels, length) and x.abs().max() < 1
    assert D(x).shape == (3,)


def test_the_published_sizes():
    """Table 2 of the paper at d = 64: G dense 100 -> 16 x 1024, kernels of 25, 16d ... d channels."""
    G, D = WaveGANGenerator(width=64), WaveGANDiscriminator(width=64)
    assert G.fc.out_features == 16 * 1024
    convs = [m for m in G.net if isinstance(m, torch.nn.ConvTranspose1d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0]) for m in convs] == [
        (1024, 512, 25, 4), (512, 256, 25, 4), (256, 128, 25, 4), (128, 64, 25, 4), (64, 1, 25, 4)]  # fmt: skip
    assert sum(isinstance(m, PhaseShuffle) for m in D.net) == 4 and D.fc.in_features == 16 * 1024


def test_8192_samples_take_four_stages_from_32_steps():
    """1.024 s at 8 kHz (data.sample_rate=8000): one stage fewer than the paper's 16,384, from 32 steps."""
    assert stages_for(16384) == (5, 16) and stages_for(8192) == (4, 32) and stages_for(4096) == (4, 16)
    G, D = WaveGANGenerator(width=8, length=8192), WaveGANDiscriminator(width=8, length=8192)
    assert G.fc.out_features == 32 * 64 and D.fc.in_features == 32 * 64  # 8d channels x 32 steps
    assert sum(isinstance(m, torch.nn.ConvTranspose1d) for m in G.net) == 4


@pytest.mark.parametrize("length", [16000, 1536, 24576, 8])
def test_a_length_that_is_not_16_or_32_times_a_power_of_4_is_refused(length):
    with pytest.raises(ValueError, match="16 \\* 4\\^k or 32 \\* 4\\^k"):
        WaveGANGenerator(length=length)


def test_nearest_upsampling_has_no_fixed_pattern_at_the_stride_where_a_transposed_conv_has_one():
    """All-ones kernels on a constant input: a transposed convolution of 25 taps and stride 4 sums 7, 6, 6, 6, ...
    taps into consecutive outputs (25 = 4 * 6 + 1), a period-4 pattern, i.e. lines at multiples of a quarter of the
    output rate whatever the input (Pons et al. 2021); nearest-neighbour upsampling + convolution gives 25 everywhere
    away from the edges."""
    x = torch.ones(1, 1, 40)
    interior = slice(24, 136)  # 4 x 40 = 160 outputs; 24 from each edge sees the whole kernel
    for upsample in ("transposed", "nearest"):
        layer = upsampling_layer(1, 1, upsample)
        for m in layer.modules():
            if isinstance(m, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
                torch.nn.init.ones_(m.weight), torch.nn.init.zeros_(m.bias)
        with torch.no_grad():
            out = layer(x)[0, 0]
        assert out.shape == (160,)
        values = out[interior]
        if upsample == "transposed":
            assert sorted(set(values.tolist())) == [6.0, 7.0]
            torch.testing.assert_close(values[4:], values[:-4])  # period 4: the stride
        else:
            assert set(values.tolist()) == {25.0}
    with pytest.raises(ValueError, match="'transposed' or 'nearest'"):
        upsampling_layer(1, 1, "linear")


@pytest.mark.parametrize("length", [8192, 16384])
def test_the_nearest_neighbour_arch_keeps_wavegans_shapes(length):
    cfg = load_config("wavegan-fsdd", ["model.arch=wavegan-nn", "model.g_width=2", "model.d_width=2"]).model
    G, D = build_gan(cfg, (1, length))
    assert not any(isinstance(m, torch.nn.ConvTranspose1d) for m in G.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in G.modules()) == stages_for(length)[0]
    x = G(torch.randn(2, cfg.z_dim))
    assert x.shape == (2, 1, length) and x.abs().max() < 1 and D(x).shape == (2,)


def test_the_arch_refuses_image_data():
    cfg = load_config("wavegan-fsdd").model
    with pytest.raises(UserError, match="model.arch=wavegan takes audio clips"):
        build_gan(cfg, (1, 28, 28))


TINY_RUN = ["model.g_width=2", "model.d_width=2", "model.z_dim=8", "train.steps=2", "train.batch_size=4",
            "train.sample_every=2", "train.log_every=1", "train.checkpoint_every=2", "train.minutes=null",
            "train.loggers=[csv]"]  # fmt: skip


def train_tiny(run, monkeypatch, data: TensorData, *overrides: str) -> None:
    """A 2-step wavegan-fsdd run on ``data`` instead of FSDD."""
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_run_data", lambda cfg: RunData({"train": data}))
    assert main(["train", "--config", "wavegan-fsdd", "--run-dir", str(run), "--no-progress", *TINY_RUN, *overrides]) == 0


def test_a_tiny_wavegan_run_writes_spectrograms_and_wavs(tmp_path, monkeypatch, capsys):
    g = torch.Generator().manual_seed(0)
    t = torch.arange(1024) / 16000
    clips = torch.sin(2 * torch.pi * (300 + 400 * torch.rand(32, 1, 1, generator=g)) * t)  # [32, 1, 1024]
    run = tmp_path / "run"
    train_tiny(run, monkeypatch, TensorData(clips, name="tones"))
    assert (run / "samples" / "step_00000002.png").stat().st_size > 1000
    wav, rate = read_wav(run / "samples" / "step_00000002" / "00.wav")
    assert rate == 16000 and wav.shape == (1024,)
    assert main(["sample", "--run", str(run), "-n", "3", "--out", str(tmp_path / "s" / "digit.wav")]) == 0
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["digit_000.wav", "digit_001.wav", "digit_002.wav"]
    assert main(["sample", "--run", str(run), "-n", "3", "--out", str(tmp_path / "s.gif")]) == 2


def test_an_8_khz_run_writes_its_previews_and_samples_at_8_khz(tmp_path, monkeypatch):
    t = torch.arange(2048) / 8000
    clips = torch.sin(2 * torch.pi * 300 * t).expand(8, 1, 2048).clone()  # [8, 1, 2048]: 0.256 s at 8 kHz
    run = tmp_path / "run"
    train_tiny(run, monkeypatch, TensorData(clips, name="tones", rate=8000), "data.sample_rate=8000")
    wav, rate = read_wav(run / "samples" / "step_00000002" / "00.wav")
    assert rate == 8000 and wav.shape == (2048,)
    assert main(["sample", "--run", str(run), "-n", "1", "--out", str(tmp_path / "s")]) == 0
    assert read_wav(tmp_path / "s" / "000.wav")[1] == 8000
    # Scored against 16 kHz references, its clips are resampled to 16 kHz first (the classifier's rate).
    seen = []
    spied = evaluation.extract
    monkeypatch.setattr(evaluation, "extract", lambda ex, xs, **kw: spied(ex, [seen.append(x.shape) or x for x in xs], **kw))
    for i in range(4):
        write_wav(tmp_path / "ref" / f"{i}.wav", torch.sin(2 * torch.pi * 300 * torch.arange(16384) / 16000))
    res = evaluation.evaluate(run, f"folder:{tmp_path / 'ref'}", extractor="fsdd-classifier", n=4, metrics=["fid"],
                              progress=False)  # fmt: skip
    assert res["n_fake"] == 4 and seen[-1] == (4, 1, 4096)  # 2,048 samples at 8 kHz -> 4,096 at 16 kHz
