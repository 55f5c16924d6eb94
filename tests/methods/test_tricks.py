"""The tricks' formulas (EMA, historical averaging, instance-noise schedule, clipping, feature
matching), the registry and its composite (order, one switch per trick, checkpoint state), and a
few-step CPU run through ``train_run`` per loss and per trick with a tiny model."""

import csv
import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.config import load_config
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.began import BEGANControl
from gankit.methods.tricks import (
    NO_TRICKS, TRICKS, BEGANEquilibrium, DiffAugment, FeatureMatching, GradientPenalty, HistoricalAverage,
    InstanceNoise, LabelSmoothing, Trick, Tricks, WassersteinEstimate, WeightClipping, d_features, ema_decay_at,
    ema_update,
)
from gankit.train import load_checkpoint, train_run

# ---------------------------------------------------------------------------- formulas


def test_ema_update_formula():
    model, ema = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([1.0, 2.0, 3.0]))
        ema.weight.copy_(torch.tensor([0.0, 0.0, 6.0]))
        model.running_mean.copy_(torch.tensor([5.0, 5.0, 5.0]))
    ema_update(ema, model, decay=0.9)
    assert_close(ema.weight.detach(), 0.9 * torch.tensor([0.0, 0.0, 6.0]) + 0.1 * torch.tensor([1.0, 2.0, 3.0]))
    assert torch.equal(ema.running_mean, model.running_mean)  # buffers are copied, not averaged


def test_ema_decay_warm_up():
    assert ema_decay_at(0.999, 0) == pytest.approx(0.1)
    assert ema_decay_at(0.999, 90) == pytest.approx(91 / 100)
    assert ema_decay_at(0.999, 10**6) == 0.999


def test_historical_average_is_the_running_mean():
    p = nn.Linear(2, 1, bias=False)
    values = [torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, -2.0]]), torch.tensor([[5.0, 6.0]])]
    with torch.no_grad():
        p.weight.copy_(values[0])
    hist = HistoricalAverage(p)
    for v in values[1:]:
        with torch.no_grad():
            p.weight.copy_(v)
        hist.update(p)
    mean = torch.stack(values).mean(0)  # (3, 2)
    assert_close(hist.mean["weight"], mean)
    with torch.no_grad():
        p.weight.copy_(torch.tensor([[0.0, 0.0]]))
    assert_close(hist.penalty(p), mean.pow(2).sum())


def test_instance_noise_anneals_linearly_to_zero():
    t = InstanceNoise(0.2, steps=10)
    stds = []
    for step in (0, 5, 10, 20):
        t.step = step
        stds.append(t.std())
    assert stds == pytest.approx([0.2, 0.1, 0.0, 0.0])


def test_instance_noise_clock_ticks_once_per_g_step_and_stops_drawing_at_zero():
    t = Tricks([InstanceNoise(0.2, steps=2)])
    x = torch.zeros(3, 2)
    torch.manual_seed(0)
    assert_close(t.d_input(x), 0.2 * torch.randn(3, 2, generator=torch.Generator().manual_seed(0)))
    t.after_g_step(nn.Identity())
    t.after_g_step(nn.Identity())
    state = torch.get_rng_state()
    assert torch.equal(t.d_input(x), x) and torch.equal(torch.get_rng_state(), state)  # no draw: the RNG is untouched
    assert t.state_dict() == {"instance_noise": {"step": 2}}


def test_weight_clipping_and_wasserstein_estimate():
    D = nn.Linear(4, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[-3.0, 0.005, 2.0, -0.001]]))
    t = Tricks([WeightClipping(0.01), WassersteinEstimate()])
    stats = t.after_d_step(D, torch.tensor([1.0, 3.0]), torch.tensor([0.5, -1.5]))
    assert torch.equal(D.weight.detach(), torch.tensor([[-0.01, 0.005, 0.01, -0.001]]))
    assert_close(stats["wasserstein_estimate"], torch.tensor(2.5))


def test_label_smoothing_and_began_k_reach_the_loss():
    assert Tricks([LabelSmoothing(0.1)]).d_loss_kwargs() == {"real_label": pytest.approx(0.9)}
    t = Tricks([BEGANEquilibrium(BEGANControl())])
    assert set(t.d_loss_kwargs()) == {"k"}
    assert t.d_loss_kwargs()["k"].item() == 0.0  # k_0 = 0
    stats = t.after_d_step(nn.Identity(), torch.tensor([0.4]), torch.tensor([0.1]))  # k += 1e-3 (0.5 * 0.4 - 0.1)
    assert_close(stats["began_k"], torch.tensor(1e-4))
    assert_close(t.d_loss_kwargs()["k"], torch.tensor(1e-4))
    assert_close(t.state_dict()["began"]["k"], torch.tensor(1e-4))


def test_feature_matching_value():
    """D = head(features(x)) with linear features W x: the term is |W (mean x_f - mean x_r)|^2."""

    class LinD(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2, bias=False)
            self.head = nn.Linear(2, 1)

        def features(self, x):
            return self.lin(x)

        def forward(self, x):
            return self.head(self.features(x)).view(-1)

    D = LinD()
    with torch.no_grad():
        D.lin.weight.copy_(torch.tensor([[1.0, 0.0], [1.0, 2.0]]))
    x_real, x_fake = torch.tensor([[1.0, 1.0], [3.0, 1.0]]), torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    total, stats = Tricks([FeatureMatching(2.0)]).g_regulariser(nn.Identity(), D, x_real, x_fake)
    diff = torch.tensor([0.0 - 2.0, 1.0 - 1.0])  # mean x_f - mean x_r
    want = (D.lin.weight.detach() @ diff).pow(2).sum()
    assert_close(stats["feature_matching"], want)
    assert_close(total, 2.0 * want)


# ---------------------------------------------------------------------------- the registry and its composite

# One switch per trick (the config of a run), and the trick it turns on: every registered trick appears once.
SWITCHES = {
    "diffaugment": ("ns-fashion-mnist", ["gan.diffaugment=translation"]),
    "instance_noise": ("ns-fashion-mnist", ["gan.instance_noise=0.1"]),
    "label_smoothing": ("ns-fashion-mnist", ["gan.label_smoothing=0.1"]),
    "penalty": ("ns-fashion-mnist", ["gan.penalty=r1"]),
    "consistency": ("ns-fashion-mnist", ["gan.consistency=10"]),
    "clip_weights": ("ns-fashion-mnist", ["gan.clip_weights=0.01"]),
    "wasserstein_estimate": ("wgan-gp-fashion-mnist", ["gan.penalty=none"]),
    "began": ("began-fashion-mnist", []),
    "virtual_batchnorm": ("ns-fashion-mnist", ["gan.virtual_batchnorm=true"]),
    "feature_matching": ("ns-fashion-mnist", ["gan.feature_matching=1.0"]),
    "ema": ("ns-fashion-mnist", ["gan.ema_decay=0.9"]),
    "historical_averaging": ("ns-fashion-mnist", ["gan.historical_averaging=0.01"]),
}


def _tricks(config: str, overrides: list[str]) -> Tricks:
    cfg = load_config(config, overrides)
    D = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))  # a D with batch norm, for the virtual batch norm switch
    return Tricks.from_config(cfg, LOSSES[cfg.gan.loss], nn.Linear(2, 2), D, torch.device("cpu"))


def test_registry_order_is_the_order_of_the_hooks():
    """DiffAugment before noise on D's input; penalty before historical averaging; clipping before the
    estimates; feature matching before historical averaging; the EMA before the historical mean of G."""
    assert list(TRICKS) == list(SWITCHES)
    t = Tricks([InstanceNoise(0.1, 10), DiffAugment("translation")])  # any order in, registry order out
    assert list(t.active) == ["diffaugment", "instance_noise"]


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_each_switch_turns_on_its_trick_alone(name):
    config, overrides = SWITCHES[name]
    assert list(_tricks(config, overrides).active) == [name]


def test_defaults_switch_everything_off():
    for t in (_tricks("ns-fashion-mnist", []), Tricks(), NO_TRICKS):
        assert t.active == {} and t.G_ema is None and t.modules == {} and t.state_dict() == {}
        x = torch.randn(2, 3)
        assert t.d_input(x) is x and t.d_input(None) is None and t.d_loss_kwargs() == {}
        assert t.d_regulariser(nn.Identity(), x, x) == (0.0, {})
        assert t.g_regulariser(nn.Identity(), nn.Identity(), x, x) == (0.0, {})
        assert t.after_d_step(nn.Identity(), x, x) == {}


def test_a_new_trick_is_a_class_a_field_and_a_registry_line(monkeypatch):
    """The default from_config reads the cfg.gan field named like the trick."""
    # register_trick writes into the registry of gankit.methods.tricks.base (the package's TRICKS is the same dict):
    # the entry is put back after the test
    monkeypatch.setitem(TRICKS, "label_smoothing", TRICKS["label_smoothing"])
    from gankit.methods.tricks import register_trick

    @register_trick("label_smoothing")  # a stand-in that reuses an existing field
    class Half(Trick):
        def __init__(self, s):
            self.s = s

        def d_loss_kwargs(self):
            return {"real_label": 1.0 - self.s / 2}

    cfg = load_config("ns-fashion-mnist", ["gan.label_smoothing=0.2"])
    assert isinstance(Half.from_config(cfg, None, None, None, None), Half)
    assert Half.from_config(load_config("ns-fashion-mnist", []), None, None, None, None) is None
    assert Tricks([Half(0.2)]).d_loss_kwargs() == {"real_label": pytest.approx(0.9)}


def test_unknown_penalty_is_a_user_error():
    from types import SimpleNamespace

    cfg = SimpleNamespace(gan=SimpleNamespace(penalty="r3", penalty_weight=1.0))
    with pytest.raises(UserError, match=r"^gan.penalty: unknown penalty 'r3' \(known: none, wgan-gp, dragan, r1\)$"):
        GradientPenalty.from_config(cfg, None, None, None, None)


def test_ema_and_historical_averaging_state_and_modules():
    G, D = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))  # the nets of _tricks
    t = _tricks("ns-fashion-mnist", ["gan.ema_decay=0.9", "gan.historical_averaging=0.01"])
    assert set(t.modules) == {"G_ema"} and t.G_ema is t.modules["G_ema"]
    assert set(t.state_dict()) == {"ema", "historical_averaging"}
    t.after_g_step(t.G_ema)  # (any module with G's parameter names)
    state = t.state_dict()
    assert state["ema"] == {"step": 1} and state["historical_averaging"]["G"]["count"] == 2
    fresh = Tricks.from_config(load_config("ns-fashion-mnist", ["gan.ema_decay=0.9", "gan.historical_averaging=0.01"]),
                               LOSSES["non-saturating"], G, D, torch.device("cpu"))
    fresh.load_state_dict(state)
    assert fresh.state_dict()["ema"] == {"step": 1}
    assert fresh.state_dict()["historical_averaging"]["G"]["count"] == 2


def test_checkpoints_of_the_old_layout_still_load():
    """Before the registry: {"step", "k", "hist_G", "hist_D"}, one clock shared by the noise and the EMA."""
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    over = ["gan.ema_decay=0.9", "gan.historical_averaging=0.01", "gan.instance_noise=0.1"]
    cfg = load_config("began-fashion-mnist", over)
    t = Tricks.from_config(cfg, LOSSES["began"], G, D, torch.device("cpu"))
    hist_G = {"mean": {k: torch.ones_like(p) for k, p in G.named_parameters()}, "count": 7}
    hist_D = {"mean": {k: torch.ones_like(p) for k, p in D.named_parameters()}, "count": 7}
    t.load_state_dict({"step": 6, "k": torch.tensor(0.25), "hist_G": hist_G, "hist_D": hist_D})
    state = t.state_dict()
    assert state["instance_noise"] == state["ema"] == {"step": 6}
    assert_close(state["began"]["k"], torch.tensor(0.25))
    assert state["historical_averaging"]["D"]["count"] == 7
    assert_close(state["historical_averaging"]["G"]["mean"]["weight"], torch.ones(2, 2))


# ---------------------------------------------------------------------------- CPU smoke runs

TINY = ["model.g_width=4", "model.d_width=4", "model.z_dim=8", "train.batch_size=8", "train.steps=4",
        "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=2", "train.num_samples=4"]

# (config, overrides, the columns metrics.csv must hold besides step/d_loss/g_loss)
RUNS = {
    "minimax": ("mm-fashion-mnist", [], []),
    "non-saturating": ("ns-fashion-mnist", [], []),
    "lsgan": ("lsgan-fashion-mnist", [], []),
    "wgan-clip": ("wgan-fashion-mnist", ["gan.d_steps=2"], ["wasserstein_estimate"]),
    "wgan-gp": ("wgan-gp-fashion-mnist", ["gan.d_steps=2"], ["wasserstein_estimate", "penalty"]),
    "dragan": ("dragan-fashion-mnist", [], ["penalty"]),
    "r1": ("ns-fashion-mnist", ["gan.penalty=r1", "gan.penalty_weight=1.0"], ["penalty"]),
    "hinge-sn": ("hinge-sn-fashion-mnist", ["gan.d_steps=1"], []),
    "relativistic": ("ragan-fashion-mnist", [], []),
    "began": ("began-fashion-mnist", [], ["began_k", "began_m_global"]),
    "label-smoothing": ("ns-fashion-mnist", ["gan.label_smoothing=0.1"], []),
    "instance-noise": ("ns-fashion-mnist", ["gan.instance_noise=0.1"], []),
    "feature-matching": ("ns-fashion-mnist", ["gan.feature_matching=1.0"], ["feature_matching"]),
    "historical-averaging": ("ns-fashion-mnist", ["gan.historical_averaging=0.01"], []),
    "ema": ("ns-fashion-mnist", ["gan.ema_decay=0.9"], []),
    "ttur-dsteps": ("ns-fashion-mnist", ["optim.g_lr=1e-4", "optim.d_lr=4e-4", "gan.d_steps=2"], []),
    "diffaugment": ("diffaug-mnist-5k", [], ["penalty"]),
    "consistency": ("ns-fashion-mnist", ["gan.consistency=10"], ["consistency"]),
    "best": ("best-fashion-mnist", ["gan.d_steps=1"], []),
}


def _rows(run_dir) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_smoke_run(name, tmp_path, small_data):
    config, extra, columns = RUNS[name]
    cfg = load_config(config, TINY + extra)
    result = train_run(cfg, tmp_path / name, progress=False)
    assert result.step == 4
    rows = _rows(tmp_path / name)
    assert [r["step"] for r in rows] == ["2", "4"]
    for col in ["d_loss", "g_loss", *columns]:
        assert all(math.isfinite(float(r[col])) for r in rows), col
    assert result.last_samples is not None and result.last_samples.is_file()


def test_ema_is_checkpointed_and_used_for_sampling(tmp_path, small_data):
    cfg = load_config("ns-fashion-mnist", TINY + ["gan.ema_decay=0.9"])
    train_run(cfg, tmp_path / "run", progress=False)
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.module_state("G_ema").keys() == ckpt.module_state("G").keys()
    from gankit.api import load_generator

    method, _ = load_generator(tmp_path / "run")
    z = torch.randn(3, 8)
    method.tricks.G_ema.eval()
    assert torch.equal(method.sample(z), method.tricks.G_ema(z))
    assert not torch.equal(method.tricks.G_ema.state_dict()["net.0.weight"], method.G.state_dict()["net.0.weight"])


def test_resume_with_stateful_tricks_is_exact(tmp_path, small_data):
    """EMA, historical averages, the noise clock and BEGAN's k_t are checkpointed: 2 + 2 resumed steps = 4 steps.
    (The noise schedule gets an explicit length: by default it spans train.steps, which differs here.)"""
    over = TINY + ["gan.ema_decay=0.9", "gan.historical_averaging=0.01", "gan.instance_noise=0.1",
                   "gan.instance_noise_steps=10"]
    for config in ("began-fashion-mnist", "ns-fashion-mnist"):
        cfg4 = load_config(config, over)
        train_run(cfg4, tmp_path / f"{config}-4", progress=False)
        train_run(load_config(config, over + ["train.steps=2"]), tmp_path / f"{config}-2", progress=False)
        train_run(cfg4, tmp_path / f"{config}-2", resume=True, progress=False)
        a, b = load_checkpoint(tmp_path / f"{config}-4"), load_checkpoint(tmp_path / f"{config}-2")
        assert a.weights.keys() == b.weights.keys()
        for k in a.weights:
            assert torch.equal(a.weights[k], b.weights[k]), (config, k)
        tricks_a, tricks_b = a.state["method"]["tricks"], b.state["method"]["tricks"]
        assert tricks_a.keys() == tricks_b.keys()
        assert tricks_a["instance_noise"] == tricks_b["instance_noise"] == {"step": 4}
        assert tricks_a["ema"] == tricks_b["ema"] == {"step": 4}
        if config == "began-fashion-mnist":
            assert torch.equal(tricks_a["began"]["k"], tricks_b["began"]["k"])


def test_began_logs_to_tensorboard(tmp_path, small_data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train_run(load_config("began-fashion-mnist", TINY), tmp_path / "run", progress=False)
    acc = EventAccumulator(str(tmp_path / "run" / "tb"))
    acc.Reload()
    assert {"began_k", "began_m_global"} <= set(acc.Tags()["scalars"])
    rows = _rows(tmp_path / "run")
    assert [e.value for e in acc.Scalars("began_m_global")] == pytest.approx([float(r["began_m_global"]) for r in rows])


def test_d_features_of_each_discriminator_family():
    from gankit.nets import DCGANDiscriminator, MLPDiscriminator

    x = torch.randn(3, 1, 28, 28)
    mlp = MLPDiscriminator((1, 28, 28), hidden=5, depth=2)
    assert_close(mlp.net[-1](d_features(mlp, x)).view(-1), mlp(x))  # the head's input
    dc = DCGANDiscriminator(28, 1, width=4).eval()
    assert d_features(dc, x).shape == (3, 8 * 7 * 7)
    with pytest.raises(UserError, match="exposes no feature layer"):
        d_features(nn.Identity(), x)
