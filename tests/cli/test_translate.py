"""``gankit translate``: a folder of 100 images gives 100 outputs; a corrupt image is named in one line, exit 2,
and nothing is written."""

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.config import apply_overrides, validate
from gankit.methods import METHODS
from gankit.train import train_run


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("p2p") / "run"
    cfg = validate(apply_overrides({"method": "pix2pix"}, METHODS["pix2pix"].smoke + ["train.steps=2"]), "test")
    train_run(cfg, run, progress=False)
    return run


def _images(folder, n, size=32):
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / ("sub" if i % 10 == 0 else "")  # some in a sub-folder: the structure is kept
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(sub / f"im{i:03d}.png")


def test_a_folder_of_100_images_gives_100_outputs(tmp_path, pix2pix_run, capsys):
    _images(tmp_path / "in", 100)
    assert main(["translate", "--run", str(pix2pix_run), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 0
    outs = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.png"))
    ins = sorted(p.relative_to(tmp_path / "in") for p in (tmp_path / "in").rglob("*.png"))
    assert len(outs) == 100 and outs == ins
    assert Image.open(tmp_path / "out" / "im001.png").size == (32, 32)
    assert "wrote 100 image(s)" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_inputs_of_another_size_are_resized_to_the_runs(tmp_path, pix2pix_run):
    _images(tmp_path / "in", 2, size=28)
    args = ["translate", "--run", str(pix2pix_run), str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args) == 0
    assert Image.open(tmp_path / "out" / "im001.png").size == (32, 32)


def test_a_corrupt_image_is_named_in_one_line_with_exit_2_and_nothing_written(tmp_path, pix2pix_run, capsys):
    _images(tmp_path / "in", 100)
    (tmp_path / "in" / "im095.png").write_bytes(b"not a png at all")  # in the second batch of 64
    code = main(["translate", "--run", str(pix2pix_run), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2  # the exit code of `gankit translate` (gankit.cli.main's return value)
    assert err.count("\n") == 1 and "im095.png" in err, err
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_pix2pix_run_translates_in_its_own_direction_only(tmp_path, pix2pix_run, capsys):
    _images(tmp_path / "in", 1)
    code = main(["translate", "--run", str(pix2pix_run), str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                 "--direction", "BtoA"])
    assert code == 2 and "translates AtoB only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
