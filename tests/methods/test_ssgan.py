"""The semi-supervised GAN as a method (gankit.methods.ssgan): its data parts, a short run that learns, the CLI option.

The run contract, exact resume, torchrun and config errors are the conformance test's (test_conformance.py).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from gankit.config import apply_overrides, validate
from gankit.data import TensorData, load_dataset
from gankit.errors import UserError
from gankit.methods.ssgan import semi_supervised_parts
from gankit import semi_supervised  # (not its test_accuracy by name: pytest would collect it as a test)
from gankit.train import train_run
from gankit.train.restore import load_method


def _indexed_data(n_per_class: int = 50, k: int = 10) -> TensorData:
    """Items whose single pixel is their own index, so that every part says which items it took."""
    y = torch.arange(k).repeat(n_per_class)
    return TensorData(torch.arange(len(y)).float().view(-1, 1, 1, 1), y, [str(i) for i in range(k)], "indexed")


def _ids(part: TensorData) -> set[int]:
    return set(part.x.view(-1).long().tolist())


def test_labelled_subset_is_class_balanced_seeded_and_disjoint_from_validation():
    data = _indexed_data()
    parts = semi_supervised_parts(data, labels_per_class=3, val_size=100, seed=0)
    lab, unl, val = parts["labelled"], parts["unlabelled"], parts["validation"]
    assert torch.bincount(lab.y, minlength=10).tolist() == [3] * 10  # class-balanced
    assert (data.y[lab.x.view(-1).long()] == lab.y).all()  # each keeps its own label
    assert len(val) == 100 and not _ids(lab) & _ids(val) and not _ids(unl) & _ids(val)
    assert _ids(unl) | _ids(val) == set(range(len(data))) and _ids(lab) <= _ids(unl)  # the rest is unlabelled
    assert unl.y is None  # the unlabelled part carries no labels at all
    again = semi_supervised_parts(data, labels_per_class=3, val_size=100, seed=0)
    assert _ids(again["labelled"]) == _ids(lab)  # seeded: the same on resume and in every variant
    other = semi_supervised_parts(data, labels_per_class=3, val_size=100, seed=1)
    assert _ids(other["labelled"]) != _ids(lab) and _ids(other["validation"]) == _ids(val)  # one validation split


def test_too_many_labels_or_too_large_a_validation_split_is_a_user_error():
    with pytest.raises(UserError, match="labels_per_class=60: class 0 has only"):
        semi_supervised_parts(_indexed_data(), labels_per_class=60, val_size=10, seed=0)
    with pytest.raises(UserError, match="val_size=500"):
        semi_supervised_parts(_indexed_data(), labels_per_class=1, val_size=500, seed=0)


def _cfg(*extra: str):
    base = [
        "data.name=fashion-mnist",
        "ssgan.val_size=1000",
        "ssgan.hidden=[256,128]",
        "ssgan.g_hidden=[128]",
        "ssgan.z_dim=32",
        "train.batch_size=50",
        "train.steps=150",
        "train.log_every=50",
        "train.sample_every=150",
        "train.checkpoint_every=150",
        "eval.eval_every=150",
        "eval.best_metric=val_acc",
    ]
    return validate(apply_overrides({"method": "ssgan"}, base + list(extra)), "test")


def test_a_short_run_learns_the_classes_from_ten_labels_per_class(tmp_path):
    train_run(_cfg(), tmp_path / "run", progress=False)
    method, _ = load_method(tmp_path / "run")
    val = semi_supervised_parts(load_dataset("fashion-mnist"), 10, 1000, 0)["validation"]
    acc = float((method.classify(val.x) == val.y).float().mean())
    assert acc > 0.45, acc  # chance is 0.10; 150 steps of the GAN on 100 labels reach ~0.6
    assert set(method.modules) == {"D", "G"} and method.sample(torch.randn(3, 32)).shape == (3, 1, 28, 28)
    test = semi_supervised.test_accuracy(tmp_path / "run")  # the best checkpoint by val_acc: the only one, step 150
    assert test["checkpoint"] == "best" and test["step"] == 150 and test["test_acc"] > 0.45, test


def test_the_supervised_variant_has_no_generator(tmp_path):
    train_run(_cfg("ssgan.variant=supervised", "train.steps=20"), tmp_path / "run", progress=False)
    method, _ = load_method(tmp_path / "run")
    assert set(method.modules) == {"D"} and not hasattr(method, "z_dim")


def test_the_dcgan_generator_option_makes_images_of_the_data_shape():
    from gankit.data import DataSpec
    from gankit.methods import build_method
    from gankit.nets.dcgan import DCGANGenerator

    spec = DataSpec((1, 28, 28), classes=tuple(str(k) for k in range(10)))
    method = build_method(_cfg("ssgan.g_arch=dcgan", "ssgan.g_width=8"), spec, torch.device("cpu"))
    assert isinstance(method.G, DCGANGenerator)
    assert method.sample(torch.randn(3, 32)).shape == (3, 1, 28, 28)


def _train_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "gankit", "train", "--run-dir", str(tmp_path / "run"), "--no-progress", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_labels_per_class_is_an_error_for_another_method(tmp_path):
    r = _train_cli(tmp_path, "--config", "dcgan-fashion-mnist", "--labels-per-class", "10")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--labels-per-class: only method ssgan" in r.stderr, r.stderr
    assert not (tmp_path / "run").exists()


def test_labels_per_class_sets_the_ssgan_key(tmp_path):
    from gankit.cli import train as train_cli

    args = train_cli.argparse.Namespace(overrides=["method=ssgan"], steps=None, minutes=None, labels_per_class=7)
    assert "ssgan.labels_per_class=7" in train_cli._overrides(args)
    r = _train_cli(tmp_path, "--config", "ssgan-mnist-5k", "--labels-per-class", "401", "--steps", "1")
    assert r.returncode == 2 and "labels_per_class=401: class 0 has only" in r.stderr, r.stderr  # it reached ssgan
