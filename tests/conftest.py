"""Shared test set-up: no test may download anything, and runs are small and seeded."""

import os
import sys
import tempfile

import pytest

os.environ["GANKIT_OFFLINE"] = "1"
# Tests never read or write the user's cache (reference statistics, downloads).
os.environ["GANKIT_CACHE"] = tempfile.mkdtemp(prefix="gankit-test-cache-")
# Under pytest-xdist (`-n auto`) each worker takes its share of the cores: two workers of two threads each on
# two cores run slower than one. Set before torch is imported; subprocesses (torchrun, the CLI) inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _share = (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _share)))
    if "torch" in sys.modules:  # a plugin imported it first
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture
def tiny_overrides() -> list[str]:
    """Overrides that make a Fashion-MNIST DCGAN run take a second or two."""
    return ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.log_every=2", "train.sample_every=4", "train.checkpoint_every=4"]


_SMALL: dict = {}


@pytest.fixture
def small_data(monkeypatch):
    """The first 256 Fashion-MNIST images in place of the whole set for runs of the training loop: a tiny
    run takes a fraction of a second."""
    from gankit.data import RunData, TensorData, load_dataset

    if "fm" not in _SMALL:
        full = load_dataset("fashion-mnist")
        _SMALL["fm"] = TensorData(full.x[:256].clone(), full.y[:256].clone(), full.classes, "fashion-mnist")
    # (gankit.train is also the name of the API function: reach the module through sys.modules)
    monkeypatch.setattr(sys.modules["gankit.train.loop"], "load_run_data", lambda cfg: RunData({"train": _SMALL["fm"]}))
    return _SMALL["fm"]


@pytest.fixture
def cgan_run(tmp_path, small_data):
    """A class-conditional run of two steps on the first 256 Fashion-MNIST images (a second or two)."""
    from gankit.cli import main

    run = tmp_path / "cgan"
    tiny = ["method=cgan", "model.z_dim=8", "model.g_width=8", "model.d_width=8", "train.batch_size=16",
            "train.log_every=2", "train.checkpoint_every=2"]
    assert main(["train", "--run-dir", str(run), "--steps", "2", "--no-progress", *tiny]) == 0
    return run


def pytest_terminal_summary(terminalreporter):
    """The count of README/docs examples run and skipped, at the end of a session that ran them (here, not in
    tests/docs/: under pytest-xdist only this conftest is loaded by the process that prints the summary)."""
    import importlib.util
    from pathlib import Path

    reports = [r for reps in terminalreporter.stats.values() for r in reps if hasattr(r, "nodeid")]
    if not any(r.nodeid.startswith("tests/docs/test_examples.py::test_example") for r in reports):
        return
    runner = Path(__file__).parent / "docs" / "test_examples.py"
    spec = importlib.util.spec_from_file_location("docs_examples_summary", runner)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)  # collecting the blocks is cheap; the examples do not run
    terminalreporter.write_sep("-", "README and docs examples")
    terminalreporter.write_line(module.summary())
