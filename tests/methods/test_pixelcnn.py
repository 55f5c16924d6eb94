"""The gated PixelCNN method: exact likelihoods against hand values, inverse-CDF sampling pixel by pixel, a
short run that learns, binarised data, and its config errors."""

import math
import sys

import pytest
import torch
from torch.testing import assert_close

import gankit
from gankit.config import apply_overrides, load_config, validate
from gankit.data import DataSpec, load_dataset, load_from_config
from gankit.data.binarize import binarize
from gankit.errors import UserError
from gankit.losses.likelihood import bernoulli_nll_per_image, bits_per_dim, categorical_nll_per_image
from gankit.methods import build_method
from gankit.methods.pixelcnn import from_levels, sample_pixels, to_levels
from gankit.nets.pixelcnn import GatedPixelCNN
from gankit.train import train_run
from gankit.train.context import TrainContext

TINY = ["pixelcnn.width=8", "pixelcnn.layers=2", "train.batch_size=16", "train.num_samples=4"]


def _config(likelihood="bernoulli", *extra):
    data = "data.binarize=threshold" if likelihood == "bernoulli" else "data.binarize=null"
    return validate(apply_overrides({"method": "pixelcnn"}, TINY + [f"pixelcnn.likelihood={likelihood}", data, *extra]))


def _constant_model(likelihood: str, bias: torch.Tensor):
    """A PixelCNN whose logits are ``bias`` at every pixel, whatever the image (last layer: zero weights)."""
    model = build_method(_config(likelihood), DataSpec((1, 2, 3)), torch.device("cpu"))
    last = model.net.head[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(bias)
    return model


def test_likelihood_functions_at_hand_values():
    x = torch.tensor([[1.0, 0, 1, 1]])
    assert_close(bernoulli_nll_per_image(torch.zeros(1, 4), x), torch.tensor([4 * math.log(2)]))
    logits = torch.full((1, 4), 2.0)  # -log sigmoid(2) for each 1, -log(1 - sigmoid(2)) for the 0
    hand = 3 * math.log(1 + math.exp(-2)) + math.log(1 + math.exp(2))
    assert_close(bernoulli_nll_per_image(logits, x), torch.tensor([hand]))
    flat = categorical_nll_per_image(torch.zeros(2, 256, 3), torch.zeros(2, 3))
    assert_close(flat, torch.full((2,), 3 * math.log(256)))
    assert bits_per_dim(784 * math.log(2), 784) == pytest.approx(1.0)


@pytest.mark.parametrize("likelihood", ["bernoulli", "categorical"])
def test_nll_of_a_constant_model_is_the_hand_value(likelihood):
    """Logits b at every pixel: -log p(x) = sum softplus(b) - x b per binary image; D ln 256 for a flat softmax."""
    if likelihood == "bernoulli":
        model = _constant_model(likelihood, torch.tensor([1.5]))
        x = torch.tensor([[[[1.0, -1, 1], [-1, -1, -1]]]])  # 2 ones of 6 pixels
        hand = 6 * math.log(1 + math.exp(1.5)) - 2 * 1.5
    else:
        model = _constant_model(likelihood, torch.zeros(256))
        x = from_levels(torch.randint(0, 256, (1, 1, 2, 3)), 256)
        hand = 6 * math.log(256)
    assert_close(model.nll(x), torch.tensor([hand]))
    assert model.nll(x.expand(3, -1, -1, -1)).shape == (3,)


def test_levels_round_trip_the_uint8_images():
    k = torch.arange(256).view(1, 1, 16, 16)
    x = torch.from_numpy(k.numpy().astype("uint8")).float() / 127.5 - 1  # gankit.images.from_uint8's scaling
    assert torch.equal(to_levels(x, 256), k) and torch.equal(to_levels(from_levels(k, 256), 256), k)
    assert torch.equal(to_levels(torch.tensor([-1.0, 1.0]), 1), torch.tensor([0, 1]))


def test_sampling_is_inverse_cdf_pixel_by_pixel():
    # a flat 256-way softmax: pixel i is floor(256 Phi(z_i)), the closed form of the inverse CDF
    model = _constant_model("categorical", torch.zeros(256))
    z = torch.randn(5, 6)
    u = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    expected = from_levels((u * 256).ceil().long().clamp(1, 256) - 1, 256).view(5, 1, 2, 3)
    assert_close(model.sample(z), expected)
    # Bernoulli logits b: a pixel is 1 with probability sigmoid(b)
    model = _constant_model("bernoulli", torch.tensor([1.0]))
    x = model.sample(torch.randn(4000, 6, generator=torch.Generator().manual_seed(0)))
    assert ((x + 1) / 2).mean().item() == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item(), abs=0.01)  # s.e. 0.003


@pytest.mark.parametrize("levels", [1, 256])
def test_row_by_row_sampling_equals_whole_passes(levels):
    """The sampler's shortcut (vertical stack once per row, one-row horizontal stack per pixel) draws exactly
    what whole forward passes draw, on a random network."""
    torch.manual_seed(0)
    net = GatedPixelCNN(levels, width=8, layers=3, kernel=3, first_kernel=5).eval()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)

    class Whole(torch.nn.Module):  # the same net without row_terms: one whole pass per pixel
        def __init__(self):
            super().__init__()
            self.net, self.levels = net, net.levels

        def forward(self, x):
            return self.net(x)

    z = torch.randn(4, 100)
    x = sample_pixels(net, z, (1, 10, 10))
    assert torch.equal(x, sample_pixels(Whole(), z, (1, 10, 10)))
    assert x.unique().numel() > 1


def test_sampling_feeds_earlier_pixels_back():
    """A net that copies the previous pixel (left neighbour) makes every row constant: each pixel's conditional
    is evaluated on the pixels drawn before it, in raster order."""

    class CopyLeft(torch.nn.Module):
        levels = 1

        def forward(self, x):  # logit +-20 toward the left neighbour; +20 (a one) in column 0
            left = torch.nn.functional.pad(x, (1, 0), value=1.0)[..., :-1]
            return 20 * left

    x = sample_pixels(CopyLeft(), torch.randn(3, 12), (1, 3, 4))
    assert torch.equal(x, torch.ones(3, 1, 3, 4))


def test_short_training_lowers_the_test_nll():
    """25 steps on binarised MNIST-5k: the exact test NLL falls far below the untrained ~D ln 2 = 543 nats
    (measured: 581 -> 265 nats; 40 steps of a 16-wide, 3-layer net reach 111)."""
    cfg = _config("bernoulli", "data.name=mnist-5k", "pixelcnn.lr=3e-3")
    train = load_from_config(cfg.data)
    test = load_from_config(cfg.data.model_copy(update={"split": "test"})).x[:200]
    assert set(train.x.unique().tolist()) == {-1.0, 1.0}  # data.binarize reached the loaded images
    torch.manual_seed(0)
    model = build_method(cfg, train.spec, torch.device("cpu"))
    model.setup(TrainContext.for_data(train, batch_size=16, steps=25))
    before = model.nll(test).mean().item()
    logged = [model.step()["nll"].item() for _ in range(25)]
    after = model.nll(test).mean().item()
    assert before > 400 and after < 0.6 * before, (before, after)
    assert sum(logged[-5:]) / 5 < sum(logged[:5]) / 5


def test_binarize_modes():
    x = torch.linspace(-1, 1, 2001).expand(50, 2001).reshape(50, 1, 1, 2001)
    t = binarize(x, "threshold")
    assert torch.equal(t, (x > 0).float() * 2 - 1)
    s = binarize(x, "stochastic", seed=3)
    assert set(s.unique().tolist()) == {-1.0, 1.0}
    assert_close(((s + 1) / 2).mean(0), ((x + 1) / 2).mean(0), atol=0.3, rtol=0)  # each column ~ Bernoulli(g)
    assert ((s + 1) / 2).mean().item() == pytest.approx(0.5, abs=0.01)  # s.e. 0.0016
    assert torch.equal(binarize(x, "stochastic", seed=3), s)  # drawn once: the same seed, the same bits
    assert not torch.equal(binarize(x, "stochastic", seed=3, split="test"), s)


def test_config_errors():
    with pytest.raises(UserError, match="data.binarize"):
        load_config("pixelcnn-mnist-5k", ["data.binarize=null"])
    with pytest.raises(UserError, match="pixelcnn.kernel"):
        load_config("pixelcnn-mnist-5k", ["pixelcnn.kernel=4"])
    with pytest.raises(UserError, match="grey images"):
        build_method(_config(), DataSpec((3, 8, 8)), torch.device("cpu"))


def test_train_and_sample_through_the_api(tmp_path, monkeypatch):
    data = load_dataset("mnist-5k")
    data.x = binarize(data.x[:64, :, 8:16, 8:16], "threshold")  # 8 x 8 crops: a sample costs 64 passes
    data.y = data.y[:64]
    loop = sys.modules["gankit.train.loop"]  # (gankit.train is also the name of the API function)
    monkeypatch.setattr(loop, "load_run_data", lambda cfg: gankit.data.RunData({"train": data}))
    cfg = _config("bernoulli", "train.steps=2", "train.log_every=1", "train.sample_every=2", "data.name=mnist-5k")
    r = train_run(cfg, tmp_path / "run", progress=False)
    assert r.step == 2 and r.last_samples.is_file()
    images = gankit.sample(tmp_path / "run", n=3, seed=1)
    assert images.shape == (3, 1, 8, 8) and set(images.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(gankit.sample(tmp_path / "run", n=3, seed=1), images)
