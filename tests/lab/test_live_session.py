"""The live page's run without the web: changes mid-run, bad values, save / reopen / resume, what a frame shows."""

import math

import pytest
import torch
from torch.testing import assert_close

from gankit.cli import main
from gankit.errors import UserError
from gankit.lab.live.session import LiveParams, LiveSession
from gankit.lab.live.view import View, binned_divergences, g_gradients

torch.set_num_threads(1)
SMALL = LiveParams(toy="ring", batch_size=32)  # a fast run; the page's own default is 128


def _weights(session: LiveSession) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, m in session.method.modules.items() for k, v in m.state_dict().items()}


def test_binned_divergences_closed_forms():
    x = torch.tensor([[0.1, 0.1], [0.9, 0.9], [0.1, 0.9], [0.9, 0.1]])
    same = binned_divergences(x, x, [0, 0], [1, 1], bins=2, eps=0.0)
    assert same == {"kl": 0.0, "js": 0.0}
    # Disjoint supports: JS = 1 bit exactly without smoothing (m = p / 2 where p > 0).
    far = binned_divergences(x[:2], x[2:], [0, 0], [1, 1], bins=2, eps=0.0)
    assert_close(far["js"], 1.0)
    # p = (1/2, 1/2), q = (1, 0) on a 1-D grid of two cells, eps = 1e-4 as in GAN Lab, by hand:
    p = torch.tensor([0.5 + 1e-4, 0.5 + 1e-4])
    q = torch.tensor([1 + 1e-4, 1e-4])
    hand = float((p * (p / q).log2()).sum())
    one_d = binned_divergences(torch.tensor([[0.2], [0.7]]), torch.tensor([[0.1], [0.3]]), [0.0], [1.0], bins=2)
    assert_close(one_d["kl"], hand)


def test_loss_and_learning_rate_change_mid_run_keep_the_networks():
    s = LiveSession(SMALL)
    s.train(20)
    before = _weights(s)
    assert s.update({"loss": "lsgan", "g_lr": 5e-4}) is False  # no new run
    assert s.step == 20 and s.cfg.gan.loss == "lsgan"
    for k, v in _weights(s).items():
        assert torch.equal(v, before[k]), k
    assert [g["lr"] for g in s.method.opt_G.param_groups] == [5e-4]
    assert s.method.opt_G.state  # Adam's moments came along
    s.train(20)
    assert s.losses == [(0, "non-saturating"), (20, "lsgan")]
    # LSGAN's D loss (squares of errors around 0 and 1) sits far below BCE's (about 2 log 2 at balance)
    assert s.rows[-1]["d_loss"] < 0.6 < s.rows[0]["d_loss"]


def test_bad_values_leave_the_run_as_it_was():
    s = LiveSession(SMALL)
    s.train(10)
    weights, rng, params = _weights(s), s.rng.clone(), s.params
    for bad, key in [({"g_lr": -1e-3}, "optim.g_lr"), ({"batch_size": 30, "remedy": "pacgan4"}, "gan.pack"),
                     ({"loss": "began"}, "gan.loss"), ({"d_steps": "many"}, "d_steps")]:
        with pytest.raises(UserError, match=key):
            s.update(bad)
        assert s.params == params and s.step == 10 and torch.equal(s.rng, rng)
        assert all(torch.equal(v, weights[k]) for k, v in _weights(s).items())


def test_a_new_toy_or_remedy_starts_a_new_run():
    s = LiveSession(SMALL)
    s.train(10)
    assert s.update({"remedy": "pacgan2"}) is True and s.step == 0 and s.method.D.m == 2
    assert s.update({"toy": "grid"}) is True and s.cfg.model.data_scale == 4.0
    assert s.update({"remedy": "unrolled"}) is True  # from PacGAN back to an unpacked D
    s.train(2)
    assert s.update({"remedy": "none"}) is False and s.step == 2  # the unrolled GAN changes only G's step


def test_save_and_reopen_is_the_same_run_and_resumes_in_gankit_train(tmp_path):
    s = LiveSession(SMALL)
    s.train(25)
    s.update({"loss": "hinge", "d_lr": 2e-3})
    s.train(12)
    run = s.save(tmp_path / "run")
    reopened = LiveSession.load(run)
    assert reopened.step == 37 and reopened.params == s.params and reopened.losses == s.losses
    assert reopened.rows == s.rows
    assert_close(View(reopened).frame(reopened)["fake"], View(s).frame(s)["fake"], rtol=0, atol=0)
    # Going on from the reopened run computes what going on from the original computes...
    s.train(15)
    reopened.train(15)
    for k, v in _weights(reopened).items():
        assert torch.equal(v, _weights(s)[k]), k
    # ...and so does `gankit train --resume`, from the same directory.
    assert main(["train", "--resume", str(run), "--steps", "52", "--no-progress"]) == 0
    resumed = LiveSession.load(run)
    assert resumed.step == 52
    for k, v in _weights(resumed).items():
        assert torch.equal(v, _weights(s)[k]), k


def test_reopening_refuses_what_the_page_cannot_show(tmp_path):
    with pytest.raises(UserError, match="config.yaml"):
        LiveSession.load(tmp_path)
    s = LiveSession(SMALL)
    run = s.save(tmp_path / "a")
    other = LiveSession(SMALL)
    with pytest.raises(UserError, match="already holds a run"):
        other.save(run)


def test_frame_shows_the_run():
    s = LiveSession(LiveParams(toy="mog-1d", batch_size=32))
    s.train(5)
    view = View(s)
    f = view.frame(s)
    assert len(f["fake"]) == 500 and len(f["heat"]) == 160 and len(f["grad"]) == 200  # 1-D: one number each
    assert all(0 <= v <= 255 for v in f["heat"]) and f["step"] == 5
    assert f["metrics"]["modes"] <= 3 and 0 <= f["metrics"]["js"] <= 1 + 1e-3
    assert not any(isinstance(v, float) and math.isnan(v) for v in f["metrics"].values())


def test_arrows_point_where_g_loss_falls():
    """-dJ_G/dx is a descent direction of G's loss: a small move along it raises D's logit (non-saturating)."""
    s = LiveSession(SMALL)
    s.train(30)
    view = View(s)
    z = view.z[:200]
    grad = g_gradients(s.method, "non-saturating", z, view.real[:200])
    with torch.no_grad():
        x = s.method.sample(z)
        up = s.method.D(x + 1e-3 * grad / grad.norm(dim=1, keepdim=True)) - s.method.D(x)
    assert (up > 0).float().mean() > 0.95
