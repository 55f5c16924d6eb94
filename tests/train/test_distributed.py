"""Training under torchrun (2 processes, gloo on the CPU)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from torch.testing import assert_close

TINY = ["train.batch_size=16", "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=4", "--no-progress"]
COLUMNS = ["d_loss", "g_loss", "d_real", "d_fake"]


def _torchrun(*args, nproc=2):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def _gankit(*args):
    r = subprocess.run([sys.executable, "-m", "gankit", *args], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]


def _rows(run):
    with open(Path(run) / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_ranks_hold_identical_weights_after_every_step(tmp_path):
    out = tmp_path / "ddp.json"
    _torchrun(str(Path(__file__).with_name("ddp_worker.py")), str(out), "5")
    result = json.loads(out.read_text())
    assert result["world_size"] == 2 and result["local_batch"] == 8
    assert result["max_weight_difference"] == 0.0
    assert result["g_moved"] > 0


def test_two_process_run_writes_once_and_resumes_exactly(tmp_path):
    tiny = ["model.g_width=8", "model.d_width=8", *TINY]
    _torchrun("-m", "gankit", "train", "--run-dir", str(tmp_path / "full"), "--steps", "8", *tiny)
    full = _rows(tmp_path / "full")
    assert [r["step"] for r in full] == ["2", "4", "6", "8"]  # one row per step: only rank 0 writes
    assert len(list((tmp_path / "full" / "tb").glob("events.*"))) == 1
    assert sorted(p.name for p in (tmp_path / "full" / "checkpoints").glob("step_*")) == ["step_00000004", "step_00000008"]

    _torchrun("-m", "gankit", "train", "--run-dir", str(tmp_path / "part"), "--steps", "5", *tiny)
    _torchrun("-m", "gankit", "train", "--resume", str(tmp_path / "part"), "--steps", "8", "--no-progress")
    part = _rows(tmp_path / "part")
    assert [{k: r[k] for k in COLUMNS} for r in part] == [{k: r[k] for k in COLUMNS} for r in full]


def test_two_processes_with_half_batches_match_one_process_without_batch_norm(tmp_path):
    mlp = ["--config", "gan-mlp-fashion-mnist", "model.g_width=64", "model.d_width=64", *TINY]
    _gankit("train", "--run-dir", str(tmp_path / "one"), "--steps", "6", *mlp)
    _torchrun("-m", "gankit", "train", "--run-dir", str(tmp_path / "two"), "--steps", "6", *mlp)
    one, two = _rows(tmp_path / "one"), _rows(tmp_path / "two")
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):
        assert_close([float(a[k]) for k in COLUMNS], [float(b[k]) for k in COLUMNS], rtol=1e-4, atol=1e-6)
