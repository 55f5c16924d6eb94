"""The run directory, the contract between commands:

``config.yaml`` (the resolved config), ``metrics.csv`` (step, then every logged scalar),
``samples/*.png``, ``tb/`` (TensorBoard events) and ``checkpoints/``. Only this is read when a
run is resumed, sampled or evaluated.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from gankit.config import RunConfig, to_yaml


class MetricsLog:
    """``metrics.csv``: a header row, then one row per logged step. New columns extend the header."""

    def __init__(self, path: Path):
        self.path = path
        self.columns: list[str] = []
        if path.is_file():
            with open(path, newline="") as f:
                self.columns = next(csv.reader(f), [])

    def read(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as f:
            return list(csv.DictReader(f))

    def _rewrite(self, rows: list[dict]) -> None:
        tmp = self.path.with_name(".metrics.csv.tmp")
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.columns, restval="")
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, self.path)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        row = {"step": step, **{k: repr(float(v)) for k, v in scalars.items()}}
        new = [k for k in row if k not in self.columns]
        if new or not self.path.is_file():
            self.columns += new
            self._rewrite(self.read() + [row])
            return
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, restval="").writerow(row)

    def ensure_header(self) -> None:
        """Create ``metrics.csv`` holding just its header (``step``) if there is none yet."""
        if not self.path.is_file():
            self.columns = self.columns or ["step"]
            self._rewrite([])

    def clear_at(self, step: int, keys: list[str]) -> None:
        """Blank ``keys`` in the row of ``step``, and drop the row if nothing else is left in it."""
        rows = []
        for r in self.read():
            if int(r["step"]) == step:
                r = {k: ("" if k in keys else v) for k, v in r.items()}
                if not any(v for k, v in r.items() if k != "step"):
                    continue
            rows.append(r)
        self._rewrite(rows)

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (a resumed run re-logs them), and a last row torn by a kill during
        its write (no line end yet): its step could even read as an earlier one ("15" of "150")."""
        if not self.path.is_file():
            return
        text = self.path.read_text()
        if text and not text.endswith("\n"):
            self.path.write_text(text[: text.rfind("\n") + 1])
        self._rewrite([r for r in self.read() if int(r["step"]) <= step])


class RunDir:
    """The paths of a run directory (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    config_file = property(lambda self: self.path / "config.yaml")
    samples = property(lambda self: self.path / "samples")
    checkpoints = property(lambda self: self.path / "checkpoints")
    tensorboard = property(lambda self: self.path / "tb")

    @property
    def metrics(self) -> MetricsLog:
        return MetricsLog(self.path / "metrics.csv")

    def create(self, cfg: RunConfig) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.samples.mkdir(exist_ok=True)
        tmp = self.path / ".config.yaml.tmp"
        tmp.write_text(to_yaml(cfg))
        os.replace(tmp, self.config_file)
