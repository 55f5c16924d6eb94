"""SEGAN (method: segan): its loss terms on hand values, the shared training windows, enhancement of any length,
the L1-only baseline, config errors. (The conformance test trains, resumes and runs it under torchrun.)"""

import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods import METHODS, build_method
from gankit.methods.segan import l1, random_windows


def _cfg(*extra):
    return validate(apply_overrides({"method": "segan"}, METHODS["segan"].smoke + list(extra)), "test")


SPEC = DataSpec((1, 16384), "audio", (), ("noisy",))


def test_the_loss_terms_by_hand():
    torch.testing.assert_close(l1(torch.tensor([0.5, -0.5, 1.0]), torch.tensor([0.0, 0.0, 0.0])), torch.tensor(2 / 3))
    lsgan = LOSSES["lsgan"]  # SEGAN's least squares: D regresses real pairs to 1, enhanced pairs to 0
    torch.testing.assert_close(lsgan.d(torch.tensor([1.0]), torch.tensor([0.0])), torch.tensor(0.0))
    torch.testing.assert_close(lsgan.d(torch.tensor([0.5]), torch.tensor([0.5])), torch.tensor(0.25))  # D undecided
    torch.testing.assert_close(lsgan.g(torch.tensor([0.5]), None), torch.tensor(0.125))


def test_clean_and_noisy_get_the_same_window():
    clips = torch.arange(3 * 100, dtype=torch.float32).reshape(3, 1, 100)
    torch.manual_seed(0)
    clean, noisy = random_windows(clips, 16, clips + 1000)
    assert clean.shape == noisy.shape == (3, 1, 16)
    torch.testing.assert_close(noisy, clean + 1000)  # the same samples of each pair
    torch.testing.assert_close(clean.diff(dim=-1), torch.ones(3, 1, 15))  # contiguous windows
    assert (clean[:, 0, 0] // 100 == torch.arange(3)).all()  # each from its own clip


def test_enhance_keeps_any_length_and_is_deterministic():
    method = build_method(_cfg(), SPEC, torch.device("cpu"))
    x = torch.randn(2, 1, 5001) * 0.3  # not a multiple of 2^3: padded, then cut back
    a, b = method.enhance(x), method.enhance(x)
    assert a.shape == x.shape and torch.equal(a, b) and a.abs().max() < 1
    assert set(method.modules) == {"G", "D"}


def test_adv_weight_zero_is_the_l1_only_baseline():
    method = build_method(_cfg("segan.adv_weight=0"), SPEC, torch.device("cpu"))
    assert set(method.modules) == {"G"} and METHODS["segan"].label(_cfg("segan.adv_weight=0")) == "segan-l1"


def test_config_errors_name_the_key():
    with pytest.raises(UserError, match="segan.crop: 1020 must be .* a multiple of 2\\^3"):
        build_method(_cfg("segan.crop=1020"), SPEC, torch.device("cpu"))
    with pytest.raises(UserError, match="needs noisy/clean audio pairs"):
        build_method(_cfg(), DataSpec((1, 16384), "audio"), torch.device("cpu"))
    with pytest.raises(Exception, match="unknown or unsupported loss 'wgan'"):
        _cfg("segan.loss=wgan")


def test_the_segmental_snr_term_is_the_score_as_a_loss():
    method = build_method(_cfg("segan.ssnr_weight=0.5"), SPEC, torch.device("cpu"))
    clean = torch.randn(2, 1, 4096)
    term, stats = method._ssnr_term(clean * (1 - 10 ** (-6 / 20)), clean)  # error 6 dB below the signal
    torch.testing.assert_close(term, torch.tensor(-0.5 * 6.0), atol=1e-4, rtol=0)
    torch.testing.assert_close(stats["ssnr"], torch.tensor(6.0), atol=1e-4, rtol=0)


def test_training_on_the_segmental_snr_term_alone_raises_it():
    cfg = _cfg("segan.ssnr_weight=1", "segan.l1_weight=0", "segan.adv_weight=0", "segan.residual=true", "segan.lr=1e-3")
    method = build_method(cfg, SPEC, torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    t = torch.arange(1024) / 16000
    clean = (0.5 * torch.sin(2 * torch.pi * 300 * t) * torch.hann_window(1024)).expand(4, 1, 1024).contiguous()
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=g)
    method.batches, method.G_train = iter([{"x": clean, "noisy": noisy}] * 30), method.G
    torch.manual_seed(0)
    first = [float(method.step()["ssnr"]) for _ in range(30)]
    assert first[-1] > first[0] + 1.0, first  # dB
