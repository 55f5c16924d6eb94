"""CycleGAN: the history pool's rule and exact state, the class filters, and a short run that learns its cycles."""

import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import RunData, TensorData
from gankit.errors import UserError
from gankit.methods import METHODS, build_method
from gankit.methods.cyclegan import ImagePool
from gankit.train.context import TrainContext


def _squares(n, size, g):
    """Bright squares of random place and side on black: images with structure to learn, unlike noise."""
    x = -torch.ones(n, 1, size, size)
    for i in range(n):
        s = int(torch.randint(3, size // 2, (), generator=g))
        top, left = (int(v) for v in torch.randint(0, size - s, (2,), generator=g))
        x[i, :, top : top + s, left : left + s] = 1.0
    return x


def test_pool_returns_the_first_images_as_they_are_then_swaps_about_half():
    pool = ImagePool(4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)
    new = torch.arange(100.0, 300.0).view(200, 1, 1, 1)
    out = pool.query(new)
    swapped = (out != new).flatten()
    assert 70 < int(swapped.sum()) < 130  # each is swapped with probability 1/2
    history = set(range(4)) | set(range(100, 300))
    assert set(out.flatten().long().tolist()) <= history and len(pool.images) == 4


def test_pool_state_resumes_the_same_draws():
    pool = ImagePool(3, seed=1)
    pool.query(torch.randn(5, 1, 2, 2))
    state = pool.state_dict()
    again = ImagePool(3, seed=99)
    again.load_state_dict(state, torch.device("cpu"))
    x = torch.randn(20, 1, 2, 2)
    assert torch.equal(pool.query(x), again.query(x))


def test_a_pool_of_size_0_passes_images_through():
    x = torch.randn(3, 1, 2, 2)
    assert torch.equal(ImagePool(0, seed=0).query(x), x)


def _cfg(*extra):
    return validate(apply_overrides({"method": "cyclegan"}, METHODS["cyclegan"].smoke + list(extra)), "test")


def _two_class_data():
    g = torch.Generator().manual_seed(0)
    x = _squares(80, 12, g)
    y = torch.arange(80) % 4
    return TensorData(x, y, ["w", "x", "y", "z"], "toy")


def test_class_filters_split_the_train_part_and_unknown_classes_are_named():
    cfg = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y, z]", "cyclegan.val_size=4")
    data = _two_class_data()
    m = build_method(cfg, data.spec, torch.device("cpu"))
    ctx = TrainContext(RunData({"train": data}), torch.device("cpu"), 4, 8)
    m.setup(ctx)
    assert len(ctx.data.part("cycle_A")) == 20 - 4 and len(ctx.data.part("cycle_B")) == 40 - 4
    assert set(ctx.data.part("cycle_B").y.tolist()) == {2, 3} and m.classes_b_idx == [2, 3]
    bad = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[nope]")
    with pytest.raises(UserError, match="nope"):
        build_method(bad, data.spec, torch.device("cpu")).setup(TrainContext(RunData({"train": data}), "cpu", 4, 8))
    with pytest.raises(UserError, match="classes_a and classes_b"):
        build_method(_cfg("data.target=null"), data.spec, torch.device("cpu"))


def test_a_short_run_shrinks_the_cycle_error():
    torch.manual_seed(0)
    cfg = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y]", "cyclegan.val_size=4",
               "cyclegan.width=8", "cyclegan.lr=1e-3", "train.steps=40")
    data = _two_class_data()
    m = build_method(cfg, data.spec, torch.device("cpu"))
    m.setup(TrainContext(RunData({"train": data}), torch.device("cpu"), 4, 40))
    first = m.evaluate()["cycle_l1"]
    for _ in range(40):
        m.step()
    assert m.evaluate()["cycle_l1"] < 0.7 * first


def test_lambda_cyc_b_weighs_only_the_b_cycle():
    """One step from the same start: the logged cycle term is |F(G(a)) - a| + w |G(F(b)) - b| with w the ratio
    lambda_cyc_b / lambda_cyc (1 when unset, the paper's)."""
    data = _two_class_data()
    cycles = {}
    for w in ("null", "10.0", "0.0", "5.0"):
        torch.manual_seed(0)
        cfg = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y]", "cyclegan.val_size=4",
                   f"cyclegan.lambda_cyc_b={w}")
        m = build_method(cfg, data.spec, torch.device("cpu"))
        m.setup(TrainContext(RunData({"train": data}), torch.device("cpu"), 4, 8))
        cycles[w] = float(m.step()["cycle"])
    a_term, b_term = cycles["0.0"], cycles["null"] - cycles["0.0"]
    assert cycles["10.0"] == pytest.approx(cycles["null"])
    assert b_term > 0.01
    assert cycles["5.0"] == pytest.approx(a_term + 0.5 * b_term, rel=1e-5)


def test_downsamplings_set_the_generators_halvings():
    data = _two_class_data()
    for k in (0, 2):
        cfg = _cfg(
            "data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y]", f"cyclegan.downsamplings={k}"
        )
        m = build_method(cfg, data.spec, torch.device("cpu"))
        strides = [mod.stride[0] for mod in m.G_AB.modules() if isinstance(mod, torch.nn.Conv2d)]
        assert strides.count(2) == k and m.G_BA.multiple == 2**k
    cfg = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y]", "cyclegan.downsamplings_b=0")
    m = build_method(cfg, data.spec, torch.device("cpu"))
    assert (m.G_AB.multiple, m.G_BA.multiple) == (4, 1)  # F (B -> A) apart: a local F beside the paper's G


def test_ema_of_both_generators_averages_their_weights_and_translates_in_their_place():
    from gankit.methods.tricks.g_side import ema_decay_at

    data = _two_class_data()
    cfg = _cfg("data.target=null", "cyclegan.classes_a=[x]", "cyclegan.classes_b=[y]", "cyclegan.val_size=4",
               "cyclegan.ema_decay=0.5")  # fmt: skip
    torch.manual_seed(0)
    m = build_method(cfg, data.spec, torch.device("cpu"))
    m.setup(TrainContext(RunData({"train": data}), torch.device("cpu"), 4, 8))
    assert set(m.modules) == {"G_AB", "G_BA", "D_A", "D_B", "G_AB_ema", "G_BA_ema"}  # checkpointed
    assert set(m.train_nets) == {"G_AB", "G_BA", "D_A", "D_B"}  # never trained
    avg = {k: [p.detach().clone() for p in m.modules[k].parameters()] for k in ("G_AB", "G_BA")}
    for t in range(3):  # by hand: e <- d e + (1 - d) theta, d = min(0.5, (1 + t) / (10 + t))
        m.step()
        d = ema_decay_at(0.5, t)
        for k, ps in avg.items():
            avg[k] = [d * e + (1 - d) * p.detach() for e, p in zip(ps, m.modules[k].parameters())]
    for k, ps in avg.items():
        for e, p in zip(ps, m.modules[f"{k}_ema"].parameters()):
            torch.testing.assert_close(p, e)
    b = m.val["B"][:4]
    assert torch.equal(m.translate(b, "BtoA"), m.modules["G_BA_ema"].eval()(b).clamp(-1, 1))
    assert not torch.equal(m.translate(b, "BtoA"), m.G_BA.eval()(b).clamp(-1, 1))
    fresh = build_method(cfg, data.spec, torch.device("cpu"))
    fresh.load_state_dict(m.state_dict())
    assert fresh.ema_steps == 3  # the warm-up's clock resumes where it stopped
