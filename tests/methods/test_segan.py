"""SEGAN (method: segan): its loss terms on hand values, the shared training windows, enhancement of any length,
the L1-only baseline, config errors. (The conformance test trains, resumes and runs it under torchrun.)"""

import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods import METHODS, build_method
from gankit.methods.segan import de_emphasis, l1, pre_emphasis, random_windows


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


def test_pre_emphasis_by_hand_and_de_emphasis_undoes_it():
    x = torch.tensor([[1.0, 2.0, 0.0, -1.0]])
    torch.testing.assert_close(pre_emphasis(x, 0.5), torch.tensor([[1.0, 1.5, -1.0, -1.0]]))  # x[n] - 0.5 x[n-1]
    assert pre_emphasis(x, 0.0) is x and de_emphasis(x, 0.0) is x
    clips = torch.randn(3, 1, 1000)
    torch.testing.assert_close(de_emphasis(pre_emphasis(clips, 0.95), 0.95), clips, atol=1e-5, rtol=0)


def test_enhance_with_pre_emphasis_de_emphasises_g_output():
    method = build_method(_cfg("segan.residual=true", "segan.preemphasis=0.95"), SPEC, torch.device("cpu"))
    x = torch.randn(2, 1, 5001) * 0.1  # small enough that G's clamp to [-1, 1] never acts
    torch.testing.assert_close(method.enhance(x), x, atol=1e-5, rtol=0)  # a residual G starts as the identity


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


def test_ema_of_g_averages_the_weights_and_enhances_in_g_place():
    method = build_method(_cfg("segan.adv_weight=0", "segan.ema_decay=0.5"), SPEC, torch.device("cpu"))
    assert set(method.modules) == {"G", "G_ema"}
    before = [p.detach().clone() for p in method.G.parameters()]
    clean = torch.randn(4, 1, 1024) * 0.1
    method.batches, method.G_train = iter([{"x": clean, "noisy": clean + 0.05}] * 2), method.G
    method.step()  # warm-up: decay min(0.5, 1/10) = 0.1 at the first update
    for p_ema, p, p0 in zip(method.G_ema.parameters(), method.G.parameters(), before):
        torch.testing.assert_close(p_ema, 0.1 * p0 + 0.9 * p)
    assert method.state_dict() == {"ema_steps": 1}
    x = torch.randn(1, 1, 1024) * 0.1
    before_move = method.enhance(x)
    with torch.no_grad():
        for p in method.G.parameters():
            p.add_(1.0)  # G moves on; the enhancement comes from G_ema alone
    torch.testing.assert_close(method.enhance(x), before_move)
    method.load_state_dict({"ema_steps": 7})
    assert method.ema_steps == 7


def test_stop_and_resume_with_the_ema_is_exact(tmp_path):
    import gankit
    from gankit.train import load_checkpoint, train_run

    cfg = _cfg("segan.ema_decay=0.9", "segan.residual=true", "train.steps=6", "eval.eval_every=2")
    train_run(cfg, tmp_path / "full", progress=False)
    train_run(cfg, tmp_path / "part", progress=False, stop_at=3)
    gankit.resume(tmp_path / "part", progress=False)
    full, part = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "part")
    assert any(k.startswith("G_ema.") for k in full.weights)
    for k, w in full.weights.items():
        torch.testing.assert_close(part.weights[k], w, rtol=0, atol=0, msg=k)
    rows = [(tmp_path / r / "metrics.csv").read_text().splitlines() for r in ("full", "part")]
    assert [r.split(",")[-2:] for r in rows[0]] == [r.split(",")[-2:] for r in rows[1]]  # eval_segsnr, eval_l1
