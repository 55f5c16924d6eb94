"""Plug-and-play sampling (gankit.sampling.ppgn): the Langevin step's formula at a closed form, the class term's
direction, the DAE's training and file, and the CLI's errors."""

from __future__ import annotations

import torch
from torch import nn

from gankit.cli import main
from gankit.errors import UserError
from gankit.sampling import ppgn


class Scale(nn.Module):
    """r(x) = a x: a DAE whose prior term r(x) - x = (a - 1) x is known in closed form."""

    def __init__(self, a: float):
        super().__init__()
        self.a = a

    def forward(self, x):
        return self.a * x


def _linear_classifier(k: int = 3, d: int = 4) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, k))


def test_langevin_step_equals_the_formula():
    """x + eps1 (a x - x) + eps2 (W_c - sum_j p_j W_j) + eps3 z, with z the generator's next normal draw."""
    clf = _linear_classifier()
    W = clf[1].weight.detach()
    x = torch.randn(2, 1, 2, 2)
    cls = torch.tensor([0, 2])
    p = clf(x).softmax(1).detach()
    grad = (W[cls] - p @ W).reshape(x.shape)  # d/dx log softmax(Wx + b)[c] for a linear classifier
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    expected = x + 0.3 * (0.5 * x - x) + 2.0 * grad + 0.1 * z
    out = ppgn.langevin_step(Scale(0.5), clf, x, cls, 0.3, 2.0, 0.1, torch.Generator().manual_seed(5), clamp=False)
    torch.testing.assert_close(out, expected)
    # clamping keeps the chain in the images' range [-1, 1]
    big = ppgn.langevin_step(Scale(0.5), clf, 10 * x, cls, 0.3, 2.0, 0.0)
    torch.testing.assert_close(big, (10 * x + 0.3 * (-5 * x) + 2.0 * _grad(clf, 10 * x, cls)).clamp(-1, 1))


def _grad(clf, x, cls):
    p = clf(x).softmax(1).detach()
    W = clf[1].weight.detach()
    return (W[cls] - p @ W).reshape(x.shape)


def test_class_term_raises_the_requested_class_log_probability():
    """A small step along grad log p(c | x) of the shipped classifier raises log p(c | x) for every image."""
    clf, classes = ppgn.shipped_classifier()
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    cls = torch.arange(10)
    before = clf(x).log_softmax(1)[cls, cls]
    after_x = ppgn.langevin_step(Scale(1.0), clf, x, cls, 0.0, 0.01, 0.0, clamp=False)  # prior term 0
    after = clf(after_x).log_softmax(1)[cls, cls]
    assert bool((after > before).all()), (before, after)
    assert classes[ppgn.class_index(classes, "sneaker")] == "Sneaker"
    assert ppgn.class_index(classes, "tshirt") == 0 and ppgn.class_index(classes, "9") == 9


def _images(n: int = 64) -> torch.Tensor:
    """Smooth blobs in [-1, 1]: structure a DAE can learn in a few steps."""
    g = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 28), torch.linspace(-1, 1, 28), indexing="ij")
    c = torch.rand(n, 2, 1, 1, generator=g) - 0.5
    r2 = (xx - c[:, :1]) ** 2 + (yy - c[:, 1:]) ** 2
    return (2 * torch.exp(-r2 / 0.1) - 1).reshape(n, 1, 28, 28)


def test_dae_training_lowers_reconstruction_loss_and_round_trips(tmp_path):
    x = _images()
    cfg = ppgn.DAEConfig(width=4, steps=40, batch_size=16, lr=3e-3, adv_weight=0.01, seed=0)
    torch.manual_seed(cfg.seed)
    untrained = ppgn.DAE(cfg.width)  # the same initialisation train_dae starts from
    trained = ppgn.train_dae(x, cfg)
    with torch.no_grad():
        before = ppgn.dae_losses(untrained, x, cfg.sigma, torch.Generator().manual_seed(9))[0]
        after = ppgn.dae_losses(trained, x, cfg.sigma, torch.Generator().manual_seed(9))[0]
    assert after < 0.7 * before, (before, after)
    ppgn.save_dae(trained, cfg, tmp_path, {"eps1": 0.5})
    loaded, cfg2, extra = ppgn.load_dae(tmp_path)
    assert cfg2 == cfg and extra == {"eps1": 0.5}
    torch.testing.assert_close(loaded(x[:2]), trained(x[:2]))


def test_cli_samples_and_rejects_bad_input(tmp_path, capsys):
    ppgn.save_dae(ppgn.DAE(4).eval(), ppgn.DAEConfig(width=4), tmp_path)
    out = tmp_path / "chains.png"
    args = ["ppgn", "--run", str(tmp_path), "-n", "2", "--steps", "3", "--columns", "2"]
    assert main([*args, "--class", "sneaker", "--out", str(out)]) == 0
    assert out.is_file() and "toward Sneaker" in capsys.readouterr().out
    assert main([*args, "--class", "no-such-thing", "--out", str(out)]) == 2
    assert "no such class" in capsys.readouterr().err
    assert main([*args, "--class", "10", "--out", str(out)]) == 2
    assert main(["ppgn", "--run", str(tmp_path / "missing"), "--class", "1", "--out", str(out)]) == 2
    assert main([*args, "--class", "1", "--out", str(out), "--eps", "1,2"]) == 2
    try:
        ppgn.class_index(["a", "b"], "c")
    except UserError as e:
        assert "no such class" in str(e)
    else:
        raise AssertionError("class_index accepted an unknown class")


def test_latent_step_equals_the_formula():
    """PPGN-h: z - eps1 z + eps2 M^T (V_c - sum_j p_j V_j) + eps3 n for G(z) = M z and a linear classifier V."""
    torch.manual_seed(0)
    M = torch.randn(4, 3)  # G: z (3) -> a 1 x 2 x 2 image
    clf = _linear_classifier()
    V = clf[1].weight.detach()

    def G(z):
        return (z @ M.T).reshape(-1, 1, 2, 2)

    z = torch.randn(2, 3)
    cls = torch.tensor([1, 2])
    p = clf(G(z)).softmax(1).detach()
    grad = (V[cls] - p @ V) @ M  # d/dz log softmax(V M z + b)[c]
    n = torch.randn(z.shape, generator=torch.Generator().manual_seed(3))
    out = ppgn.latent_langevin_step(G, clf, z, cls, 0.1, 0.5, 0.2, torch.Generator().manual_seed(3))
    torch.testing.assert_close(out, z - 0.1 * z + 0.5 * grad + 0.2 * n)


def test_latent_chains_move_a_generator_toward_the_class():
    """Chains in the latent space of a fixed random G land in the requested class far more often than G's own
    samples (the shipped classifier's verdict), and record G(z_t) with G(z_0) first."""
    clf, _ = ppgn.shipped_classifier()
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(128, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    cls = torch.arange(10).repeat(2)
    x, frames = ppgn.sample_latent_chains(G, clf, cls, 128, 30, (0.005, 1.0, 0.1), seed=0, record=3)
    assert frames.shape == (20, 3, 1, 28, 28) and x.shape == (20, 1, 28, 28)
    start = float((clf(frames[:, 0]).argmax(1) == cls).float().mean())
    end = float((clf(x).argmax(1) == cls).float().mean())
    assert start <= 0.3 and end >= 0.8, (start, end)
    z0 = torch.randn(20, 128, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(frames[:, 0], G(z0).detach())


def test_cli_samples_in_a_gan_runs_latent_space(tmp_path, small_data, capsys):
    run = tmp_path / "gan"
    tiny = ["model.z_dim=8", "model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.log_every=2"]
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny]) == 0
    out = tmp_path / "chains.png"
    args = ["ppgn", "--run", str(run), "-n", "2", "--steps", "3", "--columns", "2", "--class", "bag", "--out", str(out)]
    assert main(args) == 0
    assert out.is_file() and "toward Bag" in capsys.readouterr().out
    assert main([*args, "--from-data"]) == 2
    assert "GAN run" in capsys.readouterr().err
