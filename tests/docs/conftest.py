"""The runner of tests/docs/test_examples.py as the module ``docs_examples_runner``, for the files that run a part of
the pages' examples (tests/docs/test_examples_lab.py, test_examples_models.py): its fixtures are theirs too."""

import importlib.util
import sys
from pathlib import Path

if "docs_examples_runner" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("docs_examples_runner", Path(__file__).with_name("test_examples.py"))
    assert _spec is not None and _spec.loader is not None
    runner = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = runner  # (its dataclasses look their module up)
    _spec.loader.exec_module(runner)
