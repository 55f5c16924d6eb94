import torch
from torch.testing import assert_close

from gankit.config import validate
from gankit.data import DataSpec, TensorData
from gankit.losses import LOSSES
from gankit.methods.gan import GAN, d_step, g_step
from gankit.train.context import TrainContext


def _cfg(**sections):
    base = {"model": {"arch": "mlp", "z_dim": 4, "g_width": 32, "d_width": 32, "depth": 2}}
    base.update(sections)
    return validate(base)


def test_one_d_step_lowers_jd_on_a_fixed_batch():
    torch.manual_seed(0)
    gan = GAN(_cfg(), DataSpec((1, 28, 28)), torch.device("cpu"))
    x, z = torch.rand(32, 1, 28, 28) * 2 - 1, torch.randn(32, 4)
    loss = LOSSES["non-saturating"]

    def j_d():
        with torch.no_grad():
            return loss.d(gan.D(x), gan.D(gan.G(z))).item()

    before = j_d()
    d_step(gan.G, gan.D, gan.opt_D, loss, x, z)
    assert j_d() < before


def test_g_step_leaves_d_unchanged_and_moves_g():
    torch.manual_seed(0)
    gan = GAN(_cfg(), DataSpec((2,)), torch.device("cpu"))
    d_before = [p.clone() for p in gan.D.parameters()]
    g_before = [p.clone() for p in gan.G.parameters()]
    g_step(gan.G, gan.D, gan.opt_G, LOSSES["non-saturating"], torch.randn(16, 4))
    for a, b in zip(d_before, gan.D.parameters()):
        assert_close(a, b, rtol=0, atol=0)
    assert any(not torch.equal(a, b) for a, b in zip(g_before, gan.G.parameters()))
    assert all(p.requires_grad for p in gan.D.parameters())  # D unfrozen again


def test_k_discriminator_steps_draw_k_real_batches():
    data = TensorData(x=torch.randn(400, 2))
    gan = GAN(_cfg(gan={"d_steps": 3}), DataSpec((2,)), torch.device("cpu"))
    ctx = TrainContext.for_data(data, batch_size=10)
    gan.setup(ctx)
    gan.step()
    assert ctx.streams["train"].index == 30


def test_mlp_gan_moves_the_generated_mean_toward_a_1d_gaussian():
    torch.manual_seed(0)
    data = TensorData(x=torch.randn(4096, 1) * 0.5 + 3.0)  # N(3, 0.5^2)
    cfg = _cfg(optim={"g_lr": 1e-3, "d_lr": 1e-3})
    gan = GAN(cfg, DataSpec((1,)), torch.device("cpu"))
    gan.setup(TrainContext.for_data(data, batch_size=64))
    z = torch.randn(2000, 4)
    start = gan.sample(z).mean().item()
    for _ in range(400):
        gan.step()
    end = gan.sample(z).mean().item()
    assert abs(end - 3.0) < 0.5 * abs(start - 3.0)  # at least halfway there
    assert abs(end - 3.0) < 0.5


def test_decode_is_sample_with_gradients():
    from gankit.methods import build_method

    cfg = validate({"model": {"g_width": 8, "d_width": 8}})
    method = build_method(cfg, DataSpec((1, 28, 28)), torch.device("cpu"))
    z = torch.randn(3, method.z_dim, requires_grad=True)
    x = method.decode(z)
    torch.testing.assert_close(x.detach(), method.sample(z))
    x.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert method.G.training  # decode put G back in training mode
