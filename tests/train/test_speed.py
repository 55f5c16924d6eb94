import math

import pytest
import torch

import gankit
from gankit.config import load_config
from gankit.errors import UserError
from gankit.train.rundir import MetricsLog
from gankit.train.speed import resolve_speed


def test_cpu_defaults():
    s = resolve_speed(load_config().train, torch.device("cpu"), data_bytes=10**6)
    assert (s.amp, s.channels_last, s.compile, s.data_on_device) == (None, True, False, False)
    assert s.describe() == "amp=off channels_last=on compile=off data_on_device=off"


def test_explicit_switches():
    t = load_config(None, ["train.amp=bf16", "train.channels_last=true", "train.amp=off"]).train
    assert t.amp == "off"  # YAML's bare `off` is read as false and mapped back
    s = resolve_speed(load_config(None, ["train.amp=bf16", "train.channels_last=true"]).train, torch.device("cpu"), 0)
    assert s.amp == torch.bfloat16 and s.channels_last
    with pytest.raises(UserError, match="train.amp=fp16 needs a CUDA device"):
        resolve_speed(load_config(None, ["train.amp=fp16"]).train, torch.device("cpu"), 0)


def test_bf16_and_channels_last_train_on_the_cpu(tmp_path, tiny_overrides):
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=4", "train.amp=bf16", "train.channels_last=true"])
    result = gankit.train(cfg, tmp_path / "run", progress=False)
    rows = MetricsLog(tmp_path / "run" / "metrics.csv").read()
    assert result.step == 4 and len(rows) == 2
    assert all(math.isfinite(float(r["d_loss"])) and math.isfinite(float(r["g_loss"])) for r in rows)
