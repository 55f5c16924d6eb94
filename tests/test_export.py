"""gankit export: the TorchScript and ONNX files map gankit's latents to gankit's samples (within 1e-5)."""

import sys

import pytest
import torch
from torch.testing import assert_close

import gankit
from gankit.cli import main
from gankit.errors import UserError
from gankit.export import export_generator


@pytest.fixture
def ema_run(tmp_path, small_data):
    """A tiny DCGAN with an EMA of G: the export must hold the EMA copy (what gankit samples from), not G."""
    run = tmp_path / "ema"
    tiny = ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.log_every=2", "gan.ema_decay=0.5"]
    assert main(["train", "--run-dir", str(run), "--steps", "3", "--no-progress", *tiny]) == 0
    return run


def _latents(run, n=8, seed=0):  # the latents behind gankit.sample(run, n, seed)
    return torch.randn(n, gankit.load_generator(run)[0].z_dim, generator=torch.Generator().manual_seed(seed))


def test_torchscript_reproduces_gankit_samples(ema_run, tmp_path):
    out = tmp_path / "g.pt"
    assert main(["export", "--run", str(ema_run), "--format", "torchscript", "--out", str(out)]) == 0
    loaded = torch.jit.load(str(out))
    expected = gankit.sample(ema_run, n=8, seed=0)  # another batch size than the traced one
    assert expected.shape == (8, 1, 28, 28)
    assert_close(loaded(_latents(ema_run)), expected, atol=1e-5, rtol=0)


def test_onnx_reproduces_gankit_samples_in_onnxruntime(ema_run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "g.onnx"
    assert main(["export", "--run", str(ema_run), "--format", "onnx", "--out", str(out)]) == 0
    session = ort.InferenceSession(str(out))
    assert [i.name for i in session.get_inputs()] == ["z"]
    got = session.run(None, {"z": _latents(ema_run).numpy()})[0]
    assert_close(torch.from_numpy(got), gankit.sample(ema_run, n=8, seed=0), atol=1e-5, rtol=0)


def test_conditional_export_takes_the_class_indices(cgan_run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    method, _ = gankit.load_generator(cgan_run)
    z, y = _latents(cgan_run, n=10, seed=1), torch.tensor([7] * 5 + [0, 1, 2, 3, 9])
    expected = method.sample(z, y)
    ts = torch.jit.load(str(export_generator(cgan_run, tmp_path / "c.pt", "torchscript")))
    assert_close(ts(z, y), expected, atol=1e-5, rtol=0)
    session = ort.InferenceSession(str(export_generator(cgan_run, tmp_path / "c.onnx", "onnx")))
    got = session.run(None, {"z": z.numpy(), "y": y.numpy()})[0]
    assert_close(torch.from_numpy(got), expected, atol=1e-5, rtol=0)
    assert not torch.allclose(expected[0], method.sample(z[:1], torch.tensor([0]))[0])  # y matters


def test_export_errors_are_one_line(cgan_run, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="--format tflite: unknown format"):
        export_generator(cgan_run, tmp_path / "g.tflite", "tflite")
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(UserError, match=r"onnx package is not installed \(pip install 'gankit\[export\]'\)"):
        export_generator(cgan_run, tmp_path / "g.onnx", "onnx")
