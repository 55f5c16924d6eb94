"""The examples of docs/conditional.md, docs/taxonomy.md and docs/adapt.md (trainings and scorings), with the runner
and markers of tests/docs/examples_runner.py: a file of their own, so that pytest-xdist (--dist loadfile) runs them
beside the other pages' examples instead of after them."""

import pytest
from docs_examples_runner import check_example, examples_of  # (tests/docs/conftest.py loads it)

EXAMPLES = examples_of(__file__)


@pytest.mark.parametrize("ex", EXAMPLES, ids=[ex.id for ex in EXAMPLES])
def test_example(ex, page_dir, registries, shared_lab_runs):
    check_example(ex)
