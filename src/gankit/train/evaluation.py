"""Evaluation during training (``eval.eval_every`` in the run config).

Every ``eval_every`` steps: draw ``eval.num_samples`` images from G (a fixed latent batch, its own
generator, so training's random stream is untouched and a resumed run scores the same images),
compute the chosen metrics against the cached test-split features, log them as ``eval_<metric>``
to ``metrics.csv`` and TensorBoard, and keep the best generator so far in ``<run>/best/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gankit.metrics.classes import class_coverage
from gankit.metrics.extractors import default_extractor, extract, get_extractor
from gankit.metrics.fid import fid
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid
from gankit.metrics.prdc import prdc
from gankit.metrics.reference import reference_features

# Whether a larger value is better, per metric that can choose the best checkpoint.
HIGHER_IS_BETTER = {"fid": False, "kid": False, "is": True, "precision": True, "recall": True, "density": True, "coverage": True, "classes_hit": True}
TRAINING_METRICS = ("fid", "kid", "is", "pr", "dc", "classes")


def score(real_f, real_p, fake_f, fake_p, metrics) -> dict[str, float]:
    """The chosen metrics as a flat dict of floats (``fid``, ``kid``, ``is``, ``precision``, ...)."""
    out: dict[str, float] = {}
    if "fid" in metrics:
        out["fid"] = fid(real_f, fake_f)
    if "kid" in metrics:
        out["kid"] = kid(real_f, fake_f, subsets=20, subset_size=min(1000, len(fake_f)))[0]
    if "pr" in metrics or "dc" in metrics:
        r = prdc(real_f, fake_f)
        out.update({k: r[k] for k in (("precision", "recall") if "pr" in metrics else ()) + (("density", "coverage") if "dc" in metrics else ())})
    if fake_p is not None and "is" in metrics:
        out["is"] = inception_score(fake_p, splits=10)[0]
    if fake_p is not None and "classes" in metrics:
        data = torch.bincount(real_p.argmax(1), minlength=real_p.shape[1]).double() if real_p is not None else None
        out["classes_hit"] = float(class_coverage(fake_p, data).classes_hit)
    return out


class TrainingEvaluator:
    """Called by the training loop; see the module docstring. Args: the run config and run directory path."""

    def __init__(self, cfg, run_path: Path):
        e = cfg.eval
        self.metrics, self.best_metric, self.n = list(e.metrics), e.best_metric, e.num_samples
        self.extractor = get_extractor(e.extractor or default_extractor(cfg.data.name))
        split = "train" if cfg.data.name.startswith("folder:") else "test"
        self.real_f, self.real_p, _ = reference_features(cfg.data.name, split, self.extractor, self.n)
        self.z = None
        self.best_dir = Path(run_path) / "best"
        self.best = self._read_best()

    def _read_best(self) -> float | None:
        f = self.best_dir / "best.json"
        return json.loads(f.read_text())["value"] if f.is_file() else None

    def __call__(self, step: int, method, metrics_log, tb, data_shape=None) -> dict[str, float]:
        """Score G now, log ``eval_<metric>`` to ``metrics.csv`` and TensorBoard, save ``best/`` when improved."""
        if self.z is None:
            self.z = torch.randn(self.n, method.z_dim, generator=torch.Generator().manual_seed(12345))
        images = torch.cat([method.sample(zb).cpu() for zb in self.z.split(500)])
        fake_f, fake_p = extract(self.extractor, images)
        scores = score(self.real_f, self.real_p, fake_f, fake_p, self.metrics)
        row = {f"eval_{k}": v for k, v in scores.items()}
        metrics_log.log(step, row)
        for k, v in row.items():
            tb.add_scalar(k, v, step)
        value = scores.get(self.best_metric)
        if value is not None and (self.best is None or (value > self.best if HIGHER_IS_BETTER[self.best_metric] else value < self.best)):
            self._save_best(step, method, value, data_shape)
        return scores

    def _save_best(self, step: int, method, value: float, data_shape) -> None:
        """A regular checkpoint (weights only) in ``<run>/best/step_N/``, plus ``best/best.json``."""
        from gankit.train.checkpoint import save_checkpoint

        self.best = value
        state = {"data_shape": list(data_shape) if data_shape else None, "metric": self.best_metric, "value": value}
        save_checkpoint(self.best_dir, step, method.modules, state, keep=1)
        tmp = self.best_dir / ".best.json.tmp"
        tmp.write_text(json.dumps({"step": step, "metric": self.best_metric, "value": value}))
        tmp.replace(self.best_dir / "best.json")
