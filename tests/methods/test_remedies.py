"""The collapse remedies as GAN config switches: defaults unchanged, validation, and a step each on toys and images."""

import copy

import pytest
import torch
from torch.testing import assert_close

from gankit.config import load_config
from gankit.data import DataSpec, TensorData
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.methods import build_method
from gankit.methods.gan import g_step
from gankit.methods.remedies import _adam_lookahead, unrolled_g_step
from gankit.nets import MLPDiscriminator
from gankit.nets.minibatch import MinibatchDiscriminator
from gankit.nets.pack import PackedDiscriminator
from gankit.train.context import TrainContext

TOY = ["data.name=ring", "model.arch=mlp", "model.z_dim=2", "model.g_width=16", "model.d_width=16", "train.batch_size=16"]


def test_defaults_keep_the_plain_gan():
    cfg = load_config(None, TOY)
    assert (cfg.gan.pack, cfg.gan.unrolled_steps, cfg.model.minibatch_kernels) == (1, 0, 0)
    assert type(build_method(cfg, DataSpec((2,)), torch.device("cpu")).D) is MLPDiscriminator


def test_pack_must_divide_the_batch():
    with pytest.raises(UserError, match="gan.pack=3 must divide train.batch_size=16"):
        load_config(None, TOY + ["gan.pack=3"])


def _changes_G(cfg, shape):
    torch.manual_seed(0)
    data = TensorData(x=torch.randn(64, *shape))
    method = build_method(cfg, DataSpec(shape), torch.device("cpu"))
    method.setup(TrainContext.for_data(data, cfg.train.batch_size))
    before = copy.deepcopy(method.G.state_dict())
    stats = method.step()
    assert all(torch.isfinite(v) for v in stats.values())
    return method, any(not torch.equal(before[k], v) for k, v in method.G.state_dict().items())


@pytest.mark.parametrize("switch,cls", [("model.minibatch_kernels=4", MinibatchDiscriminator), ("gan.pack=4", PackedDiscriminator), ("gan.unrolled_steps=2", MLPDiscriminator)])
def test_each_switch_trains_on_toy_data(switch, cls):
    method, moved = _changes_G(load_config(None, TOY + [switch]), (2,))
    assert isinstance(method.D, cls) and moved


@pytest.mark.parametrize("switch", ["model.minibatch_kernels=4", "gan.pack=2", "gan.unrolled_steps=1"])
def test_each_switch_trains_on_images(switch):
    cfg = load_config(None, ["model.g_width=8", "model.d_width=8", "model.z_dim=8", "train.batch_size=8", switch])
    _, moved = _changes_G(cfg, (1, 28, 28))
    assert moved


def test_zero_unrolled_steps_is_the_plain_generator_step():
    torch.manual_seed(0)
    cfg = load_config(None, TOY)
    a = build_method(cfg, DataSpec((2,)), torch.device("cpu"))
    b = copy.deepcopy(a)
    x = torch.randn(16, 2)
    z = torch.randn(16, 2)
    g_step(a.G, a.D, a.opt_G, LOSSES["non-saturating"], z, x)
    unrolled_g_step(b.G, b.D, b.opt_D, b.opt_G, LOSSES["non-saturating"], lambda: x, lambda n: z, steps=0)
    for pa, pb in zip(a.G.parameters(), b.G.parameters()):
        assert_close(pa, pb)


def test_lookahead_step_is_an_adam_step():
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(5))
    opt = torch.optim.Adam([p], lr=0.1, betas=(0.5, 0.9))
    for _ in range(3):  # give the optimizer some state
        opt.zero_grad()
        (p**3).sum().backward()
        opt.step()
    g = torch.randn(5)
    new = _adam_lookahead({"p": p}, (g,), opt, {p: "p"}, 1)["p"]
    ref = copy.deepcopy(p)
    ref_opt = torch.optim.Adam([ref], lr=0.1, betas=(0.5, 0.9))
    ref_opt.load_state_dict(opt.state_dict())
    ref.grad = g.clone()
    ref_opt.step()
    assert_close(new, ref.detach())
