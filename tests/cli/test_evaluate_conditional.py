"""``gankit evaluate`` on a class-conditional run: class accuracy and intra-class FID beside the unconditional
scores, drawn with explicit balanced labels; a note when they are asked of a source without classes."""

import json

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.evaluation import evaluate, format_table
from gankit.images import to_uint8
from gankit.metrics.conditional import conditional_scores

def test_a_conditional_run_reports_class_accuracy_and_intra_fid(cgan_run, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["evaluate", str(cgan_run), "-n", "200", "--metrics", "fid,conditional", "--json", str(out),
                 "--no-progress"]) == 0
    res = json.loads(out.read_text())
    assert {"fid", "class_accuracy", "intra_fid", "intra_fid_by_class"} <= set(res) and "note" not in res
    assert 0.0 <= res["class_accuracy"] <= 1.0 and res["intra_fid"] > 0
    assert list(res["intra_fid_by_class"])[7] == "Sneaker" and len(res["intra_fid_by_class"]) == 10
    assert res["intra_fid"] == pytest.approx(np.mean(list(res["intra_fid_by_class"].values())), rel=1e-12)
    printed = capsys.readouterr().out
    assert "intra_fid_by_class" in printed and "Sneaker " in printed
    # the same samples (latents of the seed, labels 0, 1, ..., 9, 0, ...) as the helper for training draws
    method, _ = gankit.load_generator(cgan_run)
    direct = conditional_scores(method.sample, method.z_dim, method.classes, "fashion-mnist", n=200)
    assert direct["class_accuracy"] == res["class_accuracy"]
    assert direct["intra_fid"] == pytest.approx(res["intra_fid"], rel=1e-9)


def test_the_samples_are_drawn_with_explicit_balanced_labels(cgan_run, monkeypatch):
    method, cfg = gankit.load_generator(cgan_run)
    asked = []
    sample = method.sample

    def spy(z, cond=None):
        asked.append(cond)
        return sample(z, cond)

    method.sample = spy
    monkeypatch.setattr("gankit.evaluation.load_generator", lambda run_dir: (method, cfg))
    evaluate(cgan_run, n=7 * 10 + 3, metrics=["fid"], progress=False)
    assert all(c is not None for c in asked)
    assert torch.cat(asked).tolist() == [i % 10 for i in range(73)]


def test_unconditional_sources_skip_the_conditional_scores(tmp_path):
    np.savez_compressed(tmp_path / "s.npz", images=to_uint8(torch.rand(40, 1, 28, 28) * 2 - 1))
    asked = evaluate(tmp_path / "s.npz", n=40, metrics=["fid", "conditional"], progress=False)
    assert "class_accuracy" not in asked and "conditional skipped: the npz is not" in asked["note"]
    default = evaluate(tmp_path / "s.npz", n=40, out_dir=tmp_path / "ev", progress=False)  # all scores
    assert "class_accuracy" not in default and "conditional" not in default.get("note", "")
    assert "note" in format_table(asked)
