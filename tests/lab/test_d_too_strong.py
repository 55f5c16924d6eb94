"""The d-too-strong lab experiment: the gradient norm reaching G in closed form, and the quick run's numbers."""

import json
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from gankit.lab import d_too_strong as exp
from gankit.losses import LOSSES
from gankit.methods.tricks import NO_TRICKS


def _linear_gan(theta: float, a: float, b: float, loss: str):
    """G(z) = theta * z (1-D), D's logit l = a x + b: at z = 1, dJ_G/dtheta = J_G'(l) * a."""
    G, D = nn.Linear(1, 1, bias=False), nn.Linear(1, 1)
    with torch.no_grad():
        G.weight.fill_(theta)
        D.weight.fill_(a)
        D.bias.fill_(b)
    return SimpleNamespace(G=G, D=nn.Sequential(D, nn.Flatten(0)), loss=LOSSES[loss], tricks=NO_TRICKS)


@pytest.mark.parametrize("logit", [-12.0, -3.0, 0.0, 2.0])
def test_gradient_norm_closed_form(logit):
    """J_sat = log(1 - sigmoid(l)): d/dl = -sigmoid(l); J_ns = -log sigmoid(l): d/dl = -(1 - sigmoid(l)).

    With l = a * theta + b at z = 1, ||dJ/dtheta|| = |a| sigmoid(l) and |a| (1 - sigmoid(l)); their ratio
    is e^{-l} (e^12 ~ 1.6e5 at l = -12: the saturation the experiment measures).
    """
    a, theta = 2.0, 0.5
    b = logit - a * theta
    z, x = torch.ones(1, 1), torch.zeros(1, 1)
    sat = exp.g_grad_norm(_linear_gan(theta, a, b, "minimax"), z, x)
    nonsat = exp.g_grad_norm(_linear_gan(theta, a, b, "non-saturating"), z, x)
    s = 1 / (1 + math.exp(-logit))
    assert_close(sat, a * s, rtol=1e-5, atol=0)
    assert_close(nonsat, a * (1 - s), rtol=1e-5, atol=0)
    assert_close(nonsat / sat, math.exp(-logit), rtol=1e-4, atol=0)


def test_gradient_norm_leaves_grads_and_d_untouched():
    m = _linear_gan(0.5, 2.0, -1.0, "minimax")
    exp.g_grad_norm(m, torch.ones(4, 1), torch.zeros(4, 1))
    assert all(p.grad is None for p in [*m.G.parameters(), *m.D.parameters()])
    assert all(p.requires_grad for p in m.D.parameters())


def test_distance_and_learned():
    from gankit.data.toy import get_toy

    ring = get_toy("ring")
    on_modes = torch.as_tensor(ring.mode_means, dtype=torch.float32).repeat(10, 1)
    assert_close(exp.distance_to_data(on_modes, ring), 0.0, atol=1e-6, rtol=0)
    assert_close(exp.distance_to_data(torch.zeros(5, 2), ring), 1.0, atol=1e-6, rtol=0)  # the centre: radius 1
    assert exp.learned(0.9, 0.45) and not exp.learned(0.9, 0.46)


def test_fewer_d_updates_calls_d_step_every_n(monkeypatch):
    calls = {"d": 0, "g": 0}
    real_d, real_g = exp.d_step, exp.g_step

    def count(key, fn):
        def wrapped(*args, **kwargs):
            calls[key] += 1
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(exp, "d_step", count("d", real_d))
    monkeypatch.setattr(exp, "g_step", count("g", real_g))
    exp.train_arm([], 5, 0, head=10, steps=20, n_grad=2, n_early=2)
    assert calls == {"d": 6, "g": 20}  # iterations 0, 5, ..., 25 of 30; G from iteration 10 on


@pytest.fixture(scope="module")
def quick_runs(tmp_path_factory, lab_quick):
    """Quick results by seed, each run once; seed 0 through the registry (it writes result.json and the figure)."""
    cache = {}

    def get(seed: int) -> tuple[dict, object]:
        if seed not in cache:
            out = tmp_path_factory.mktemp(f"quick{seed}")
            result = lab_quick("d-too-strong", out) if seed == 0 else exp.run(out, True, (seed,))
            cache[seed] = result, out
        return cache[seed]

    return get


@pytest.mark.parametrize("seed", [0, 1])  # (seed 2 passes too; two keep CI time down)
def test_quick_run_numbers(seed, quick_runs):
    """At --quick (D's head start 1500, 300 G steps) D has won: every remedy's early gradient is far above the
    baseline's (measured 13x to 1e7x), the baseline's G stays in its blob, and most remedies already move G."""
    result, _ = quick_runs(seed)
    assert result["seeds"] == [seed]
    base = result["arms"][exp.BASELINE]["per_seed"][0]
    assert 1e-7 < base["early_grad"] < 1e-3  # tiny, yet not underflowed to 0
    assert base["d_fake_first"] < 1e-5  # D rejects G's samples with near certainty
    assert base["dist_end"] > 0.7 and not result["baseline_learns"]
    assert result["min_ratio"] > 5
    assert result["arms"][exp.REFERENCE]["ratio_min"] > 1e3
    assert result["remedies_learning"] >= 2


def test_quick_run_writes_result_and_figure(quick_runs):
    result, out = quick_runs(0)
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["experiment"] == "d-too-strong" and on_disk["quick"] is True
    assert on_disk["min_ratio"] == result["min_ratio"] and on_disk["seeds"] == [0]
    assert set(on_disk["arms"]) == set(exp.ARMS)
    assert result["figures"] == ["d_too_strong.png"] and (out / "d_too_strong.png").stat().st_size > 20_000
