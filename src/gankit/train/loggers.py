"""Experiment trackers behind the loop's logging: a small registry, chosen with ``train.loggers``.

Every logged row (the method's scalars averaged over the logging window, ``images_per_s`` and the
``eval_*`` scores) goes to each logger of the run. ``metrics.csv`` is always written: it is the run
directory's own record, which resuming, ``gankit evaluate`` and the studies read; ``train.loggers`` names
it (``csv``) only for clarity. The others:

- ``tensorboard``: event files in ``<run>/tb`` (the default, with ``csv``).
- ``mlflow`` (``pip install 'gankit[mlflow]'``): one MLflow run (Zaharia et al. 2018, "Accelerating the
  Machine Learning Lifecycle with MLflow") with the resolved config as params (dotted keys) and every
  row as metrics at its step, in ``$MLFLOW_TRACKING_URI`` or, offline, a SQLite store ``<run>/mlflow.db``.

A logger is a ``(run, cfg, resumed_at) -> Logger`` builder registered with :func:`register_logger`;
``resumed_at`` is the step a resumed run continues from (None for a fresh run), so a logger can drop or
overwrite what the interrupted run logged after its last checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from gankit.config import RunConfig
from gankit.errors import UserError
from gankit.train.rundir import RunDir


class Logger(Protocol):
    """Where the loop's logged rows go: ``log(step, scalars)`` per row, ``close()`` at the end."""

    def log(self, step: int, scalars: dict[str, float]) -> None: ...

    def close(self) -> None: ...


LoggerBuilder = Callable[[RunDir, RunConfig, "int | None"], Logger]
LOGGERS: dict[str, LoggerBuilder] = {}
ALWAYS = "csv"  # metrics.csv: the run directory's own record


def register_logger(name: str) -> Callable[[LoggerBuilder], LoggerBuilder]:
    """Register a logger builder ``(run, cfg, resumed_at) -> Logger`` under ``name`` (a ``train.loggers`` entry)."""

    def deco(builder: LoggerBuilder) -> LoggerBuilder:
        LOGGERS[name] = builder
        return builder

    return deco


def open_loggers(names: list[str], run: RunDir, cfg: RunConfig, resumed_at: int | None) -> list[Logger]:
    """The loggers ``names`` asks for, and ``csv`` in any case (opened last: once ``metrics.csv`` exists, the
    run's trackers are ready)."""
    ordered = [n for n in dict.fromkeys(names) if n != ALWAYS] + [ALWAYS]
    unknown = [n for n in ordered if n not in LOGGERS]
    if unknown:
        raise UserError(f"train.loggers: unknown logger '{unknown[0]}' (known: {', '.join(LOGGERS)})")
    return [LOGGERS[n](run, cfg, resumed_at) for n in ordered]


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``: the dotted keys that overrides use."""
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out |= flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


@register_logger("csv")
class CSVLogger:
    """``metrics.csv`` (:class:`gankit.train.rundir.MetricsLog`), written from the start (a header) even for a run
    shorter than ``log_every``; a resumed run drops the rows after its checkpoint."""

    def __init__(self, run: RunDir, cfg: RunConfig, resumed_at: int | None):
        if resumed_at is not None:
            run.metrics.truncate_after(resumed_at)
        run.metrics.ensure_header()
        self.metrics = run.metrics

    def log(self, step: int, scalars: dict[str, float]) -> None:
        self.metrics.log(step, scalars)

    def close(self) -> None:
        pass


@register_logger("tensorboard")
class TensorBoardLogger:
    """TensorBoard event files in ``<run>/tb``; a resumed run purges the events after its checkpoint."""

    def __init__(self, run: RunDir, cfg: RunConfig, resumed_at: int | None):
        from torch.utils.tensorboard import SummaryWriter  # slow import: only when training

        purge = resumed_at + 1 if resumed_at is not None else None
        self.writer = SummaryWriter(str(run.tensorboard), purge_step=purge)

    def log(self, step: int, scalars: dict[str, float]) -> None:
        for k, v in scalars.items():
            self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        self.writer.close()


@register_logger("mlflow")
class MLflowLogger:
    """One MLflow run per gankit run: params = the resolved config (dotted keys), metrics = the logged rows.

    The tracking URI is ``$MLFLOW_TRACKING_URI`` when set, else ``sqlite:///<run>/mlflow.db`` (offline; MLflow's
    plain-file store is in maintenance mode); the experiment is ``$MLFLOW_EXPERIMENT_NAME`` or ``gankit``, the run
    name the run directory's name. A resumed gankit run continues its MLflow run (its id is kept in
    ``<run>/mlflow_run_id``); the steps it repeats after the checkpoint are logged again (MLflow keeps both values).
    """

    def __init__(self, run: RunDir, cfg: RunConfig, resumed_at: int | None):
        try:
            from mlflow.entities import Param
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise UserError("train.loggers: mlflow is not installed (pip install 'gankit[mlflow]')") from None
        run.path.mkdir(parents=True, exist_ok=True)
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(run.path / 'mlflow.db').resolve()}"
        self.client = MlflowClient(tracking_uri=uri)
        id_file = run.path / "mlflow_run_id"
        if resumed_at is not None and id_file.is_file():
            self.run_id = id_file.read_text().strip()
            self.client.update_run(self.run_id, status="RUNNING")
            return
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "gankit"
        exp = self.client.get_experiment_by_name(name)
        exp_id = exp.experiment_id if exp is not None else self.client.create_experiment(name)
        self.run_id = self.client.create_run(exp_id, run_name=run.path.name).info.run_id
        id_file.write_text(self.run_id + "\n")
        params = [Param(k, str(v)[:6000]) for k, v in flatten(cfg.model_dump(mode="json")).items()]  # MLflow's limit
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=params[i : i + 100])

    def log(self, step: int, scalars: dict[str, float]) -> None:
        import time

        from mlflow.entities import Metric

        ms = int(time.time() * 1000)
        metrics = [Metric(k, float(v), ms, step) for k, v in scalars.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)
