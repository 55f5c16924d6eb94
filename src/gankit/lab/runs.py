"""What the lab and the benchmark scripts share: the hardware line beside each number, and training a preset once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch


def hardware() -> str:
    """CPU model, core count, torch threads and version, e.g. 'AMD EPYC ..., 2 cores, OMP_NUM_THREADS=1, torch 2.13'."""
    model = "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = os.environ.get("OMP_NUM_THREADS", str(torch.get_num_threads()))
    devices = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{model}, {os.cpu_count()} cores, OMP_NUM_THREADS={threads}, torch {torch.__version__}{devices}"


def train_once(preset: str, run_dir: str | Path, overrides: list[str], progress: bool = False) -> dict:
    """Train ``preset`` (with ``overrides``) into ``run_dir`` unless that run has a checkpoint already, so that a
    benchmark re-scores existing runs; returns the training's ``{"seconds", "steps"}`` ({} when unrecorded)."""
    from gankit.api import train
    from gankit.config import load_config

    run_dir = Path(run_dir)
    timing = run_dir / "train_seconds.json"
    if not (run_dir / "checkpoints").is_dir():
        cfg = load_config(preset, overrides)
        seconds = train(cfg, run_dir, progress=progress).seconds
        timing.write_text(json.dumps({"seconds": seconds, "steps": cfg.train.steps}))
    return json.loads(timing.read_text()) if timing.is_file() else {}
