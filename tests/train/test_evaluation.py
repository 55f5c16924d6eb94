"""eval.eval_every: metrics logged during training and the best generator kept."""

import json

import pytest

import gankit
from gankit.config import load_config
from gankit.errors import UserError


def test_eval_every_logs_metrics_and_keeps_the_best(tmp_path, monkeypatch, tiny_overrides):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    cfg = load_config("dcgan-fashion-mnist", tiny_overrides + ["train.steps=4", "eval.eval_every=2", "eval.num_samples=40", "eval.metrics=[fid,is]"])
    gankit.train(cfg, tmp_path / "run", progress=False)
    rows = [r for r in (tmp_path / "run" / "metrics.csv").read_text().splitlines()[1:]]
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0].split(",")
    fids = {int(r.split(",")[0]): float(r.split(",")[header.index("eval_fid")]) for r in rows if r.split(",")[header.index("eval_fid")]}
    assert sorted(fids) == [2, 4]
    best = json.loads((tmp_path / "run" / "best" / "best.json").read_text())
    assert best["value"] == min(fids.values()) and best["step"] == min(fids, key=fids.get)
    assert (tmp_path / "run" / "best" / f"step_{best['step']:08d}" / "weights.safetensors").is_file()


def test_eval_config_is_off_by_default_and_validated():
    assert load_config().eval.eval_every is None
    with pytest.raises(UserError, match="eval.metrics"):
        load_config(None, ["eval.metrics=[fdi]"])
