"""The blurry-mean lab experiment: the toy's sampler and measure by hand, and the acceptance on a quick run."""

import json
import math

import pytest
import torch
from torch.testing import assert_close

from gankit.errors import UserError
from gankit.lab import blurry_mean as exp


def test_sampler_is_seeded_and_bimodal_around_f():
    x, y = exp.sample_pairs(20_000, seed=5)
    x2, y2 = exp.sample_pairs(20_000, seed=5)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(y, exp.sample_pairs(20_000, seed=6)[1])
    assert x.shape == y.shape == (20_000, 1) and -1 <= float(x.min()) and float(x.max()) < 1
    r = (y - exp.mode_centre(x)).reshape(-1)
    assert_close(float((r > 0).float().mean()), 0.5, atol=0.015, rtol=0)  # s = +-1 equally likely
    assert_close(float((r.abs() - exp.A).std()), exp.SIGMA, atol=0.002, rtol=0)  # the noise around each mode
    # The data's own score: P(|eps| < 2) = erf(2 / sqrt 2) = 0.9545 (sampling error ~0.0015 at n = 20,000).
    assert_close(exp.near_mode_fraction(x, y), math.erf(2 / math.sqrt(2)), atol=0.006, rtol=0)


def test_mode_distance_and_fraction_by_hand():
    s = exp.SIGMA
    x = torch.tensor([[0.0], [0.0], [0.5], [0.5], [-0.5], [0.0]])  # f = 0, 0, 0.5, 0.5, -0.5, 0
    y = torch.tensor([[0.5], [-0.5], [1.0 + 1.9 * s], [1.0 + 2.1 * s], [-1.0 - 1.99 * s], [0.0]])
    assert_close(exp.mode_distance(x, y), torch.tensor([0.0, 0.0, 1.9, 2.1, 1.99, exp.A / s]), atol=1e-4, rtol=0)
    assert exp.near_mode_fraction(x, y) == 4 / 6  # the mean f(x) (last row) is 10 sigma from both modes
    assert exp.near_mode_fraction(x, y, k=1.0) == 2 / 6


def test_pair_generator_passes_x_through():
    G = exp.PairGenerator(z_dim=1)
    x = torch.rand(7, 1)
    u = G.inputs(x, torch.Generator().manual_seed(0))
    assert u.shape == (7, 2) and torch.equal(u[:, :1], x)
    out = G(u)
    assert out.shape == (7, 2) and torch.equal(out[:, :1], x)  # D sees the pair (x, y_hat)
    assert exp.PairGenerator(z_dim=0).predict(x, torch.Generator()).shape == (7, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"loss": "mse"}, "loss 'mse'"),
        ({"loss": "began"}, "loss 'began'"),  # an auto-encoder D, not a D on pairs
        ({"z_dim": -1}, "z_dim must be an integer >= 0, got -1"),
        ({"seeds": ()}, "seeds is empty"),
    ],
)
def test_bad_arguments_are_user_errors(kwargs, message, tmp_path):
    with pytest.raises(UserError, match=message):
        exp.run(tmp_path, quick=True, **kwargs)


@pytest.fixture(scope="module")
def quick(tmp_path_factory, lab_quick):
    out = tmp_path_factory.mktemp("blurry-mean")
    return lab_quick("blurry-mean", out), out


def test_quick_run_meets_the_acceptance(quick):
    """Seed 0 at --quick (the full training, one seed): L2 sits on the mean curve f(x), 10 sigma from both modes
    (measured 0.0% within 2 sigma); the conditional GAN's samples lie on the modes (measured 96.4%, the data
    itself 95.2%) and draw both of them."""
    result, _ = quick
    assert result["seeds"] == [0] and result["loss"] == "non-saturating" and result["z_dim"] == 1
    (l2,), (adv,) = result["l2_near_mode"], result["adversarial_near_mode"]  # one fraction per seed
    assert l2 < 0.05 and adv > 0.9 and result["accepted"] is True
    seed = result["per_seed"]["0"]
    assert seed["l2_mean_abs_error_to_f"] < 0.1  # the mean, not a mode: a = 0.5 from either
    assert seed["l2_median_sigmas"] > 8 and seed["adversarial_median_sigmas"] < 1
    assert 0.35 < seed["adversarial_upper_mode"] < 0.65  # a sample of p(y|x): both modes, not one


def test_quick_run_writes_result_and_figure(quick):
    result, out = quick
    on_disk = json.loads((out / "result.json").read_text())
    assert on_disk["experiment"] == "blurry-mean" and on_disk["quick"] is True
    assert on_disk == json.loads(json.dumps(result))
    assert {"l2_near_mode", "adversarial_near_mode", "accepted", "data_near_mode", "per_seed"} <= set(on_disk)
    assert on_disk["setup"]["sigma"] == exp.SIGMA and on_disk["setup"]["targets"]["adversarial_above"] == 0.9
    assert [s for s, _ in on_disk["per_seed"]["0"]["trace"]][-1] == exp.STEPS
    assert result["figures"] == ["blurry_mean.png"] and (out / "blurry_mean.png").stat().st_size > 20_000
