import subprocess
import sys

import pytest

from gankit.cli import main
from gankit.config import load_config, shipped_configs
from gankit.errors import UserError
from gankit.losses import LOSSES
from gankit.nets import build_gan


def test_default_and_overrides():
    cfg = load_config(None, ["optim.g_lr=1e-4", "train.steps=10", "optim.betas=[0.0, 0.9]"])
    assert cfg.optim.g_lr == 1e-4 and cfg.train.steps == 10 and cfg.optim.betas == (0.0, 0.9)
    assert cfg.model.arch == "dcgan" and cfg.data.name == "fashion-mnist"


@pytest.mark.parametrize("name", [n for n in shipped_configs() if load_config(n).method == "gan"])
def test_every_shipped_gan_config_loads_and_builds(name):
    cfg = load_config(name)
    assert cfg.gan.loss in LOSSES
    shape = (cfg.data.channels or 1, cfg.data.img_size or 28, cfg.data.img_size or 28)
    if cfg.model.arch == "wavegan":  # audio: 1 x 16384 clips
        shape = (1, 16384)
    G, D = build_gan(cfg.model, shape)
    assert sum(p.numel() for p in G.parameters()) > 0


@pytest.mark.parametrize(
    "override, key",
    [
        ("train.stepz=3", "train.stepz"),
        ("optim.g_lr=-1", "optim.g_lr"),
        ("data.img_size=30", "data.img_size"),
        ("train.steps=abc", "train.steps"),
        ("gan.loss=nope", "gan.loss"),
        ("banana.split=1", "banana"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        load_config(None, [override])


def test_cli_config_error_exits_2_with_one_line(capsys):
    assert main(["train", "optim.d_lr=-0.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "optim.d_lr" in err


def test_cli_bad_yaml_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  steps: [1\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_no_traceback_from_the_real_command():
    r = subprocess.run([sys.executable, "-m", "gankit", "train", "train.batch_size=0"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "train.batch_size" in r.stderr
