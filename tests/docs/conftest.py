"""The count of README/docs examples run and skipped, printed at the end of a session that ran them."""

import importlib.util
import sys
from pathlib import Path

RUNNER = Path(__file__).with_name("test_examples.py")


def _runner():
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__) == RUNNER and hasattr(module, "summary"):
            return module
    # Under pytest-xdist the tests ran in workers: load the runner here (collecting the blocks is cheap).
    spec = importlib.util.spec_from_file_location("docs_examples_summary", RUNNER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_terminal_summary(terminalreporter):
    reports = [r for reps in terminalreporter.stats.values() for r in reps if hasattr(r, "nodeid")]
    if any(r.nodeid.startswith("tests/docs/test_examples.py::test_example") for r in reports):
        terminalreporter.write_sep("-", "README and docs examples")
        terminalreporter.write_line(_runner().summary())
