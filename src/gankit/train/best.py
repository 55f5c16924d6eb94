"""The best checkpoint of evaluation during training (``eval.eval_every``, ``eval.best_metric``).

Whenever the method's score ``best_metric`` improves, its weights go to ``<run>/best/step_N/`` (a regular
checkpoint, weights only) and ``<run>/best/best.json`` says which step and value. Whether larger is
better comes from the scoring registry (:func:`gankit.metrics.scoring.higher_is_better`).
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from gankit.data import DataSpec
from gankit.train.checkpoint import save_checkpoint


class BestKeeper:
    """Keeps the best checkpoint by one score; remembers it across resumes through ``best.json``."""

    def __init__(self, folder: Path, metric: str):
        self.folder, self.metric = Path(folder), metric
        f = self.folder / "best.json"
        self.best: float | None = json.loads(f.read_text())["value"] if f.is_file() else None

    def better(self, value: float) -> bool:
        from gankit.metrics.scoring import higher_is_better

        if self.best is None:
            return True
        return value > self.best if higher_is_better(self.metric) else value < self.best

    def update(self, step: int, value: float | None, modules: dict[str, nn.Module], spec: DataSpec) -> bool:
        """Save ``modules`` as the best when ``value`` (None: the method has no such score) beats the best so far."""
        if value is None or not self.better(value):
            return False
        self.best = value
        state = {"data_spec": spec.to_dict(), "metric": self.metric, "value": value}
        save_checkpoint(self.folder, step, modules, state, keep=1)
        tmp = self.folder / ".best.json.tmp"
        tmp.write_text(json.dumps({"step": step, "metric": self.metric, "value": value}))
        tmp.replace(self.folder / "best.json")
        return True
