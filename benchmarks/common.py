"""What every benchmark script shares: the hardware line that goes beside each number it reports."""

from __future__ import annotations

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
