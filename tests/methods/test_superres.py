"""The superres method (SRResNet, SRGAN): it learns to beat bicubic, SRGAN trains D and starts from a run's G,
the feature content loss is frozen, and mistakes are one-line errors."""

import pytest
import torch

from gankit.config import load_config
from gankit.data import DataSpec
from gankit.errors import UserError
from gankit.methods import build_method
from gankit.methods.superres import quantize, sr_scores
from gankit.nets.srresnet import upscale_bicubic
from gankit.train import load_checkpoint, train_run
from gankit.train.context import TrainContext

TINY = [
    "superres.blocks=2",
    "superres.width=16",
    "superres.val_size=64",
    "train.batch_size=32",
    "train.log_every=10",
    "train.sample_every=1000",
    "train.checkpoint_every=1000",
    "eval.eval_every=1000",
]
CPU = torch.device("cpu")


def test_srresnet_learns_to_beat_bicubic(tmp_path, small_data):
    cfg = load_config("srresnet-fashion-mnist", TINY + ["train.steps=150", "superres.lr=1e-3", "eval.eval_every=150"])
    train_run(cfg, tmp_path / "run", progress=False)
    rows = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    header, last = rows[0].split(","), rows[-1].split(",")
    model_psnr = float(last[header.index("eval_psnr")])
    from gankit.train.restore import load_method

    method = load_method(tmp_path / "run")[0]
    method.x_val = small_data.x[:64]  # any images: bicubic and the model on the same inputs
    s = method.low_res(method.x_val)
    bicubic = sr_scores(quantize(upscale_bicubic(s, 4)), method.x_val, 4)["psnr"].mean()
    learned = sr_scores(quantize(method.upscale(s)), method.x_val, 4)["psnr"].mean()
    assert learned > bicubic + 0.5, (float(learned), float(bicubic))
    assert model_psnr > 14  # the logged validation score is a PSNR of a trained model, not of noise


def test_srgan_trains_d_and_starts_from_the_given_g(tmp_path, small_data):
    base = load_config("srresnet-fashion-mnist", TINY + ["train.steps=2"])
    train_run(base, tmp_path / "srresnet", progress=False)
    cfg = load_config(
        "srresnet-fashion-mnist",
        TINY
        + ["train.steps=2", "train.log_every=1", "superres.adv_weight=1e-3", "superres.d_width=4"]
        + [f"superres.init_g={tmp_path / 'srresnet'}"],
    )
    method = build_method(cfg, DataSpec((1, 28, 28)), CPU)
    method.setup(TrainContext.for_data(small_data, 8))
    start = load_checkpoint(tmp_path / "srresnet").module_state("G")
    assert all(torch.equal(method.G.state_dict()[k], v) for k, v in start.items())
    train_run(cfg, tmp_path / "srgan", progress=False)
    header = (tmp_path / "srgan" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"d_loss", "g_adv", "content"} <= set(header)
    assert any(k.startswith("D.") for k in load_checkpoint(tmp_path / "srgan").weights)


def test_feature_content_loss_is_frozen_and_not_pixel_mse():
    cfg = load_config("srresnet-fashion-mnist", TINY + ["superres.content=features"])
    method = build_method(cfg, DataSpec((1, 28, 28)), CPU)
    assert all(not p.requires_grad for p in method.phi.parameters())
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    assert float(method.content(x, x)) == 0.0
    y = x.flip(-1)
    out = y.clone().requires_grad_(True)
    loss = method.content(out, x)
    loss.backward()
    assert loss > 0 and out.grad.abs().sum() > 0  # the gradient reaches the output, not phi
    assert not torch.allclose(loss, ((y - x) ** 2).mean())
    method.phi.train()
    assert not method.phi.training  # batch norm statistics stay fixed


@pytest.mark.parametrize(
    "overrides,spec,message",
    [
        (["superres.crop=30"], DataSpec((3, 64, 64)), "superres.crop: 30 is not a multiple"),
        ([], DataSpec((2,)), "method superres: needs images"),
    ],
)
def test_bad_settings_are_one_line_errors(overrides, spec, message):
    cfg = load_config("srresnet-fashion-mnist", TINY + overrides)
    with pytest.raises(UserError, match=message):
        build_method(cfg, spec, CPU)


def test_bad_config_values_are_rejected():
    with pytest.raises(UserError, match="began"):
        load_config("srresnet-fashion-mnist", ["superres.loss=began"])
    with pytest.raises(UserError, match="power of two"):
        load_config("srresnet-fashion-mnist", ["superres.scale=3"])


def test_init_g_of_another_shape_or_no_run_is_an_error(tmp_path, small_data):
    train_run(load_config("srresnet-fashion-mnist", TINY + ["train.steps=2"]), tmp_path / "small", progress=False)
    cfg = load_config("srresnet-fashion-mnist", TINY + ["superres.width=8", f"superres.init_g={tmp_path / 'small'}"])
    with pytest.raises(UserError, match="another shape"):
        build_method(cfg, DataSpec((1, 28, 28)), CPU).setup(TrainContext.for_data(small_data, 8))
    cfg = load_config("srresnet-fashion-mnist", TINY + [f"superres.init_g={tmp_path / 'none'}"])
    with pytest.raises(UserError, match="superres.init_g"):
        build_method(cfg, DataSpec((1, 28, 28)), CPU).setup(TrainContext.for_data(small_data, 8))
