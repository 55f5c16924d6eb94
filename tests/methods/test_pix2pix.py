"""pix2pix: the L1-only baseline has no D, the direction swaps input and target, unpaired data is refused, and a
short run measurably learns."""

import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import RunData, TensorData
from gankit.errors import UserError
from gankit.methods import METHODS, build_method
from gankit.methods.pix2pix import l1, translation_scores
from gankit.train.context import TrainContext


def _squares(n, size, g):
    """Bright squares of random place and side on black: images with structure to learn, unlike noise."""
    x = -torch.ones(n, 1, size, size)
    for i in range(n):
        s = int(torch.randint(3, size // 2, (), generator=g))
        top, left = (int(v) for v in torch.randint(0, size - s, (2,), generator=g))
        x[i, :, top : top + s, left : left + s] = 1.0
    return x


def _cfg(*extra):
    return validate(apply_overrides({"method": "pix2pix"}, METHODS["pix2pix"].smoke + list(extra)), "test")


def _pairs(n=64, size=32):
    g = torch.Generator().manual_seed(0)
    b = _squares(n, size, g)
    return TensorData(b, torch.arange(n) % 10, [str(i) for i in range(10)], "toy", extra={"a": -b})  # A: negative


def _setup(cfg, data):
    m = build_method(cfg, data.spec, torch.device("cpu"))
    m.setup(TrainContext(RunData({"train": data}), torch.device("cpu"), cfg.train.batch_size, cfg.train.steps))
    return m


def test_l1_only_baseline_has_no_discriminator():
    m = build_method(_cfg("pix2pix.adv_weight=0"), _pairs().spec, torch.device("cpu"))
    assert set(m.modules) == {"G"} and set(m.optimizers) == {"G"}
    assert set(build_method(_cfg(), _pairs().spec, torch.device("cpu")).modules) == {"G", "D"}


def test_direction_swaps_input_and_target():
    data = _pairs()
    m = _setup(_cfg("pix2pix.direction=BtoA"), data)
    batch = next(m.batches)
    torch.testing.assert_close(batch["a"], -batch["x"])
    assert torch.equal(m.val["a"], -m.val["b"])
    i = next(i for i in range(len(data)) if torch.equal(data.x[i], batch["a"][0]))  # the input is the data's x
    assert torch.equal(data.extra["a"][i], batch["x"][0])


def test_unpaired_data_is_a_one_line_error():
    with pytest.raises(UserError, match="paired"):
        build_method(_cfg(), TensorData(torch.zeros(4, 1, 32, 32)).spec, torch.device("cpu"))


def test_a_short_run_lowers_the_validation_l1():
    torch.manual_seed(0)
    m = _setup(_cfg("pix2pix.width=8", "pix2pix.lr=1e-3", "train.steps=30"), _pairs())
    before = m.evaluate()["l1"]
    for _ in range(30):
        m.step()
    assert m.evaluate()["l1"] < 0.6 * before


def test_translation_scores_of_the_targets_themselves():
    from gankit.data import load_dataset

    d = load_dataset("mnist-5k-edges", split="test", img_size=32)
    s = translation_scores(d.x[:300], d.x[:300], d.y[:300], "mnist-classifier")
    assert s["l1"] == 0 and abs(s["fid"]) < 1e-3 and s["class_accuracy"] > 0.9
    assert l1(torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)) == 1


def test_ema_of_g_averages_its_weights_and_translates_in_its_place():
    from gankit.methods.tricks.g_side import ema_decay_at

    torch.manual_seed(0)
    m = _setup(_cfg("pix2pix.ema_decay=0.5", "pix2pix.adv_weight=0"), _pairs())
    assert set(m.modules) == {"G", "G_ema"} and set(m.optimizers) == {"G"}  # checkpointed, never trained
    avg = [p.detach().clone() for p in m.G.parameters()]
    for t in range(3):  # by hand: e <- d e + (1 - d) theta, d = min(0.5, (1 + t) / (10 + t))
        m.step()
        d = ema_decay_at(0.5, t)
        avg = [d * e + (1 - d) * p.detach() for e, p in zip(avg, m.G.parameters())]
    for e, p in zip(avg, m.G_ema.parameters()):
        torch.testing.assert_close(p, e)
    a = m.val["a"][:4]
    assert torch.equal(m.translate(a), m.G_ema.eval()(a).clamp(-1, 1))
    assert not torch.equal(m.translate(a), m.G.eval()(a).clamp(-1, 1))
    assert m.state_dict()["ema_steps"] == 3
    fresh = _setup(_cfg("pix2pix.ema_decay=0.5", "pix2pix.adv_weight=0"), _pairs())
    fresh.load_state_dict(m.state_dict())
    assert fresh.ema_steps == 3  # the warm-up's clock resumes where it stopped
