"""The tricks' formulas (EMA, historical averaging, instance-noise schedule, clipping, feature
matching), and a few-step CPU run through ``train_run`` per loss and per trick with a tiny model."""

import csv
import math
import sys

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.config import load_config
from gankit.data import TensorData, load_dataset
from gankit.losses import LOSSES
from gankit.methods.tricks import HistoricalAverage, Tricks, d_features, ema_decay_at, ema_update
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
    t = Tricks(instance_noise=0.2, instance_noise_steps=10)
    stds = []
    for step in (0, 5, 10, 20):
        t.step = step
        stds.append(t.noise_std())
    assert stds == pytest.approx([0.2, 0.1, 0.0, 0.0])


def test_weight_clipping_and_wasserstein_estimate():
    D = nn.Linear(4, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[-3.0, 0.005, 2.0, -0.001]]))
    t = Tricks(LOSSES["wgan"], clip_weights=0.01)
    stats = t.after_d_step(D, torch.tensor([1.0, 3.0]), torch.tensor([0.5, -1.5]))
    assert torch.equal(D.weight.detach(), torch.tensor([[-0.01, 0.005, 0.01, -0.001]]))
    assert_close(stats["wasserstein_estimate"], torch.tensor(2.5))


def test_label_smoothing_reaches_the_loss():
    assert Tricks(LOSSES["non-saturating"], label_smoothing=0.1).d_loss_kwargs() == {"real_label": pytest.approx(0.9)}
    t = Tricks(LOSSES["began"])
    assert set(t.d_loss_kwargs()) == {"k"}


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
    total, stats = Tricks(feature_matching=2.0).g_regulariser(nn.Identity(), D, x_real, x_fake)
    diff = torch.tensor([0.0 - 2.0, 1.0 - 1.0])  # mean x_f - mean x_r
    want = (D.lin.weight.detach() @ diff).pow(2).sum()
    assert_close(stats["feature_matching"], want)
    assert_close(total, 2.0 * want)


# ---------------------------------------------------------------------------- CPU smoke runs

_DATA: dict[str, TensorData] = {}


@pytest.fixture
def small_data(monkeypatch):
    """The first 256 Fashion-MNIST images in place of the whole set: a tiny run takes a fraction of a second."""
    if "fm" not in _DATA:
        full = load_dataset("fashion-mnist")
        _DATA["fm"] = TensorData(full.x[:256].clone(), full.y[:256].clone(), full.classes, "fashion-mnist")
    # (gankit.train is also the name of the API function: reach the module through sys.modules)
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_from_config", lambda cfg: _DATA["fm"])


TINY = ["model.g_width=4", "model.d_width=4", "model.z_dim=8", "train.batch_size=8", "train.steps=4", "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=2", "train.num_samples=4"]

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
    over = TINY + ["gan.ema_decay=0.9", "gan.historical_averaging=0.01", "gan.instance_noise=0.1", "gan.instance_noise_steps=10"]
    for config in ("began-fashion-mnist", "ns-fashion-mnist"):
        cfg4 = load_config(config, over)
        train_run(cfg4, tmp_path / f"{config}-4", progress=False)
        train_run(load_config(config, over + ["train.steps=2"]), tmp_path / f"{config}-2", progress=False)
        train_run(cfg4, tmp_path / f"{config}-2", resume=True, progress=False)
        a, b = load_checkpoint(tmp_path / f"{config}-4"), load_checkpoint(tmp_path / f"{config}-2")
        assert a.weights.keys() == b.weights.keys()
        for k in a.weights:
            assert torch.equal(a.weights[k], b.weights[k]), (config, k)
        assert torch.equal(a.state["method"]["tricks"]["k"], b.state["method"]["tricks"]["k"])


def test_began_logs_to_tensorboard(tmp_path, small_data):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train_run(load_config("began-fashion-mnist", TINY), tmp_path / "run", progress=False)
    acc = EventAccumulator(str(tmp_path / "run" / "tb"))
    acc.Reload()
    assert {"began_k", "began_m_global"} <= set(acc.Tags()["scalars"])
    rows = _rows(tmp_path / "run")
    assert [e.value for e in acc.Scalars("began_m_global")] == pytest.approx([float(r["began_m_global"]) for r in rows])


def test_d_features_of_each_discriminator_family():
    from gankit.errors import UserError
    from gankit.nets import DCGANDiscriminator, MLPDiscriminator

    x = torch.randn(3, 1, 28, 28)
    mlp = MLPDiscriminator((1, 28, 28), hidden=5, depth=2)
    assert_close(mlp.net[-1](d_features(mlp, x)).view(-1), mlp(x))  # the head's input
    dc = DCGANDiscriminator(28, 1, width=4).eval()
    assert d_features(dc, x).shape == (3, 8 * 7 * 7)
    with pytest.raises(UserError, match="exposes no feature layer"):
        d_features(nn.Identity(), x)
