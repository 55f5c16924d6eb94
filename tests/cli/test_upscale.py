"""``gankit upscale`` (gankit.superres): the bicubic baseline reproduces the published Set5 number through our
whole scoring pipeline, a run's images come out at its scale, and mistakes exit with code 2."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.config import load_config
from gankit.train import train_run

SR_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sr"  # ../shared/data/sr from the repo root


@pytest.mark.skipif(not (SR_DATA / "Set5").is_dir(), reason="reference data ../shared/data/sr not present")
def test_bicubic_on_set5_is_the_published_number(tmp_path, capsys):
    """Ledig et al. 2017, Table 2: bicubic 4x on Set5, 28.43 dB (luma, 4-pixel border)."""
    assert main(["upscale", "--bicubic", str(SR_DATA / "Set5"), "--downscale", "--json", str(tmp_path / "s.json")]) == 0
    res = json.loads((tmp_path / "s.json").read_text())
    assert abs(res["psnr"] - 28.43) < 0.3
    assert abs(res["ssim"] - 0.8104) < 0.01
    assert set(res["per_image"]) == {"baby", "bird", "butterfly", "head", "woman"}
    assert "mean" in capsys.readouterr().out


@pytest.fixture
def sr_run(tmp_path, small_data):
    cfg = load_config("srresnet-fashion-mnist", ["superres.blocks=1", "superres.width=8", "superres.val_size=16",
                                                 "train.steps=2", "train.batch_size=8", "train.log_every=1"])
    train_run(cfg, tmp_path / "run", progress=False)
    return tmp_path / "run"


def test_upscale_writes_images_at_the_runs_scale(sr_run, tmp_path):
    Image.fromarray(np.zeros((7, 9), dtype=np.uint8)).save(tmp_path / "small.png")
    Image.fromarray(np.zeros((5, 6, 3), dtype=np.uint8)).save(tmp_path / "colour.png")
    assert main(["upscale", "--run", str(sr_run), str(tmp_path / "small.png"), str(tmp_path / "colour.png"),
                 "--out", str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "small.png").size == (36, 28)
    assert Image.open(tmp_path / "out" / "colour.png").size == (24, 20)


def test_downscale_scores_a_run(sr_run, tmp_path, capsys):
    a = (np.random.default_rng(0).random((32, 40)) * 255).astype(np.uint8)
    Image.fromarray(a).save(tmp_path / "truth.png")
    assert main(["upscale", "--run", str(sr_run), str(tmp_path / "truth.png"), "--downscale"]) == 0
    assert "truth" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--bicubic", "IMG"], "--out DIR"),
        (["--bicubic", "IMG", "--out", "o", "--scale", "3"], "--scale 3"),
        (["--bicubic", "missing.png", "--out", "o"], "missing.png: no such file"),
        (["--run", "nowhere", "IMG", "--out", "o"], "not a gankit run directory"),
    ],
)
def test_mistakes_exit_2_with_one_line(argv, message, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(tmp_path / "img.png")
    argv = [str(tmp_path / "img.png") if a == "IMG" else a for a in argv]
    assert main(["upscale", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
