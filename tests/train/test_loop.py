import csv
import signal
import subprocess
import sys
import time

import pytest

import gankit
from gankit.api import resume
from gankit.train import load_checkpoint

COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake"]


def _rows(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return [{k: r[k] for k in COLUMNS} for r in csv.DictReader(f)]


def _logged_rows(run) -> int:
    path = run / "metrics.csv"
    return max(len(path.read_text().splitlines()) - 1, 0) if path.is_file() else 0


def test_run_directory_contract(tmp_path, tiny_overrides):
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=8"])
    result = gankit.train(cfg, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert result.step == 8
    assert (run / "config.yaml").is_file()
    assert gankit.run_config(run) == cfg  # the resolved config round-trips
    header = next(csv.reader(open(run / "metrics.csv")))
    assert header[:5] == COLUMNS and "images_per_s" in header
    assert [r["step"] for r in _rows(run)] == ["2", "4", "6", "8"]
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["step_00000004.png", "step_00000008.png"]
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert load_checkpoint(run).step == 8


@pytest.mark.parametrize("stop_at", [4, 7])  # at a log step, and in the middle of a logging window
def test_resume_is_exact(tmp_path, tiny_overrides, stop_at):
    full = gankit.load_config(None, tiny_overrides + ["train.steps=12"])
    gankit.train(full, tmp_path / "full", progress=False)
    part = gankit.load_config(None, tiny_overrides + [f"train.steps={stop_at}"])
    gankit.train(part, tmp_path / "part", progress=False)
    resume(tmp_path / "part", ["train.steps=12"], progress=False)
    assert _rows(tmp_path / "part") == _rows(tmp_path / "full")
    assert len(_rows(tmp_path / "full")) == 6


def test_training_into_an_existing_run_is_refused(tmp_path, tiny_overrides):
    cfg = gankit.load_config(None, tiny_overrides + ["train.steps=2"])
    gankit.train(cfg, tmp_path / "run", progress=False)
    with pytest.raises(gankit.errors.UserError, match="already holds a run"):
        gankit.train(cfg, tmp_path / "run", progress=False)


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path, tiny_overrides):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "gankit", "train", "--run-dir", str(run), "--steps", "100000", "--no-progress", *tiny_overrides]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _logged_rows(run) < 1 and time.time() < deadline:  # metrics.csv exists from the start: wait for a row
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "interrupted at step" in out and "Traceback" not in err
    step = load_checkpoint(run).step
    assert step >= 2 and f"interrupted at step {step}" in out
