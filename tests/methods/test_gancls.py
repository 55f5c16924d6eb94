"""GAN-CLS (gankit.methods.gancls): data without captions is a one-line error, a short run teaches D to tell
matching captions from mismatching ones, and `gankit sample --text` draws from captions (unknown word: exit 2)."""

import sys

import pytest
import torch
from torch.testing import assert_close

from gankit.cli import main
from gankit.config import validate
from gankit.data import DataSpec, RunData, TensorData
from gankit.data.captions import encode_captions
from gankit.errors import UserError
from gankit.losses.text import mismatched
from gankit.methods.gancls import GANCLS
from gankit.train.context import TrainContext

TINY = ["method=gancls", "data.name=fashion-mnist-captions", "model.z_dim=8", "model.g_width=8", "model.d_width=8",
        "gancls.word_dim=8", "gancls.embed_dim=8", "train.batch_size=32", "train.log_every=2", "train.checkpoint_every=2"]
_SMALL: dict = {}


@pytest.fixture
def captioned(monkeypatch):
    """The first 512 captioned Fashion-MNIST images in place of the whole set."""
    from gankit.data import load_dataset

    if "data" not in _SMALL:
        try:
            full = load_dataset("fashion-mnist-captions")
        except UserError as e:
            pytest.skip(f"Fashion-MNIST not available: {e}")
        extra = {k: v[:512].clone() for k, v in full.extra.items()}
        _SMALL["data"] = TensorData(full.x[:512].clone(), full.y[:512].clone(), full.classes, full.name, extra)
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_run_data", lambda cfg: RunData({"train": _SMALL["data"]}))
    return _SMALL["data"]


def _cfg(*overrides):
    from gankit.config import apply_overrides

    return validate(apply_overrides({}, list(TINY) + list(overrides)))


def test_data_without_captions_is_a_user_error():
    with pytest.raises(UserError, match="data.name=fashion-mnist has no captions"):
        GANCLS(_cfg("data.name=fashion-mnist"), DataSpec((1, 28, 28), classes=tuple("abcdefghij")), torch.device("cpu"))


def test_a_short_run_teaches_d_to_read_the_caption(captioned):
    torch.manual_seed(0)
    method = GANCLS(_cfg("optim.d_lr=1e-3"), captioned.spec, torch.device("cpu"))
    method.setup(TrainContext.for_data(captioned, batch_size=32))
    x, y, t = captioned.x[:256], captioned.y[:256], captioned.extra["caption"][:256, 0]

    def gap() -> float:  # mean D(x, own caption) - D(x, another class's caption) on real images, eval mode
        method.D.eval()
        with torch.no_grad():
            g = (torch.sigmoid(method.D(x, t)) - torch.sigmoid(method.D(x, mismatched(t, y)))).mean().item()
        method.D.train()
        return g

    before = gap()
    for _ in range(40):
        method.step()
    # at the start D cannot tell the captions apart (measured 0.000); after 40 steps a real image scores
    # higher under its own caption (measured 0.22)
    assert abs(before) < 0.01 and gap() > 0.1


def test_the_class_term_teaches_d_to_name_the_class(captioned):
    torch.manual_seed(0)
    method = GANCLS(_cfg("optim.d_lr=1e-3", "gancls.class_weight=1.0"), captioned.spec, torch.device("cpu"))
    method.setup(TrainContext.for_data(captioned, batch_size=32))
    x, y, t = captioned.x[:256], captioned.y[:256], captioned.extra["caption"][:256, 0]

    def accuracy() -> float:  # D's class head on real images, eval mode
        method.D.eval()
        with torch.no_grad():
            a = (method.D(x, t, classes=True)[1].argmax(1) == y).float().mean().item()
        method.D.train()
        return a

    before = accuracy()
    head = method.D.classify.weight.detach().clone()
    stats = [method.step() for _ in range(30)]
    assert {"d_class", "g_class"} <= set(stats[-1])
    # chance at the start (measured 0.10); after 30 steps the head names most real garments (measured 0.73;
    # 0.07 with the same head but class_weight=0)
    assert before < 0.2 and accuracy() > 0.4 and not torch.equal(head, method.D.classify.weight)


def test_the_ema_of_g_samples_and_averages_g(captioned):
    torch.manual_seed(0)
    # a large step size: G moves visibly at every step, so a wrong decay shows
    method = GANCLS(_cfg("gancls.ema_decay=0.5", "optim.g_lr=0.05"), captioned.spec, torch.device("cpu"))
    method.setup(TrainContext.for_data(captioned, batch_size=32))
    assert method.modules["G_ema"] is method.G_ema  # checkpointed with the run
    w = lambda G: G.G.net[0].weight.detach().clone()  # noqa: E731  (G's first layer)
    ema = w(method.G)  # a copy of G at the start
    for d in (0.1, 2 / 11, 0.25):  # the warm-up's decays min(0.5, (1 + t) / (10 + t)) at updates t = 0, 1, 2
        method.step()
        ema = d * ema + (1 - d) * w(method.G)
        assert_close(w(method.G_ema), ema, rtol=1e-5, atol=1e-7)
    z, t = torch.randn(2, 8), encode_captions(["a coat", "a bag"])
    method.G_ema.eval()
    assert_close(method.sample(z, t), method.G_ema(z, t))  # samples come from the average, not from G
    assert not torch.allclose(method.sample(z, t), method.G.eval()(z, t))


def test_sample_from_text(tmp_path, captioned, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", "gancls-fashion-mnist", "--run-dir", str(run), "--steps", "2", "--no-progress", *TINY]) == 0
    out = tmp_path / "boots.npz"
    assert main(["sample", "--run", str(run), "--text", "a dark ankle boot", "-n", "3", "--out", str(out)]) == 0
    import numpy as np

    assert np.load(out)["images"].shape == (3, 28, 28, 1)
    captions = tmp_path / "captions.txt"
    captions.write_text("# one a line\na small bag\n\nthis sneaker is bright\n")
    assert main(["sample", "--run", str(run), "--text-file", str(captions), "-n", "2", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").is_file() and "each of 2 caption(s)" in capsys.readouterr().out
    # the same latents under every caption: caption rows differ, and a caption's samples are the same every time
    from gankit.text_to_image import sample_captions

    a = sample_captions(run, ["a dark ankle boot", "a large bag"], n=2)
    assert torch.equal(a, sample_captions(run, ["a dark ankle boot", "a large bag"], n=2))
    assert not torch.equal(a[:2], a[2:])


@pytest.mark.parametrize("caption, message", [("a purple boot", "unknown word 'purple'"), ("", "is empty")])
def test_sample_with_a_bad_caption_exits_2(tmp_path, captioned, capsys, caption, message):
    run = tmp_path / "run"
    assert main(["train", "--config", "gancls-fashion-mnist", "--run-dir", str(run), "--steps", "1", "--no-progress", *TINY]) == 0
    capsys.readouterr()
    assert main(["sample", "--run", str(run), "--text", caption, "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_text_needs_a_gancls_run(cgan_run, tmp_path):
    with pytest.raises(UserError, match="takes no captions"):
        from gankit.text_to_image import sample_captions

        sample_captions(cgan_run, ["a dark coat"])
    assert encode_captions(["a dark coat"]).shape[0] == 1
