"""gankit.save_pretrained / gankit.from_pretrained: a run as config.json + model.safetensors (the conventions
of huggingface_hub's ModelHubMixin), loaded back from a local folder; no network."""

import json

import pytest
import torch
from safetensors.torch import load_file
from torch.testing import assert_close

import gankit
from gankit.cli import main
from gankit.errors import UserError


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny toy GAN run with an EMA copy of G (what gankit.sample uses), 4 steps."""
    run = tmp_path_factory.mktemp("pretrained") / "run"
    args = [
        "train",
        "--config",
        "gan-mlp-ring",
        "--run-dir",
        str(run),
        "--steps",
        "4",
        "--no-progress",
        "train.batch_size=16",
        "train.log_every=2",
        "train.checkpoint_every=4",
        "gan.ema_decay=0.9",
    ]
    assert main(args) == 0
    return run


def test_the_folder_loads_back_to_the_runs_samples(run, tmp_path):
    folder = gankit.save_pretrained(run, tmp_path / "shared")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    meta = json.loads((folder / "config.json").read_text())
    assert meta["library"] == "gankit" and meta["config"]["method"] == "gan" and meta["step"] == 4
    method, cfg = gankit.from_pretrained(folder)
    assert cfg == gankit.run_config(run)
    z = torch.randn(32, method.z_dim, generator=torch.Generator().manual_seed(3))
    assert_close(method.sample(z), gankit.sample(run, n=32, seed=3), rtol=0, atol=0)


def test_weights_are_the_checkpoints_own(run, tmp_path):
    from gankit.train.checkpoint import load_checkpoint

    folder = gankit.save_pretrained(run, tmp_path / "shared")
    weights = load_file(folder / "model.safetensors")
    ckpt = load_checkpoint(run)
    assert {k: v for k, v in weights.items() if not k.startswith("state.")}.keys() == ckpt.weights.keys()
    for k, v in ckpt.weights.items():
        assert torch.equal(weights[k], v), k


def test_bad_arguments_are_one_line_errors(run, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    with pytest.raises(UserError, match="offline"):
        gankit.from_pretrained("someone/some-gan")  # not a local path: the Hub, which is off
    with pytest.raises(UserError, match="no such folder"):
        gankit.from_pretrained("no/such/folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a gankit pretrained folder"):
        gankit.from_pretrained(tmp_path / "empty")
    folder = gankit.save_pretrained(run, tmp_path / "shared")
    (folder / "config.json").write_text('{"library": "timm"}')
    with pytest.raises(UserError, match="not a gankit config.json"):
        gankit.from_pretrained(folder)
