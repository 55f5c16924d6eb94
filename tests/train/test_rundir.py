from gankit.train.rundir import MetricsLog


def test_metrics_log_extends_header_and_truncates(tmp_path):
    log = MetricsLog(tmp_path / "metrics.csv")
    log.log(1, {"a": 1.0})
    log.log(2, {"a": 2.0, "b": 0.5})  # a new column appears
    log.log(3, {"a": 3.0})
    rows = MetricsLog(tmp_path / "metrics.csv").read()
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["b"] == "" and rows[1]["b"] == "0.5"
    log.truncate_after(2)
    assert [r["step"] for r in log.read()] == ["1", "2"]
