"""The class-conditional GAN (gankit.methods.cgan): its config checks, steps, labels, preview, sampling by
class from the command line, and a short run that learns the classes."""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

import gankit
from gankit.cli import main
from gankit.config import validate
from gankit.data import DataSpec, TensorData, load_dataset
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.losses.conditional import d_class_loss
from gankit.methods.cgan import CGAN, d_step, g_step
from gankit.metrics.extractors import extract
from gankit.train.context import TrainContext

CLASSES = tuple(f"c{i}" for i in range(10))
SPEC = DataSpec((1, 28, 28), classes=CLASSES)
TINY = ["method=cgan", "model.z_dim=8", "model.g_width=8", "model.d_width=8", "train.batch_size=16",
        "train.log_every=2", "train.checkpoint_every=2"]


def _cfg(mode: str = "projection", **sections):
    base = {"method": "cgan", "model": {"arch": "dcgan", "z_dim": 8, "g_width": 8, "d_width": 8},
            "cgan": {"d_conditioning": mode}}
    return validate(base | sections)


@pytest.mark.parametrize("override, key", [
    ({"gan": {"feature_matching": 1.0}}, "gan.feature_matching"),
    ({"gan": {"virtual_batchnorm": True}}, "gan.virtual_batchnorm"),
    ({"gan": {"pack": 2}}, "gan.pack"),
    ({"gan": {"unrolled_steps": 2}}, "gan.unrolled_steps"),
    ({"model": {"arch": "dcgan", "minibatch_kernels": 4}}, "model.minibatch_kernels"),
    ({"model": {"arch": "began"}}, "model.arch=began"),
    ({"cgan": {"d_conditioning": "projection", "aux_weight": 0.5}}, "cgan.aux_weight"),
    ({"model": {"arch": "mlp"}, "cgan": {"g_conditioning": "batchnorm"}}, "cgan.g_conditioning"),
    ({"gan": {"loss": "no-such-loss"}}, "gan.loss"),
])
def test_unsupported_switches_are_one_line_errors_naming_the_key(override, key):
    with pytest.raises(UserError) as e:
        _cfg(**override)
    assert key in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("mode, gan, logged", [
    ("acgan", {"loss": "hinge", "instance_noise": 0.1, "diffaugment": "translation", "ema_decay": 0.9, "d_steps": 2},
     {"d_class", "g_class", "class_acc_real", "class_acc_fake"}),
    ("concat", {"loss": "wgan", "clip_weights": 0.01}, {"wasserstein_estimate"}),
    ("projection", {"loss": "relativistic-average", "label_smoothing": 0.1}, set()),
    ("projection", {"loss": "wgan", "penalty": "wgan-gp", "penalty_weight": 10.0, "d_steps": 2},
     {"penalty", "wasserstein_estimate"}),
    ("concat", {"loss": "hinge", "penalty": "r1", "consistency": 1.0, "historical_averaging": 0.1},
     {"penalty", "consistency"}),
])
def test_supported_tricks_and_losses_build_and_step(mode, gan, logged):
    m = CGAN(_cfg(mode, gan=gan), SPEC, torch.device("cpu"))
    data = TensorData(torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10, list(CLASSES))
    m.setup(TrainContext.for_data(data, batch_size=16))
    stats = m.step()
    assert {"d_loss", "g_loss", "d_real", "d_fake"} | logged == set(stats)
    assert ("G_ema" in m.modules) == ("ema_decay" in gan)


def test_unlabelled_data_is_a_one_line_error_naming_the_dataset():
    cfg = _cfg(model={"arch": "mlp", "z_dim": 2}, data={"name": "ring"})
    with pytest.raises(UserError, match="data.name=ring") as e:
        CGAN(cfg, DataSpec((2,)), torch.device("cpu"))
    assert "\n" not in str(e.value)


def test_acgan_d_step_adds_the_class_terms_and_g_step_leaves_d_unchanged():
    torch.manual_seed(0)
    m = CGAN(_cfg("acgan"), SPEC, torch.device("cpu"))
    x, y = torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8)
    z, y_fake = torch.randn(8, 8), torch.tensor([9, 8, 7, 6, 5, 4, 3, 2])
    with torch.no_grad():
        _, real_class = m.D(x, y)
        _, fake_class = m.D(m.G(z, y_fake), y_fake)
    stats = d_step(m.G, m.D, m.opt_D, m.loss, x, y, z, y_fake)
    assert_close(stats["d_class"], d_class_loss(real_class, y, fake_class, y_fake))
    d_before = [p.clone() for p in m.D.parameters()]
    g_before = [p.clone() for p in m.G.parameters()]
    g_stats = g_step(m.G, m.D, m.opt_G, LOSSES["non-saturating"], z, y_fake)
    assert "g_class" in g_stats
    assert all(torch.equal(a, b) for a, b in zip(d_before, m.D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, m.G.parameters()))
    assert all(p.requires_grad for p in m.D.parameters())  # D unfrozen again


def test_aux_weight_scales_the_class_term_in_g_step():
    moved = []
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        m = CGAN(_cfg("acgan"), SPEC, torch.device("cpu"))
        g_step(m.G, m.D, m.opt_G, m.loss, torch.randn(8, 8), torch.arange(8), aux_weight=weight)
        moved.append(torch.cat([p.flatten() for p in m.G.parameters()]))
    assert not torch.equal(moved[0], moved[1])  # the class term reaches G


def test_two_ranks_draw_the_slices_of_one_global_noise_batch():
    m = CGAN(_cfg(), SPEC, torch.device("cpu"))
    torch.manual_seed(3)
    z, y = m.noise(8)
    parts = []
    for rank in (0, 1):
        m.rank, m.world_size = rank, 2
        torch.manual_seed(3)
        parts.append(m.noise(4))
    assert_close(torch.stack([parts[0][0], parts[1][0]], 1).reshape(8, -1), z)
    assert torch.equal(torch.stack([parts[0][1], parts[1][1]], 1).reshape(8), y)
    assert y.min() >= 0 and y.max() < 10


def test_default_labels_cycle_through_the_classes_and_cond_picks_them():
    m = CGAN(_cfg(), SPEC, torch.device("cpu"))
    assert m.labels(12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert m.labels(3, 7).tolist() == [7, 7, 7]
    z = torch.randn(4, 8)
    assert torch.equal(m.sample(z), m.sample(z, torch.tensor([0, 1, 2, 3])))  # deterministic: no random labels
    assert not torch.equal(m.sample(z, torch.full((4,), 7)), m.sample(z))


def test_preview_is_one_row_per_class_and_leaves_the_rng_alone():
    m = CGAN(_cfg(), SPEC, torch.device("cpu"))
    state = torch.get_rng_state()
    p = m.preview()
    assert torch.equal(torch.get_rng_state(), state)
    assert p.kind == "images" and p.nrow == 10 and p.data.shape == (100, 1, 28, 28)
    row7 = m.sample(m.z_preview[:10], torch.full((10,), 7))
    assert_close(p.data[70:80], row7)  # row k: class k, the same ten latents in every row
    assert torch.equal(m.z_preview[:10], m.z_preview[70:80])
    assert torch.equal(CGAN(_cfg(), SPEC, torch.device("cpu")).z_preview, m.z_preview)  # fixed at init


def _one_line_error(capsys, *args) -> str:
    assert main(["sample", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_sample_by_class_from_the_command_line(tmp_path, small_data, capsys):
    run = tmp_path / "cgan"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *TINY]) == 0
    by_name = gankit.sample(run, n=6, seed=1, cls="sneaker")
    assert_close(by_name, gankit.sample(run, n=6, seed=1, cls=7))
    assert_close(gankit.sample(run, n=6, seed=1, cls="Ankle boot"), gankit.sample(run, n=6, seed=1, cls="ankle-boot"))
    assert_close(gankit.sample(run, n=6, seed=1, cls="t-shirt"), gankit.sample(run, n=6, seed=1, cls="0"))
    method, _ = gankit.load_generator(run)
    z = torch.randn(6, 8, generator=torch.Generator().manual_seed(1))
    assert_close(by_name, method.sample(z, torch.full((6,), 7)))  # every sample of class 7
    assert main(["sample", "--run", str(run), "-n", "4", "--class", "sneaker", "--out", str(tmp_path / "s.png")]) == 0
    assert "of class sneaker" in capsys.readouterr().out
    assert gankit.sample(run, n=4, cls="bag", jacobian_truncation=0.5).shape == (4, 1, 28, 28)
    err = _one_line_error(capsys, "--run", str(run), "--class", "boot", "--out", str(tmp_path / "x.png"))
    assert "'boot'" in err and "no such class" in err and "9 Ankle boot" in err
    err = _one_line_error(capsys, "--run", str(run), "--class", "10", "--out", str(tmp_path / "x.png"))
    assert "10 classes" in err and "7 Sneaker" in err


def test_class_on_an_unconditional_run_is_a_one_line_error(tmp_path, small_data, tiny_overrides, capsys):
    run = tmp_path / "gan"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    err = _one_line_error(capsys, "--run", str(run), "--class", "sneaker", "--out", str(tmp_path / "x.png"))
    assert "unconditional" in err and "gan run" in err


@pytest.mark.parametrize("g_conditioning, steps", [("concat", 400), ("batchnorm", 1000)])
def test_a_short_run_generates_the_requested_classes(g_conditioning, steps):
    """A small projection-D DCGAN on Fashion-MNIST (~10 s per 400 steps on 2 CPU cores): the shipped classifier
    puts most samples in the class they were asked for. Chance is 0.1; G ignoring y stays there. G's label
    concatenated to z: 0.52 to 0.64 over three seeds at 400 steps. Conditional batch norm learns the class later
    (seed 0: 0.20 at 400 steps, 0.34 at 800, 0.51 at 1,000), hence its longer run."""
    torch.manual_seed(0)
    data = load_dataset("fashion-mnist")
    cfg = _cfg(
        model={"arch": "dcgan", "z_dim": 32, "g_width": 16, "d_width": 16},
        train={"batch_size": 64},
        cgan={"d_conditioning": "projection", "g_conditioning": g_conditioning},
    )
    m = CGAN(cfg, data.spec, torch.device("cpu"))
    m.setup(TrainContext.for_data(data, batch_size=64, steps=steps))
    for _ in range(steps):
        m.step()
    y = torch.arange(500) % 10
    _, probs = extract("fashion-mnist-classifier", m.sample(torch.randn(500, 32), y))
    accuracy = (probs.argmax(1) == y).float().mean().item()
    assert accuracy > 0.3, accuracy  # 3x chance; 500 samples at chance give 0.10 +- 0.013


def test_evaluate_adds_class_accuracy_and_intra_fid_and_leaves_the_rng_alone():
    fashion = load_dataset("fashion-mnist", split="test")
    cfg = _cfg(eval={"eval_every": 10, "metrics": ["fid"], "num_samples": 200}, data={"name": "fashion-mnist"})
    m = CGAN(cfg, fashion.spec, torch.device("cpu"))
    torch.manual_seed(3)
    scores = m.evaluate()
    after = torch.rand(1)
    torch.manual_seed(3)
    assert_close(after, torch.rand(1))  # evaluation draws nothing from training's stream
    assert {"fid", "class_accuracy", "intra_fid"} <= set(scores)
    assert 0.0 <= scores["class_accuracy"] <= 1.0 and scores["intra_fid"] > 0
    assert scores == m.evaluate()  # the same latents and labels every time

    class Oracle:  # a "generator" that returns real test images of the class asked for
        def __call__(self, z, y=None):
            y = torch.arange(len(z)) % 10 if y is None else y
            return torch.stack([fashion.x[(fashion.y == k).nonzero()[i % 50, 0]] for i, k in enumerate(y.tolist())])

    m.sample = Oracle()
    assert m.evaluate()["class_accuracy"] > 0.85  # the classifier's own accuracy on real images


def test_the_gradient_penalty_sees_each_real_image_with_its_own_label():
    """R1 on a conditional D(x, y) = <w_y, x>: (1/2) E ||w_y||^2 over the real batch's labels, which no D(x)
    without labels could give."""
    from gankit.methods.cgan import LabelledD
    from gankit.methods.tricks import Tricks

    class LinearD(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.arange(1.0, 4.0)[:, None] * torch.ones(3, 4))  # ||w_y||^2 = 4 (y+1)^2

        def forward(self, x, y):
            return (self.w[y] * x.flatten(1)).sum(1), None

    cfg = _cfg(gan={"loss": "hinge", "penalty": "r1", "penalty_weight": 1.0})
    tricks = Tricks.from_config(cfg, LOSSES["hinge"], nn.Identity(), LinearD(), torch.device("cpu"))
    y = torch.tensor([0, 2, 2, 1])
    reg, stats = tricks.d_regulariser(LabelledD(LinearD(), y), torch.randn(4, 4), torch.randn(4, 4))
    expected = 0.5 * torch.tensor([4.0, 36.0, 36.0, 16.0]).mean()
    assert_close(stats["penalty"], expected)
    assert_close(reg, expected)
