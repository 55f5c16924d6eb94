"""One battery of checks that every registered method passes (the scikit-learn estimator-checks idea).

Each method registers ``smoke`` overrides for a run of a few seconds on small offline data; this test
trains every entry of ``gankit.methods.METHODS`` with them, so a new method is checked without editing
this file: exact stop-and-resume, the run-directory contract, a checkpoint that loads without
unpickling, a 2-process gloo run under torchrun, and a misspelt key of its own section as a one-line
error with exit code 2.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import gankit
from gankit.cli import main
from gankit.config import apply_overrides, to_yaml, validate
from gankit.methods import METHODS
from gankit.train import load_checkpoint, train_run
from gankit.train.restore import load_method

NAMES = sorted(METHODS)


def smoke_config(name: str, *extra: str):
    return validate(apply_overrides({"method": name}, METHODS[name].smoke + list(extra)), f"smoke config of {name}")


def _rows(run: Path) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k != "images_per_s"} for r in csv.DictReader(f)]  # all but the timing


def test_every_builtin_method_is_registered():
    assert {"gan", "vae", "dann"} <= set(METHODS)
    for name in NAMES:
        assert METHODS[name].smoke, f"method {name} registers no smoke overrides"


@pytest.mark.parametrize("name", NAMES)
def test_run_directory_contract(tmp_path, name):
    cfg = smoke_config(name, "train.steps=8")
    result = train_run(cfg, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    assert result.step == 8
    assert gankit.run_config(run) == cfg  # config.yaml holds the resolved config, and it round-trips
    header = next(csv.reader(open(run / "metrics.csv")))
    assert header[0] == "step" and "images_per_s" in header and len(header) > 2
    assert [r["step"] for r in _rows(run)] == ["2", "4", "6", "8"]
    assert (run / "samples" / "step_00000008.png").is_file() and result.last_samples.is_file()  # a preview
    assert list((run / "tb").glob("events.out.tfevents.*"))
    ckpt = load_checkpoint(run)  # safetensors and JSON only: nothing is unpickled
    assert ckpt.step == 8 and {p.name for p in ckpt.path.iterdir()} == {"weights.safetensors", "state.safetensors", "state.json", "checksums.json"}
    method, _ = load_method(run)  # rebuilt from the checkpoint's data spec alone
    assert set(method.modules) == {k.split(".")[0] for k in ckpt.weights}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stop_at", [3, 4])  # inside a logging window, and at a logged step
def test_stop_and_resume_is_exact(tmp_path, name, stop_at):
    train_run(smoke_config(name, "train.steps=8"), tmp_path / "full", progress=False)
    stopped = train_run(smoke_config(name, "train.steps=8"), tmp_path / "part", progress=False, stop_at=stop_at)
    assert stopped.interrupted and load_checkpoint(tmp_path / "part").step == stop_at
    gankit.resume(tmp_path / "part", progress=False)
    assert _rows(tmp_path / "part") == _rows(tmp_path / "full")


@pytest.fixture(scope="module")
def gloo_runs(tmp_path_factory):
    """Every method's smoke config (4 steps) trained by one 2-process torchrun with gloo (tests/methods/gloo_worker.py)."""
    root = tmp_path_factory.mktemp("gloo")
    (root / "configs").mkdir()
    for name in NAMES:
        (root / "configs" / f"{name}.yaml").write_text(to_yaml(smoke_config(name, "train.steps=4", "train.device=cpu")))
    worker = Path(__file__).with_name("gloo_worker.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(worker),
           str(root / "configs"), str(root / "runs")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-3000:]
    return root / "runs"


@pytest.mark.parametrize("name", NAMES)
def test_two_process_gloo_run(gloo_runs, name):
    error = gloo_runs / f"{name}.error"
    assert not error.exists(), error.read_text()[-3000:]
    assert [row["step"] for row in _rows(gloo_runs / name)] == ["2", "4"]  # one row per step: only rank 0 writes
    assert load_checkpoint(gloo_runs / name).step == 4


@pytest.mark.parametrize("name", NAMES)
def test_a_misspelt_key_of_its_own_section_is_one_line_and_exit_2(tmp_path, name, capsys):
    # In process (the real command's lack of a traceback: tests/test_config.py::test_no_traceback_from_the_real_command).
    config = tmp_path / "smoke.yaml"
    config.write_text(to_yaml(smoke_config(name)))
    section = next(k for k in yaml.safe_load(config.read_text()) if k not in ("method", "data", "train", "eval"))
    args = ["train", "--config", str(config), "--run-dir", str(tmp_path / "run"), f"{section}.not_a_key=1"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"unknown config key '{section}.not_a_key'" in err, err
    assert not (tmp_path / "run").exists()  # nothing written


def test_smoke_configs_are_small():
    for name in NAMES:
        cfg = smoke_config(name)
        assert cfg.train.batch_size <= 16, json.dumps(cfg.model_dump(mode="json"))
