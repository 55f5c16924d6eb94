"""Runs that survive SIGKILL: a training run killed many times at random moments, resumed after each kill with
``gankit train --resume``, must log exactly what the uninterrupted run logs, row for row, and leave only
checkpoints that open.

Each attempt waits until the process has written a checkpoint newer than the one it started from (so the kill
lands in training, not while Python imports torch), then sleeps a uniformly random 0-0.6 s and sends SIGKILL: the
kill falls anywhere in the steps, the metrics appends, the preview and checkpoint writes. Compared columns: every
logged column but ``images_per_s`` (a wall-clock speed).

    OMP_NUM_THREADS=1 python benchmarks/fault_tolerance.py                 # 20 kills, gan-mlp-ring, 1,500 steps
    OMP_NUM_THREADS=1 python benchmarks/fault_tolerance.py --kills 5 --steps 400

Writes ``results.json`` and ``table.md`` to ``--out`` and prints the JSON. ``tests/train/test_faults.py`` runs the
same :func:`kill_and_resume` with 3 kills.
"""

from __future__ import annotations

import argparse
import csv
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

OVERRIDES = ["train.log_every=2", "train.checkpoint_every=25", "train.sample_every=1000"]  # rows between checkpoints


def _latest(run: Path) -> str | None:
    pointer = run / "checkpoints" / "latest"
    try:
        return pointer.read_text()
    except OSError:
        return None


def kill_and_resume(run: Path, args: list[str], kills: int, seed: int, timeout: float = 300) -> int:
    """Train ``gankit train --run-dir run *args``; SIGKILL it ``kills`` times at random moments after a new
    checkpoint, resuming each time with ``gankit train --resume run``; then let it finish.

    Returns:
        The number of kills that landed (a run that finished first is not killed again).
    """
    rng, landed = random.Random(seed), 0
    cmd = [sys.executable, "-m", "gankit", "train", "--run-dir", str(run), "--no-progress", *args]
    for attempt in range(kills + 1):
        started_from = _latest(run)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if attempt < kills:
            deadline = time.time() + timeout
            while proc.poll() is None and _latest(run) in (None, started_from) and time.time() < deadline:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                landed += 1
        err = proc.communicate(timeout=timeout)[1]
        if proc.returncode not in (0, -signal.SIGKILL):
            raise RuntimeError(f"attempt {attempt} failed (exit {proc.returncode}): {err[-500:]}")
        cmd = [sys.executable, "-m", "gankit", "train", "--resume", str(run), "--no-progress"]
    return landed


def metric_rows(run: Path, drop: tuple[str, ...] = ("images_per_s",)) -> list[dict[str, str]]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in r.items() if k not in drop} for r in csv.DictReader(f)]


def checkpoints_open(run: Path) -> tuple[int, int]:
    """(checkpoint folders left behind, how many of them open)."""
    from gankit.errors import UserError
    from gankit.train.checkpoint import load_checkpoint

    folders = sorted((run / "checkpoints").glob("step_*"))
    opened = 0
    for folder in folders:
        try:
            load_checkpoint(folder)
            opened += 1
        except UserError:
            pass
    return len(folders), opened


def main(argv: list[str] | None = None) -> dict:
    import json

    import gankit
    from common import hardware  # benchmarks/common.py, beside this script

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fault-tolerance"))
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        full, killed = Path(tmp) / "full", Path(tmp) / "killed"
        cfg = gankit.load_config("gan-mlp-ring", OVERRIDES + [f"train.steps={args.steps}"])
        gankit.train(cfg, full, progress=False)
        start = time.monotonic()
        landed = kill_and_resume(killed, ["--config", "gan-mlp-ring", "--steps", str(args.steps), *OVERRIDES],
                                 args.kills, args.seed)  # fmt: skip
        seconds = time.monotonic() - start
        rows_full, rows_killed = metric_rows(full), metric_rows(killed)
        left, opened = checkpoints_open(killed)
    report = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/fault_tolerance.py"
        + (f" --kills {args.kills}" if args.kills != 20 else "") + (f" --steps {args.steps}" if args.steps != 1500 else ""),
        "hardware": hardware(),
        "preset": "gan-mlp-ring",
        "steps": args.steps,
        "kills_asked": args.kills,
        "kills_landed": landed,
        "rows": len(rows_full),
        "rows_equal": rows_full == rows_killed,
        "checkpoints_left": left,
        "checkpoints_open": opened,
        "seconds_with_kills": round(seconds, 1),
    }
    ok = report["rows_equal"] and left == opened
    table = (f"`{report['command']}` on {report['hardware']}: {landed} of {args.kills} SIGKILLs landed in a "
             f"{args.steps}-step `gan-mlp-ring` run; metrics.csv after resuming equals the uninterrupted run's "
             f"({len(rows_full)} rows): **{'yes' if report['rows_equal'] else 'NO'}**; checkpoints left {left}, "
             f"open {opened}; {seconds:.0f} s with the kills.\n")  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2))
    (out / "table.md").write_text(table)
    print(json.dumps(report, indent=2))
    if not ok:
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
