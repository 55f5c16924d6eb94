"""``gankit train-classifier`` after the training loop moved into ``fit_classifier`` (tensors in, model out): the
written file is that function's model, with the metadata of before (the command that reproduces it)."""

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from gankit.cli import main
from gankit.data import load_dataset
from gankit.metrics.classifier_training import accuracy, fit_classifier, load_classifier


def test_train_classifier_writes_fit_classifiers_model_and_its_recipe(tmp_path, capsys):
    out = tmp_path / "c.safetensors"
    assert main(["train-classifier", "--dataset", "mnist-5k", "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    with safe_open(str(out), "pt") as f:
        meta = f.metadata()
    assert meta["command"] == "gankit train-classifier --dataset mnist-5k --epochs 1 --batch-size 128 --lr 0.002 --seed 0"
    assert set(meta) == {"dataset", "classes", "test_accuracy", "channels", "command"} and meta["dataset"] == "mnist-5k"
    train, test = load_dataset("mnist-5k", "train"), load_dataset("mnist-5k", "test")
    model = fit_classifier(train.x, train.y, 10, epochs=1, progress=False)  # the same seed and recipe
    saved = load_file(str(out))
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
    assert meta["test_accuracy"] == f"{accuracy(model, test.x, test.y):.4f}"
    assert float(meta["test_accuracy"]) > 0.8  # one epoch on 4,000 digits (0.885 here)
    assert f"test accuracy {meta['test_accuracy']}" in capsys.readouterr().out
    assert load_classifier(out)[0].num_classes == 10
