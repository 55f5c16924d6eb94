"""What and where (gankit.methods.gawwn): data without boxes is a one-line error, `gankit sample --box` draws
a class in a box, and bad boxes exit with code 2."""

import sys

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.config import apply_overrides, validate
from gankit.data import DataSpec, RunData, TensorData
from gankit.errors import UserError
from gankit.location import parse_box
from gankit.methods.gawwn import GAWWN, conditions

TINY = ["gawwn.z_dim=8", "gawwn.g_width=4", "gawwn.d_width=4", "gawwn.embed_dim=4", "train.batch_size=16",
        "train.log_every=1", "train.checkpoint_every=1"]
_SMALL: dict = {}


@pytest.fixture
def boxed(monkeypatch):
    """256 garments placed on canvases in place of the 20,000 (placing them all takes seconds)."""
    from gankit.data.boxes import place
    from gankit.data.fashion_mnist import fashion_mnist

    if "data" not in _SMALL:
        try:
            fm = fashion_mnist("train")
        except UserError as e:
            pytest.skip(f"Fashion-MNIST not available: {e}")
        x, boxes = place(fm.x[:256], seed=0)
        _SMALL["data"] = TensorData(x, fm.y[:256].clone(), fm.classes, "fashion-mnist-boxes", {"box": boxes})
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_run_data", lambda cfg: RunData({"train": _SMALL["data"]}))
    return _SMALL["data"]


def test_data_without_boxes_is_a_user_error():
    cfg = validate(apply_overrides({"method": "gawwn"}, ["data.name=fashion-mnist", *TINY]))
    with pytest.raises(UserError, match="has no boxes"):
        GAWWN(cfg, DataSpec((1, 28, 28), classes=tuple("abcdefghij")), torch.device("cpu"))


def test_conditions_rows():
    y, box = conditions(3, 10, torch.tensor([7.0, 0.1, 0.2, 0.5, 0.6]))
    assert y.tolist() == [7, 7, 7] and box.shape == (3, 4) and torch.allclose(box[0], torch.tensor([0.1, 0.2, 0.5, 0.6]))
    y, box = conditions(12, 10, None)
    assert y.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_parse_box():
    assert torch.allclose(parse_box("0,16,32,64"), torch.tensor([0.0, 0.25, 0.5, 1.0]))
    for bad in ("1,2,3", "a,b,c,d", "10,10,5,20", "0,0,65,10"):
        with pytest.raises(UserError, match="--box"):
            parse_box(bad)


def test_sample_in_a_box(tmp_path, boxed, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", "gawwn-fashion-mnist", "--run-dir", str(run), "--steps", "1", "--no-progress", *TINY]) == 0
    out = tmp_path / "s.npz"
    assert main(["sample", "--run", str(run), "--class", "sneaker", "--box", "8,8,40,30", "-n", "3", "--out", str(out)]) == 0
    assert np.load(out)["images"].shape == (3, 64, 64, 1)
    capsys.readouterr()
    assert main(["sample", "--run", str(run), "--box", "8,8,40,30", "--out", str(out)]) == 2  # no --class
    assert main(["sample", "--run", str(run), "--class", "sneaker", "--box", "8,8,4,30", "--out", str(out)]) == 2
    assert main(["sample", "--run", str(run), "--class", "hat", "--box", "8,8,40,30", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "--class" in err[0] and "x0 < x1" in err[1] and "hat" in err[2]
