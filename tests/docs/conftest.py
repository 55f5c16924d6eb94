"""The docs examples' runner (tests/docs/examples_runner.py) as the module ``docs_examples_runner`` for the test files
of this folder (pytest's importlib mode puts no test folder on sys.path), and the fixtures its examples run in."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

if "docs_examples_runner" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "docs_examples_runner", Path(__file__).with_name("examples_runner.py")
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _module  # (its dataclasses look their module up)
    _spec.loader.exec_module(_module)
runner = sys.modules["docs_examples_runner"]


@pytest.fixture
def page_dir(request, tmp_path_factory, monkeypatch):
    """The page's own working directory, its setup commands run once (before its first example)."""
    page = request.node.callspec.params["ex"].page
    if page not in runner.PAGE_DIRS:
        where = tmp_path_factory.mktemp(page.stem)
        monkeypatch.chdir(where)
        for command in runner.setup_commands(page):
            assert not runner.run_shell(command, f"{page.name} setup"), f"{page.name}: setup runs gankit commands only"
        runner.PAGE_DIRS[page] = where
    monkeypatch.chdir(runner.PAGE_DIRS[page])
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    return runner.PAGE_DIRS[page]


@pytest.fixture
def registries():
    """Restore the registries a Python example may add to (a sketch of registering a method or a trick)."""
    from gankit.config import METHOD_CONFIGS
    from gankit.methods.registry import METHODS
    from gankit.methods.tricks import TRICKS

    saved = [(d, dict(d)) for d in (METHODS, METHOD_CONFIGS, TRICKS)]
    yield
    for d, before in saved:
        d.clear()
        d.update(before)
