"""Shared test set-up: no test may download anything, and runs are small and seeded."""

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

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


# The files that take longest, longest first (`pytest --durations=0`, 2 workers, 3 December). Under pytest-xdist's
# --dist loadfile a file is one job, handed out in collection order (pyproject.toml turns off xdist's own reorder,
# which goes by the number of tests, not their time); a long file handed out last keeps one worker busy while the
# other idles, so these go first (longest-processing-time-first scheduling). A stale list only costs time.
LONGEST_FIRST = [
    "tests/docs/test_examples_lab.py",
    "tests/docs/test_examples_models.py",
    "tests/docs/test_examples.py",
    "tests/methods/test_conformance.py",
    "tests/methods/test_cgan.py",
    "tests/train/test_distributed.py",
    "tests/lab/test_d_too_strong.py",
    "tests/train/test_faults.py",
    "tests/lab/test_bn_leak.py",
    "tests/cli/test_cas.py",
    "tests/methods/test_dann.py",
    "tests/metrics/test_extractors.py",
    "tests/metrics/test_classifier_training.py",
]


def pytest_collection_modifyitems(items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order


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


@contextlib.contextmanager
def _exclusive(lock: Path):
    """Hold an exclusive lock on ``lock`` (one pytest-xdist worker at a time; POSIX flock, as CI runs Linux)."""
    try:
        import fcntl
    except ImportError:  # (no flock: each worker then runs its own copy, which is only slower)
        yield
        return
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def lab_quick(tmp_path_factory):
    """``run_experiment(name, out, quick=True)``, run once per test session and copied to ``out`` for each later
    caller, across pytest-xdist workers: tests/lab and the docs' lab examples (docs/lab.md runs all ten
    experiments) ask for the same seeded quick runs, and running each twice cost CI minutes. Returns the result
    as written to ``out/result.json``."""
    from gankit.lab import run_experiment

    base = tmp_path_factory.getbasetemp()
    # the workers' temp folders are siblings under one folder of this session; without xdist, our own
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "lab-quick"
    shared.mkdir(exist_ok=True)

    def run(name: str, out: str | Path) -> dict:
        done = shared / name
        with _exclusive(shared / f"{name}.lock"):
            if not (done / "result.json").is_file():  # (result.json is written last)
                shutil.rmtree(done, ignore_errors=True)
                run_experiment(name, done, quick=True)
        shutil.copytree(done, out, dirs_exist_ok=True)
        return json.loads((Path(out) / "result.json").read_text())

    return run


@pytest.fixture
def shared_lab_runs(monkeypatch, lab_quick):
    """``gankit.lab.run_experiment`` (which the CLI's ``gankit lab`` calls) with its quick runs shared through
    ``lab_quick``; full runs are untouched."""
    import gankit.lab

    real = gankit.lab.run_experiment

    def run_experiment(name, out=None, *, quick=False):
        if not quick or name not in gankit.lab.experiment_names():  # (an unknown name keeps its error)
            return real(name, out, quick=quick)
        out = Path(out) if out is not None else Path("lab") / name
        return lab_quick(name, out)

    monkeypatch.setattr(gankit.lab, "run_experiment", run_experiment)


def pytest_terminal_summary(terminalreporter):
    """The count of README/docs examples run and skipped, at the end of a session that ran them (here, not in
    tests/docs/: under pytest-xdist only this conftest is loaded by the process that prints the summary)."""
    import importlib.util
    from pathlib import Path

    reports = [r for reps in terminalreporter.stats.values() for r in reps if hasattr(r, "nodeid")]
    if not any(r.nodeid.startswith("tests/docs/test_examples") and "::test_example[" in r.nodeid for r in reports):
        return
    runner = Path(__file__).parent / "docs" / "examples_runner.py"
    spec = importlib.util.spec_from_file_location("docs_examples_summary", runner)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)  # collecting the blocks is cheap; the examples do not run
    terminalreporter.write_sep("-", "README and docs examples")
    terminalreporter.write_line(module.summary())
