"""Seconds per WaveGAN generator step (5 WGAN-GP critic steps and one G step, batch 16) at 16 kHz and 8 kHz.

FSDD was recorded at 8 kHz. At 16 kHz (the paper's rate, 16,384-sample clips) half of every clip's band is empty;
at ``data.sample_rate=8000`` a clip of the same 1.024 s has 8,192 samples and WaveGAN one stage fewer. This times
the shared GAN method's ``step()`` on random clips of each length (no data is read), after two warm-up steps,
with the preset's losses and optimisers, one thread unless ``--threads``. Prints JSON and writes
``results-step-time.json`` / ``table-step-time.md`` to ``--out``.

    OMP_NUM_THREADS=1 python benchmarks/wavegan_step_time.py [--steps 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from common import hardware, write_results  # noqa: E402  (benchmarks/common.py, beside this script)
from gankit.config import load_config  # noqa: E402
from gankit.data import TensorData  # noqa: E402
from gankit.methods import build_method  # noqa: E402
from gankit.train.context import TrainContext  # noqa: E402

SETTINGS = [  # (label, sample rate, clip length, model size d)
    ("16 kHz, d = 8 (preset wavegan-fsdd)", 16000, 16384, 8),
    ("8 kHz, d = 8 (preset wavegan-fsdd-8k)", 8000, 8192, 8),
    ("8 kHz, d = 16", 8000, 8192, 16),
]


def seconds_per_step(rate: int, length: int, width: int, steps: int) -> float:
    """Median seconds of ``steps`` generator steps of the wavegan-fsdd-8k recipe at this rate and width."""
    cfg = load_config("wavegan-fsdd-8k", [f"data.sample_rate={rate}", f"model.g_width={width}",
                                          f"model.d_width={width}"])  # fmt: skip
    torch.manual_seed(0)
    data = TensorData(torch.rand(256, 1, length) * 2 - 1, name="noise", rate=rate)
    method = build_method(cfg, data.spec, torch.device("cpu"))
    method.setup(TrainContext.for_data(data, batch_size=cfg.train.batch_size))
    times = []
    for i in range(steps + 2):
        start = time.perf_counter()
        method.step()
        if i >= 2:  # two warm-up steps
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=10, help="timed generator steps per setting")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "wavegan"))
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = [{"setting": label, "rate": rate, "length": length, "d": width,
             "seconds_per_g_step": seconds_per_step(rate, length, width, args.steps)}
            for label, rate, length, width in SETTINGS]  # fmt: skip
    command = f"OMP_NUM_THREADS={args.threads} python benchmarks/wavegan_step_time.py --steps {args.steps}"
    report = {"benchmark": "wavegan_step_time", "command": command, "hardware": hardware(), "results": rows}
    base = rows[0]["seconds_per_g_step"]
    lines = [f"`{command}` on {hardware()}: median seconds per generator step (5 critic steps with the gradient "
             "penalty, 1 G step, batch 16).", "", "| setting | clip | s / G step | relative |", "|---|---|---|---|"]
    lines += [f"| {r['setting']} | {r['length']} samples | {r['seconds_per_g_step']:.3f} | "
              f"{r['seconds_per_g_step'] / base:.2f} |" for r in rows]  # fmt: skip
    write_results(args.out, "-step-time", report, "\n".join(lines) + "\n")
    return report


if __name__ == "__main__":
    main()
