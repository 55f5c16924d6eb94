"""The VAE method: one step descends the negative ELBO; it trains, checkpoints, resumes and samples
through the same loop, run directory and API as the GANs."""


import torch

import gankit
from gankit.config import load_config
from gankit.data import DataSpec
from gankit.losses.vae import bernoulli_nll, kl_normal
from gankit.methods import build_method
from gankit.train import load_checkpoint, train_run

TINY = ["vae.width=4", "model.z_dim=4", "train.batch_size=8", "train.steps=4", "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=2", "train.num_samples=4"]
def test_step_returns_the_negative_elbo():
    """The logged loss is recon + KL of the step's own forward pass, recomputed here by hand from
    copies of the networks and the same encoder noise."""
    import copy

    from gankit.losses.vae import reparameterise

    cfg = load_config("vae-fashion-mnist", TINY)
    vae = build_method(cfg, DataSpec((1, 28, 28)), torch.device("cpu"))
    enc, dec = copy.deepcopy(vae.encoder), copy.deepcopy(vae.decoder)
    x = torch.rand(8, 1, 28, 28) * 2 - 1
    torch.manual_seed(0)
    mu, logvar = enc(x)
    out = dec(reparameterise(mu, logvar))
    recon, kl = bernoulli_nll(out, x), kl_normal(mu, logvar)
    torch.manual_seed(0)
    vae.batches = iter([{"x": x}])  # the stream setup() would take, holding just this batch
    stats = vae.step()
    torch.testing.assert_close(stats["recon"], recon.detach())
    torch.testing.assert_close(stats["kl"], kl.detach())
    torch.testing.assert_close(stats["loss"], (recon + kl).detach())
    assert not torch.equal(vae.decoder.net[-1].weight, dec.net[-1].weight)  # and the step moved the weights


def test_sample_is_the_decoder_mean_in_range():
    cfg = load_config("vae-fashion-mnist", TINY)
    vae = build_method(cfg, DataSpec((1, 28, 28)), torch.device("cpu"))
    z = torch.randn(5, 4)
    vae.decoder.eval()
    torch.testing.assert_close(vae.sample(z), torch.tanh(vae.decoder(z) / 2))  # 2 sigmoid(a) - 1
    assert vae.decoder.training is False and vae.sample(z).shape == (5, 1, 28, 28)


def test_train_resume_and_sample_through_the_api(tmp_path, small_data):
    cfg = load_config("vae-fashion-mnist", TINY)
    r = train_run(cfg, tmp_path / "full", progress=False)
    assert r.step == 4 and r.last_samples.is_file()
    assert set(load_checkpoint(tmp_path / "full").module_state("decoder")) == set(build_method(cfg, DataSpec((1, 28, 28)), torch.device("cpu")).decoder.state_dict())
    rows = (tmp_path / "full" / "metrics.csv").read_text().splitlines()
    assert rows[0].split(",")[:4] == ["step", "loss", "recon", "kl"]
    # 2 steps, then resumed to 4: the same weights as 4 straight steps
    train_run(load_config("vae-fashion-mnist", TINY + ["train.steps=2"]), tmp_path / "half", progress=False)
    train_run(cfg, tmp_path / "half", resume=True, progress=False)
    a, b = load_checkpoint(tmp_path / "full"), load_checkpoint(tmp_path / "half")
    assert all(torch.equal(a.weights[k], b.weights[k]) for k in a.weights)
    images = gankit.sample(tmp_path / "full", n=6, seed=1)
    assert images.shape == (6, 1, 28, 28) and images.abs().max() <= 1.0


def test_vae_learns(tmp_path, small_data):
    """120 steps on 256 images: the negative ELBO (~550 nats per image at the start) falls by over 30%."""
    cfg = load_config("vae-fashion-mnist", ["vae.width=8", "model.z_dim=8", "train.batch_size=32", "train.steps=120", "train.log_every=20", "train.sample_every=1000", "train.checkpoint_every=1000"])
    train_run(cfg, tmp_path / "run", progress=False)
    rows = [r.split(",") for r in (tmp_path / "run" / "metrics.csv").read_text().splitlines()[1:]]
    first, last = float(rows[0][1]), float(rows[-1][1])
    assert last < 0.7 * first, (first, last)
