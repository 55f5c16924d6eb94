"""The loss and trick switches validate: impossible combinations are one-line user errors."""

import pytest

from gankit.cli import main
from gankit.config import load_config
from gankit.errors import UserError


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["gan.loss=wgan", "gan.label_smoothing=0.1"], "gan.label_smoothing: the wgan loss has no real label to smooth"),
        (["gan.loss=began"], "gan.loss=began with model.arch=dcgan"),
        (["model.arch=began"], "gan.loss=non-saturating with model.arch=began"),
        (["gan.diffaugment=color,flip"], "unknown augmentation 'flip'"),
        (["gan.penalty=gp"], "gan.penalty"),
        (["gan.ema_decay=1.0"], "gan.ema_decay"),
        (["gan.label_smoothing=0.5"], "gan.label_smoothing"),
        (["vae.width=8"], "unknown config key 'vae'"),  # another method's section
    ],
)
def test_invalid_switches_are_user_errors(overrides, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config("ns-fashion-mnist", overrides)


def test_a_method_section_is_checked_by_its_own_class():
    with pytest.raises(UserError, match=r"vae\.recon"):
        load_config("vae-fashion-mnist", ["vae.recon=laplace"])


def test_began_refuses_penalties():
    with pytest.raises(UserError, match="gan.loss=began: penalties"):
        load_config("began-fashion-mnist", ["gan.penalty=r1"])


def test_defaults_switch_every_trick_off():
    g = load_config("dcgan-fashion-mnist").gan
    assert (g.penalty, g.clip_weights, g.label_smoothing, g.instance_noise, g.feature_matching, g.historical_averaging, g.ema_decay, g.diffaugment) == ("none", None, 0.0, 0.0, 0.0, 0.0, 0.0, "")
    assert load_config("dcgan-fashion-mnist").model.spectral_norm is False
    assert load_config("gan-mlp-fashion-mnist", ["gan.diffaugment= cutout ,color"]).gan.diffaugment == "cutout,color"


def test_cli_exits_2_on_a_bad_switch(capsys):
    assert main(["train", "--config", "ns-fashion-mnist", "gan.loss=hinge", "gan.label_smoothing=0.1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "label_smoothing" in err
