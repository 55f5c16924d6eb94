"""``gankit cas`` (gankit.cas_score): the Classification Accuracy Score of a class-conditional generator, on
'generators' that draw real mnist-5k images (of the requested class, or of a random one), and its errors."""

import json

import pytest
import torch

import gankit
import gankit.cas_score as cas_score
from gankit.cli import main
from gankit.data import load_dataset

_DATA = {}


def _train():
    if "train" not in _DATA:
        _DATA["train"] = load_dataset("mnist-5k", split="train")
    return _DATA["train"]


class RealImages:
    """A stand-in for a conditional generator: real training images of the requested class (obey=True), or of a
    class drawn from z, whatever was asked (obey=False); which image of the class: from z."""

    classes = tuple(str(k) for k in range(10))
    z_dim = 4

    def __init__(self, obey: bool = True):
        self.obey = obey

    def sample(self, z, cond):
        data = _train()
        pick = (z.abs().sum(1) * 1e4).long()
        cls = cond if self.obey else pick % 10
        pools = [(data.y == k).nonzero().flatten() for k in range(10)]
        return torch.stack([data.x[pools[k][int(i) % len(pools[k])]] for k, i in zip(cls.tolist(), pick // 10)])


@pytest.fixture
def fake_run(monkeypatch):
    """``load_generator`` returns a RealImages 'generator' and a cgan config on mnist-5k; set ``.obey``."""
    gen = RealImages()
    cfg = gankit.load_config("cgan-fashion-mnist", ["data.name=mnist-5k"])
    monkeypatch.setattr(cas_score, "load_generator", lambda run_dir, device="cpu": (gen, cfg))
    return gen


def test_real_images_of_the_requested_class_score_near_the_real_baseline(fake_run, tmp_path):
    res = gankit.cas("fake-run", n=4000, epochs=1, progress=False, json_path=tmp_path / "cas.json")
    assert res["real_accuracy"] > 0.8  # 1 epoch of the recipe on the 4,000 real digits (0.885 here)
    assert res["cas"] == pytest.approx(res["real_accuracy"], abs=0.05)
    assert res["n_generated"] == 4000 and set(res["cas_by_class"]) == set(RealImages.classes)
    assert json.loads((tmp_path / "cas.json").read_text())["cas"] == res["cas"]


def test_a_generator_ignoring_the_class_trains_a_classifier_at_chance(fake_run):
    fake_run.obey = False
    res = gankit.cas("fake-run", n=2000, epochs=1, progress=False)
    assert res["cas"] < 0.2, res["cas"]  # labels independent of the images: chance is 0.1


def test_mix_adds_samples_to_the_real_split_and_reports_the_change(fake_run, capsys, tmp_path):
    cmd = ["cas", "--run", "fake-run", "--mix", "0.25", "--epochs", "1", "--json", str(tmp_path / "r.json")]
    assert main([*cmd, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "mix_change" in out and "mix_accuracy" in out
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["n_generated"] == 1000 and res["n_real_train"] == 4000
    assert res["mix_change"] == pytest.approx(res["mix_accuracy"] - res["real_accuracy"], abs=1e-12)
    assert f"{res['mix_accuracy']:.4f}" in out
    assert res["mix_accuracy"] > res["real_accuracy"] - 0.05  # more real-like images do not hurt


def test_the_real_baseline_is_cached_by_recipe(monkeypatch, tmp_path):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))  # a cache of its own: other tests (docs examples) fill theirs
    train, test = _train(), load_dataset("mnist-5k", split="test")
    first = cas_score.real_baseline("mnist-5k", train, test, epochs=1, progress=False)
    monkeypatch.setattr(cas_score, "fit_classifier", lambda *a, **k: pytest.fail("trained again"))
    assert cas_score.real_baseline("mnist-5k", train, test, epochs=1, progress=False) == first
    with pytest.raises(pytest.fail.Exception):  # another recipe is another classifier
        cas_score.real_baseline("mnist-5k", train, test, epochs=1, seed=1, progress=False)


@pytest.mark.parametrize("args, words", [
    (["--mix", "-1"], "--mix -1.0"),
    (["--mix", "0"], "positive"),
    (["--mix", "nan"], "--mix nan"),
    (["-n", "5"], "one sample per class"),
    (["-n", "100", "--mix", "0.5"], "--mix sets the number"),
    (["--epochs", "0"], "--epochs 0"),
])
def test_bad_settings_are_one_line_errors(fake_run, capsys, args, words):
    assert main(["cas", "--run", "fake-run", "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err, err


def test_an_unconditional_run_is_a_one_line_error(tmp_path, small_data, tiny_overrides, capsys):
    run = tmp_path / "gan"
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny_overrides]) == 0
    capsys.readouterr()
    assert main(["cas", "--run", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unconditional" in err and "cgan" in err, err
