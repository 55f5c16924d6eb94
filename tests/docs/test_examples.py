"""The examples of README.md and docs/*.md: fenced blocks, the markers that adjust them for a test, and a runner.

What runs: every ```python block (executed as a script) and, in every ```bash block, each command line that
calls ``gankit`` (run in-process through :func:`gankit.cli.main`, which must return 0), ``python -c CODE``,
``python SCRIPT.py ARGS`` (a script of the repository, e.g. a benchmark, run in a subprocess) or ``torchrun ARGS``
(a subprocess). ``gankit lab serve`` (a server that runs until stopped) is started in a subprocess on a free port,
its page fetched once, and stopped. Other shell lines (pip, a Slurm script, the test suite) do not run: a block
with nothing that runs needs a skip marker that says why. Blocks without a language (output, file trees,
pseudo-code) and yaml/json blocks are text. A summary at the end of the test session counts the blocks run and
skipped.

Markers, HTML comments on the lines just above a block's fence (unseen on the rendered page):

    <!-- example: skip REASON -->           not run; the reason shows in the test report
    <!-- example: replace OLD => NEW -->    run the block with OLD replaced by NEW (quick settings); repeatable;
                                            ``{root}`` in NEW is the repository's root (for ../shared/data)
    <!-- example: prepend CODE -->          run the block with the line CODE before it (the imports a sketch omits)

and anywhere on a page, run once before its first example (e.g. a tiny run that the examples then use):

    <!-- example-setup: gankit train --run-dir runs/demo train.steps=2 -->

The examples of one page run in order in one temporary directory, so ``runs/demo`` is the page's own. A lab
experiment (``gankit lab NAME ...``) already run with the same arguments on the same page is not run again.
Python examples run with the registries (methods, tricks) restored afterwards, so a sketch that registers
something leaves no trace in the other tests.
"""

from __future__ import annotations

import os
import importlib.util
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGS = {"python", "bash", "sh", "shell"}

# Markers for the pages other engineers own, kept here until the markers move onto those pages: (page, the
# block's first line) -> reason to skip.
SKIP_ELSEWHERE = {
    ("translation.md", "gankit translate --run runs/translation/"): "needs the runs of benchmarks/translation.py",
}

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*example:\s*(skip|replace|prepend|needs)\s+(.*?)\s*-->\s*$")
_SETUP = re.compile(r"^<!--\s*example-setup:\s*(.*?)\s*-->\s*$", re.M)
_ENV = re.compile(r"^(\w+=\S*\s+)+")  # leading VAR=value assignments


@dataclass
class Example:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None = None
    replacements: list[tuple[str, str]] = field(default_factory=list)
    prelude: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)  # modules of optional extras (`needs mlflow`): skipped without

    @property
    def id(self) -> str:
        name = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page.name
        return f"{name}:{self.line}"

    def prepared(self) -> str:
        code = self.code
        for old, new in self.replacements:
            if old not in code:
                raise AssertionError(f"{self.id}: marker 'replace {old} => {new}': '{old}' is not in the example")
            code = code.replace(old, new.replace("{root}", str(ROOT)))
        return "".join(line + "\n" for line in self.prelude) + code


def examples(page: Path) -> list[Example]:
    """The fenced blocks of ``page`` in a language that runs, with their markers."""
    lines = page.read_text().splitlines()
    found, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        if m.group(1) in RUN_LANGS:
            ex = Example(page, i + 1, m.group(1), "\n".join(lines[i + 1 : end]) + "\n")
            j = i - 1
            while j >= 0 and (mk := _MARKER.match(lines[j])):
                if mk.group(1) == "skip":
                    ex.skip = mk.group(2)
                elif mk.group(1) == "needs":
                    ex.needs += mk.group(2).split()
                elif mk.group(1) == "prepend":
                    ex.prelude.insert(0, mk.group(2))
                else:
                    old, sep, new = mk.group(2).partition(" => ")
                    assert sep, f"{ex.id}: a replace marker reads 'replace OLD => NEW'"
                    ex.replacements.insert(0, (old, new))
                j -= 1
            first = ex.code.lstrip().split("\n", 1)[0]
            for (name, start), reason in SKIP_ELSEWHERE.items():
                if page.name == name and first.startswith(start):
                    ex.skip = ex.skip or reason
            found.append(ex)
        i = end + 1
    return found


def setup_commands(page: Path) -> list[str]:
    return _SETUP.findall(page.read_text())


def shell_commands(code: str) -> list[str]:
    """The logical lines of a shell block (continuations joined, comments and blank lines dropped)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(shlex.join(words))
    return out


def command_kind(command: str) -> tuple[str, list[str]]:
    """What a shell line is: ("gankit", argv) | ("python-c", [code]) | ("script", [path, *args]) |
    ("torchrun", args) | ("other", words)."""
    words = shlex.split(_ENV.sub("", command))
    python = words[:1] in (["python"], ["python3"])
    if words[:1] == ["gankit"]:
        return "gankit", words[1:]
    if python and words[1:3] == ["-m", "gankit"]:
        return "gankit", words[3:]
    if python and words[1:2] == ["-c"]:
        return "python-c", [words[2]]
    if python and len(words) > 1 and words[1].endswith(".py") and (ROOT / words[1]).is_file():
        return "script", [str(ROOT / words[1]), *words[2:]]
    if words[:1] == ["torchrun"]:
        return "torchrun", words[1:]
    return "other", words


def run_python(code: str, name: str) -> None:
    exec(compile(code, name, "exec"), {"__name__": "__example__"})


def _subprocess(argv: list[str], name: str, command: str, timeout: float = 300) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    r = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=timeout)
    assert r.returncode == 0, f"{name}: `{command}` exited with {r.returncode}\n{r.stderr[-3000:]}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_server(args: list[str], name: str, command: str, wait: float = 60) -> None:
    """Start a server command on a free port, fetch its page once (200), stop it."""
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gankit", *args, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + wait
        while True:
            assert proc.poll() is None, (
                f"{name}: `{command}` exited with {proc.returncode}: {proc.stderr.read()[-2000:]}"
            )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200 and b"<html" in page.read().lower(), f"{name}: `{command}`: no page"
                    return
            except OSError:
                assert time.monotonic() < deadline, f"{name}: `{command}` did not answer within {wait} s"
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


_LAB_DONE: set[tuple[str, tuple[str, ...]]] = set()  # (directory, argv) of the lab experiments already run


def run_shell(code: str, name: str) -> list[str]:
    """Run the lines of a shell block that run (see the module docstring); returns the lines it did not run."""
    from gankit.cli import main

    skipped = []
    for command in shell_commands(code):
        kind, args = command_kind(command)
        if kind == "gankit" and args[:2] == ["lab", "serve"]:
            run_server(args, name, command)
        elif kind == "gankit":
            key = (os.getcwd(), tuple(args))
            if args[:1] == ["lab"] and key in _LAB_DONE:
                continue  # the same experiment, already run on this page
            try:
                rc = main(args)
            except SystemExit as e:  # argparse: an unknown option, a missing argument
                rc = e.code
            assert rc == 0, f"{name}: `{command}` exited with {rc}"
            if args[:1] == ["lab"]:
                _LAB_DONE.add(key)
        elif kind == "python-c":
            run_python(args[0], f"{name} (python -c)")
        elif kind == "script":
            _subprocess(args, name, command)
        elif kind == "torchrun":
            _subprocess(["-m", "torch.distributed.run", *args], name, command)
        else:
            skipped.append(command)
    return skipped


# ---- the tests ------------------------------------------------------------------------------------------------

ALL = [ex for page in PAGES for ex in examples(page)]
_PAGE_DIRS: dict[Path, Path] = {}


@pytest.fixture
def page_dir(request, tmp_path_factory, monkeypatch):
    """The page's own working directory, its setup commands run once (before its first example)."""
    page = request.node.callspec.params["ex"].page
    if page not in _PAGE_DIRS:
        where = tmp_path_factory.mktemp(page.stem)
        monkeypatch.chdir(where)
        for command in setup_commands(page):
            assert not run_shell(command, f"{page.name} setup"), f"{page.name}: setup runs gankit commands only"
        _PAGE_DIRS[page] = where
    monkeypatch.chdir(_PAGE_DIRS[page])
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    return _PAGE_DIRS[page]


def runs(ex: Example) -> bool:
    """Does the test of ``ex`` run something (no skip marker; a Python block, or a shell line that runs)?"""
    if ex.skip:
        return False
    return ex.lang == "python" or any(command_kind(c)[0] != "other" for c in shell_commands(ex.prepared()))


def summary() -> str:
    """How many blocks run and how many are skipped, with the reasons: printed at the end of the session."""
    skipped = [ex for ex in ALL if ex.skip]
    try:
        run = str(sum(map(runs, ALL)))
    except AssertionError as e:  # a stale replace marker: its test fails and says so
        run = f"? ({e})"
    lines = [f"docs examples: {len(ALL)} blocks, {run} run, {len(skipped)} skipped by marker"]
    lines += [f"  skipped {ex.id}: {ex.skip}" for ex in skipped]
    return "\n".join(lines)


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


SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.mark.parametrize("ex", ALL, ids=[ex.id for ex in ALL])
def test_example(ex: Example, page_dir, registries):
    if ex.skip:
        pytest.skip(ex.skip)
    if any("{root}/../shared/data" in new for _, new in ex.replacements) and not SHARED_DATA.is_dir():
        # the reference data lives beside the project, not in it (a clone elsewhere has none): as the other
        # tests that read it, skip rather than fail
        pytest.skip(f"reference data {SHARED_DATA} is not beside this clone")
    missing = [m for m in ex.needs if importlib.util.find_spec(m) is None]
    if missing:  # as tests/train/test_loggers.py and tests/test_export.py: an optional extra not installed
        pytest.skip(f"needs {', '.join(missing)} (pip install -e '.[dev]', as .ci/run does)")
    if ex.lang == "python":
        run_python(ex.prepared(), ex.id)
        return
    assert runs(ex), f"{ex.id}: nothing in this block runs; add <!-- example: skip REASON --> above it"
    run_shell(ex.prepared(), ex.id)


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


def test_every_skip_kept_here_names_a_block():
    """An entry of SKIP_ELSEWHERE whose block was rewritten or moved must not silently skip nothing."""
    for name, start in SKIP_ELSEWHERE:
        page = ROOT / "docs" / name
        if page.is_file():
            assert any(ex.code.lstrip().startswith(start) for ex in examples(page)), (name, start)


# ---- the API reference ------------------------------------------------------------------------------------------

API_PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))
API_PACKAGES = ("losses", "nets", "metrics", "sampling", "data")  # every module of these is on a reference page
# Public names without a docstring yet, in modules other engineers own (their fix is one line each).
UNDOCUMENTED_ELSEWHERE = {
    "gankit.data.domains": {"register_domain", "moons", "moons_rotated", "mnist", "mnist_m", "digits", "domain_names"},
    "gankit.methods.cyclegan": {"build"},
    "gankit.methods.nextframe": {"build"},
    "gankit.methods.pix2pix": {"build"},
    "gankit.nets.translation": {"ResidualBlock"},
}


def _reference_modules() -> list[str]:
    return [m for page in API_PAGES for m in re.findall(r"^::: (\S+)$", page.read_text(), re.M)]


def test_api_reference_covers_the_public_modules():
    listed = set(_reference_modules())
    src = ROOT / "src" / "gankit"
    expected = {"gankit.api", "gankit.export", "gankit.pretrained", "gankit.train.loggers", "gankit.methods.registry"}
    for package in API_PACKAGES:
        expected |= {f"gankit.{package}.{p.stem}" for p in (src / package).glob("*.py") if p.stem != "__init__"}
    assert expected <= listed, sorted(expected - listed)


def test_every_public_function_and_class_on_the_reference_has_a_docstring():
    import importlib
    import inspect

    missing = []
    for name in _reference_modules():
        module = importlib.import_module(name)
        for attr, obj in vars(module).items():
            if attr.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if obj.__module__ != name or attr in UNDOCUMENTED_ELSEWHERE.get(name, ()):
                continue  # documented where it is defined; or on the list above
            if not (obj.__doc__ or "").strip():
                missing.append(f"{name}.{attr}")
    assert not missing, missing
