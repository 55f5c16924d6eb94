"""The count of README/docs examples run and skipped, printed at the end of a session that collected them."""

import sys
from pathlib import Path

RUNNER = Path(__file__).with_name("test_examples.py")


def pytest_terminal_summary(terminalreporter):
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) and Path(module.__file__) == RUNNER and hasattr(module, "summary"):
            terminalreporter.write_sep("-", "README and docs examples")
            terminalreporter.write_line(module.summary())
            return
