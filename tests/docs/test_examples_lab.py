"""The examples of the heaviest pages (docs/lab.md, docs/lab-live.md, docs/gpu-and-clusters.md), with the runner
and markers of tests/docs/test_examples.py: in a file of their own so that pytest-xdist (--dist loadfile) runs
them beside the other pages' examples instead of after them."""

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("docs_examples_runner", Path(__file__).with_name("test_examples.py"))
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = runner  # (its dataclasses look their module up)
_spec.loader.exec_module(runner)
page_dir, registries = runner.page_dir, runner.registries  # the fixtures: the page's folder, the registries kept
EXAMPLES = [ex for ex in runner.ALL if ex.page.name in runner.OWN_FILE_PAGES]


def test_the_pages_exist():
    assert {ex.page.name for ex in EXAMPLES} == runner.OWN_FILE_PAGES


@pytest.mark.parametrize("ex", EXAMPLES, ids=[ex.id for ex in EXAMPLES])
def test_example(ex, page_dir, registries):
    runner.check_example(ex)
