"""The README's and docs' examples run as tests (the runner and its markers: tests/docs/examples_runner.py), and
tests of the runner itself. The heaviest pages run from test_examples_lab.py and test_examples_models.py."""

from pathlib import Path

import pytest
from docs_examples_runner import (  # (tests/docs/conftest.py loads it)
    ALL,
    HERE,
    ROOT,
    SPLIT,
    Example,
    check_example,
    command_kind,
    examples,
    examples_of,
    run_python,
    run_shell,
    runs,
    setup_commands,
    shell_commands,
)


@pytest.mark.parametrize("ex", HERE, ids=[ex.id for ex in HERE])
def test_example(ex: Example, page_dir, registries, shared_lab_runs):
    check_example(ex)


def test_the_split_files_and_their_pages_exist():
    for name, pages in SPLIT.items():
        assert (Path(__file__).parent / name).is_file(), name
        assert {ex.page.name for ex in examples_of(name)} == pages, f"{name}: a page without examples"


def test_every_block_runs_or_says_why():
    """A shell block with no line that runs (pip, a Slurm script) must carry a skip marker with its reason."""
    silent = [ex.id for ex in ALL if not ex.skip and not runs(ex)]
    assert not silent, silent
    assert all(ex.skip.strip() for ex in ALL if ex.skip is not None)


def test_markers_and_a_broken_example(tmp_path, monkeypatch):
    """The parser reads the markers; a stale example (Python or a gankit command) fails its test."""
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- example-setup: gankit --version -->\n"
        "<!-- example: skip takes an hour -->\n```bash\ngankit train\n```\n"
        "<!-- example: replace 2 => 3 -->\n<!-- example: replace x => y -->\n```python\nx = 2\n```\n"
        "```\nnot code\n```\n```bash\npip install gankit  # not gankit\nOMP_NUM_THREADS=1 gankit sample \\\n"
        "   --run nowhere -n 4 --out x.png\n```\n"
    )
    skip, py, sh = examples(page)
    assert (skip.skip, skip.line, py.line) == ("takes an hour", 3, 8)
    assert py.prepared() == "y = 3\n" and setup_commands(page) == ["gankit --version"]
    assert shell_commands(sh.code) == [
        "pip install gankit",
        "OMP_NUM_THREADS=1 gankit sample --run nowhere -n 4 --out x.png",
    ]
    assert command_kind(shell_commands(sh.code)[1]) == (
        "gankit",
        ["sample", "--run", "nowhere", "-n", "4", "--out", "x.png"],
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError, match="exited with 2"):  # the run does not exist: a user error, exit code 2
        run_shell(sh.code, sh.id)
    with pytest.raises(AssertionError, match="exited with 2"):  # an option that no longer exists
        run_shell("gankit sample --no-such-option\n", "stale.sh")
    with pytest.raises(NameError):
        run_python("print(undefined_name)\n", "stale.py")
    with pytest.raises(AssertionError, match="'z' is not in the example"):
        Example(page, 1, "python", "x = 1\n", replacements=[("z", "w")]).prepared()


def test_chains_exit_codes_and_scripts(tmp_path, monkeypatch):
    """``&&`` chains split outside groups; ``exits N`` and an empty replace; a stale script option fails (in-process);
    a test-suite run does not run unless narrowed to collection, and then a missing test file fails."""
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- example: exits 2 -->\n<!-- example: replace pip install x && => -->\n"
        "```bash\npip install x && { [ -d d ] || (apt-get a && apt-get b) || gankit data fetch f; } && gankit sample\n```\n"
    )
    (ex,) = examples(page)
    assert ex.exit_code == 2 and ex.replacements == [("pip install x &&", "")]
    assert shell_commands(ex.code) == [
        "pip install x",
        "'{' '[' -d d ']' '||' '(' apt-get a '&&' apt-get b ')' '||' gankit data fetch f ';' '}'",
        "gankit sample",
    ]
    assert [command_kind(c)[0] for c in shell_commands(ex.prepared())] == ["other", "gankit"]
    monkeypatch.chdir(tmp_path)
    assert run_shell(ex.prepared(), ex.id, ex.exit_code) == [shell_commands(ex.code)[1]]  # `gankit sample`: exit 2
    with pytest.raises(AssertionError, match="exited with 2"):
        run_shell("gankit sample\n", "stale.sh")
    with pytest.raises(AssertionError, match="exited with 2"):  # argparse, in this process
        run_shell("python benchmarks/digit_classifier.py --no-such-option\n", "stale-script.sh")
    assert run_shell("python -m pytest tests\n", "suite.sh") == ["python -m pytest tests"]
    with pytest.raises(AssertionError, match="exited with 4"):  # pytest: no such file
        run_shell(f"python -m pytest -n 0 --collect-only {ROOT}/tests/no_such_test.py\n", "stale-suite.sh")
