"""The logger registry behind the loop: train.loggers picks the trackers; metrics.csv is always written."""

import csv
import sys

import pytest

import gankit
from gankit.errors import UserError

RING = ["train.steps=6", "train.batch_size=16", "train.log_every=2", "train.sample_every=6", "train.checkpoint_every=6"]


def _csv_rows(run):
    with open(run / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_mlflow_run_reads_back_with_mlflow_client(tmp_path, monkeypatch):
    """MLflow's own client, on the offline store in the run directory, sees the config and every logged row."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = tmp_path / "run"
    cfg = gankit.load_config("gan-mlp-ring", RING + ["train.loggers=[mlflow]"])
    gankit.train(cfg, run, progress=False)
    client = MlflowClient(tracking_uri=f"sqlite:///{run / 'mlflow.db'}")
    got = client.get_run((run / "mlflow_run_id").read_text().strip())
    assert got.info.status == "FINISHED" and got.info.run_name == "run"
    assert got.data.params["train.steps"] == "6" and got.data.params["method"] == "gan"
    assert got.data.params["train.loggers"] == "['mlflow']"
    rows = _csv_rows(run)  # metrics.csv is written in any case, and MLflow holds the same numbers
    assert [r["step"] for r in rows] == ["2", "4", "6"]
    history = client.get_metric_history(got.info.run_id, "d_loss")
    assert [m.step for m in history] == [2, 4, 6]
    assert [m.value for m in history] == [float(r["d_loss"]) for r in rows]
    assert not (run / "tb").exists()  # tensorboard was not asked for


def test_default_loggers_are_csv_and_tensorboard(tmp_path):
    run = tmp_path / "run"
    gankit.train(gankit.load_config("gan-mlp-ring", RING), run, progress=False)
    assert list((run / "tb").glob("events.out.tfevents.*")) and len(_csv_rows(run)) == 3
    assert not (run / "mlflow.db").exists()


def test_unknown_logger_is_a_config_error():
    with pytest.raises(UserError, match=r"train.loggers.*unknown logger 'mlfow'"):
        gankit.load_config("gan-mlp-ring", ["train.loggers=[mlfow]"])


def test_missing_mlflow_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    monkeypatch.setitem(sys.modules, "mlflow.entities", None)
    cfg = gankit.load_config("gan-mlp-ring", RING + ["train.loggers=[mlflow]"])
    with pytest.raises(UserError, match=r"mlflow is not installed \(pip install 'gankit\[mlflow\]'\)"):
        gankit.train(cfg, tmp_path / "run", progress=False)
