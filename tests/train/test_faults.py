"""Runs that survive faults: divergence, short runs' metrics, torn metrics rows and SIGKILL at random moments."""

import csv
import importlib
import importlib.util
import os
from pathlib import Path

import pytest
import torch

import gankit
from gankit.api import resume
from gankit.cli import main
from gankit.errors import TrainingDiverged
from gankit.train import load_checkpoint
from gankit.train.rundir import MetricsLog

loop = importlib.import_module("gankit.train.loop")  # gankit.train is also the train() function


def _rows(run, drop=("images_per_s",)):
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


def _poison_weights_at(monkeypatch, at: int) -> None:
    """Make the method's ``at``-th step leave a NaN in G's first weight (an exploding update)."""
    build = loop.build_method

    def poisoned_build(cfg, spec, device):
        method = build(cfg, spec, device)
        step, calls = method.step, {"n": 0}

        def poisoned_step():
            calls["n"] += 1
            out = step()
            if calls["n"] == at:
                with torch.no_grad():
                    weight = next(method.modules["G"].parameters())
                    weight[(0,) * weight.dim()] = float("nan")
            return out

        method.step = poisoned_step
        return method

    monkeypatch.setattr(loop, "build_method", poisoned_build)


@pytest.mark.parametrize("at", [5, 8])  # inside a logging window; at a step that logs and checkpoints
def test_divergence_stops_within_one_logging_interval_and_keeps_the_good_checkpoint(
    tmp_path, tiny_overrides, small_data, monkeypatch, at
):
    _poison_weights_at(monkeypatch, at)
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=20"])  # log every 2, checkpoint every 4
    with pytest.raises(TrainingDiverged) as e:
        gankit.train(cfg, tmp_path / "run", progress=False)
    message = str(e.value)
    stopped_at = at + (at % 2)  # the next log step
    assert f"diverged at step {stopped_at}" in message and "\n" not in message
    assert "is not finite" in message and "step_00000004" in message  # names what and the last good checkpoint
    ckpt = load_checkpoint(tmp_path / "run")
    assert ckpt.step == 4 and all(torch.isfinite(w).all() for w in ckpt.weights.values())
    assert [int(r["step"]) for r in _rows(tmp_path / "run")] == list(range(2, stopped_at, 2))


def test_divergence_exits_3_with_one_line(tmp_path, tiny_overrides, small_data, capsys):
    # A learning rate of 1e30 sends the weights to infinity within a few steps: a real divergence, no patching.
    args = ["train", "--run-dir", str(tmp_path / "run"), "--steps", "40", "--no-progress", *tiny_overrides,
            "optim.g_lr=1e30", "optim.d_lr=1e30"]  # fmt: skip
    assert main(args) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gankit train: error: training diverged at step" in err[0]


def test_a_run_shorter_than_log_every_logs_its_partial_window(tmp_path, tiny_overrides, small_data):
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=3", "train.log_every=50"])
    gankit.train(cfg, tmp_path / "run", progress=False)
    rows = _rows(tmp_path / "run")
    assert [r["step"] for r in rows] == ["3"] and float(rows[0]["d_loss"]) > 0


def test_metrics_csv_exists_from_the_start(tmp_path, tiny_overrides, small_data, monkeypatch):
    seen = {}
    build = loop.build_method

    def spying_build(cfg, spec, device):
        method = build(cfg, spec, device)
        step = method.step

        def first_step():
            seen.setdefault("header", (tmp_path / "run" / "metrics.csv").read_text())
            return step()

        method.step = first_step
        return method

    monkeypatch.setattr(loop, "build_method", spying_build)
    gankit.train(gankit.load_config(None, tiny_overrides + ["train.steps=2"]), tmp_path / "run", progress=False)
    assert seen["header"].strip() == "step"


def test_extending_a_finished_run_unlogs_its_partial_last_window(tmp_path, tiny_overrides, small_data):
    full = gankit.load_config(None, tiny_overrides + ["train.steps=12"])
    gankit.train(full, tmp_path / "full", progress=False)
    short = gankit.load_config(None, tiny_overrides + ["train.steps=7"])
    gankit.train(short, tmp_path / "part", progress=False)
    assert _rows(tmp_path / "part")[-1]["step"] == "7"  # the partial window of steps 7..7, logged
    resume(tmp_path / "part", ["train.steps=12"], progress=False)
    assert _rows(tmp_path / "part") == _rows(tmp_path / "full")


def test_a_row_torn_by_a_kill_is_dropped_on_resume(tmp_path):
    log = MetricsLog(tmp_path / "metrics.csv")
    for step in (10, 20):
        log.log(step, {"loss": 1.0})
    with open(tmp_path / "metrics.csv", "a") as f:
        f.write("15")  # the kill came after the first bytes of "150,..."
    log.truncate_after(20)
    assert [r["step"] for r in log.read()] == ["10", "20"]


def test_the_end_of_run_message_names_only_files_that_exist(tmp_path, tiny_overrides, small_data, capsys):
    assert main(["train", "--run-dir", str(tmp_path / "run"), "--steps", "1", "--no-progress", *tiny_overrides]) == 0
    out = capsys.readouterr().out
    named = [line.split(":", 1)[1].split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert len(named) == 4 and all(os.path.exists(p) for p in named), out


def _fault_benchmark():
    """benchmarks/fault_tolerance.py, whose kill_and_resume this test shares (20 kills there, 3 here)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "fault_tolerance.py"
    spec = importlib.util.spec_from_file_location("fault_tolerance", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkill_at_random_moments_then_resume_equals_the_uninterrupted_run(tmp_path):
    # The 2-D ring and MLPs: a process starts in a few seconds and steps fast, so kills land mid-training.
    bench = _fault_benchmark()
    cfg = gankit.load_config("gan-mlp-ring", bench.OVERRIDES + ["train.steps=600"])
    gankit.train(cfg, tmp_path / "full", progress=False)
    args = ["--config", "gan-mlp-ring", "--steps", "600", *bench.OVERRIDES]
    assert bench.kill_and_resume(tmp_path / "killed", args, kills=3, seed=0) >= 1
    assert bench.metric_rows(tmp_path / "killed") == bench.metric_rows(tmp_path / "full")
    left, opened = bench.checkpoints_open(tmp_path / "killed")
    assert left == opened >= 1  # every checkpoint left behind opens
