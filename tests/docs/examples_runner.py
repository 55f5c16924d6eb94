"""The examples of README.md and docs/*.md: fenced blocks, the markers that adjust them for a test, and a runner.
(The tests are tests/docs/test_examples*.py; tests/docs/conftest.py loads this module as ``docs_examples_runner``
and holds the fixtures.)

What runs: every ```python block (executed as a script) and, in every ```bash block, each command that calls
``gankit`` (run in-process through :func:`gankit.cli.main`, which must return 0), ``python -c CODE``,
``python SCRIPT.py ARGS`` (a script of the repository, e.g. a benchmark: run in this process as ``python`` would
run it, which saves the interpreter's start and gankit's import, seconds a script), ``torchrun ARGS`` (its
launcher in this process, the workers in theirs) or ``python -m pytest ARGS --collect-only`` (a subprocess that
collects the tests a page names; a pytest line that would run tests does not run: the suite must not run inside
itself). Commands joined by ``&&`` or ``;`` run one by one. ``gankit lab serve`` (a server that runs until
stopped) is started in a subprocess on a free port, its page fetched once, and stopped. Other shell commands
(pip, venv, apt-get, sbatch) do not run: a block with nothing that runs needs a skip marker that says why.
Blocks without a language (output, file trees, pseudo-code) and yaml/json blocks are text. A summary at the end
of the test session counts the blocks run and skipped.

Markers, HTML comments on the lines just above a block's fence (unseen on the rendered page):

    <!-- example: skip REASON -->           not run; the reason shows in the test report
    <!-- example: replace OLD => NEW -->    run the block with OLD replaced by NEW (quick settings); repeatable,
                                            applied in order; ``{root}`` in NEW is the repository's root (for
                                            ../shared/data); an empty NEW (``OLD =>``) deletes OLD
    <!-- example: prepend CODE -->          run the block with the line CODE before it (the imports a sketch omits,
                                            a file that a shell block reads)
    <!-- example: exits N -->               every gankit command of the block must exit with code N (a user
                                            error the page shows: N = 2)

and anywhere on a page, run once before its first example (e.g. a tiny run that the examples then use):

    <!-- example-setup: gankit train --run-dir runs/demo train.steps=2 -->

The examples of one page run in order in one temporary directory, so ``runs/demo`` is the page's own. A lab
experiment (``gankit lab NAME ...``) or a script already run with the same arguments on the same page is not run
again. A benchmark without a setting small enough has ``--smoke`` (every step of the script on tiny settings, into
a new temporary folder, never benchmarks/results/), which a replace marker adds. Python examples run with the registries (methods, tricks) restored afterwards, so a sketch that registers
something leaves no trace in the other tests.
"""

from __future__ import annotations

import importlib.util
import os
import re
import runpy
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGS = {"python", "bash", "sh", "shell"}

_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*example:\s*(skip|replace|prepend|needs|exits)\s+(.*?)\s*-->\s*$")
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
    needs: list[str] = field(default_factory=list)  # optional modules (`needs mlflow`) or programs: skipped without
    exit_code: int = 0  # what its gankit commands return (`exits 2`: the user errors a page shows)

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
                elif mk.group(1) == "exits":
                    ex.exit_code = int(mk.group(2))
                else:
                    old, sep, new = (mk.group(2) + " ").partition(" => ")  # the space: an empty NEW (`OLD =>`)
                    assert sep, f"{ex.id}: a replace marker reads 'replace OLD => NEW'"
                    ex.replacements.insert(0, (old, new.strip()))
                j -= 1
            found.append(ex)
        i = end + 1
    return found


def setup_commands(page: Path) -> list[str]:
    return _SETUP.findall(page.read_text())


def shell_commands(code: str) -> list[str]:
    """The commands of a shell block: its logical lines (continuations joined, comments and blank lines dropped),
    each split where ``&&`` or ``;`` joins commands outside brackets (a ``{ ...; }`` or ``( ... )`` group stays
    one command)."""
    joined = re.sub(r"\\\n\s*", " ", code)
    out = []
    for line in joined.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        depth = 0
        for word in [*lexer, ";"]:
            depth += (word in ("(", "{")) - (word in (")", "}"))
            if depth == 0 and word in ("&&", ";"):
                if words:
                    out.append(shlex.join(words))
                words = []
            else:
                words.append(word)
    return out


def command_kind(command: str) -> tuple[str, list[str]]:
    """What a shell line is: ("gankit", argv) | ("python-c", [code]) | ("script", [path, *args]) |
    ("torchrun", args) | ("pytest", args) | ("other", words)."""
    words = shlex.split(_ENV.sub("", command))
    python = words[:1] in (["python"], ["python3"])
    if words[:1] == ["gankit"]:
        return "gankit", words[1:]
    if python and words[1:3] == ["-m", "gankit"]:
        return "gankit", words[3:]
    if python and words[1:3] == ["-m", "pytest"] and {"--collect-only", "--co"} & set(words):
        return "pytest", words[3:]  # collection only: a test run inside the suite is "other", as pip is
    if python and words[1:2] == ["-c"]:
        return "python-c", [words[2]]
    if python and len(words) > 1 and words[1].endswith(".py") and (ROOT / words[1]).is_file():
        return "script", [str(ROOT / words[1]), *words[2:]]
    if words[:1] == ["torchrun"]:
        return "torchrun", words[1:]
    return "other", words


def run_python(code: str, name: str) -> None:
    exec(compile(code, name, "exec"), {"__name__": "__example__"})


def run_script(path: str, args: list[str], name: str, command: str) -> None:
    """``python SCRIPT ARGS`` in this process: the script's folder first on sys.path (its ``from common import``),
    ``sys.argv`` its own, ``__name__ == "__main__"``; it must finish or exit with code 0. Its temporary folders
    (``--smoke``) go to the page's folder, which pytest removes in time."""
    argv, syspath, tmp = sys.argv, sys.path[:], tempfile.tempdir
    sys.argv, sys.path[:0], tempfile.tempdir = [path, *args], [str(Path(path).parent)], os.getcwd()
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as e:  # argparse: an unknown option (2); a script's own sys.exit
        assert e.code in (0, None), f"{name}: `{command}` exited with {e.code}"
    finally:
        sys.argv, sys.path[:], tempfile.tempdir = argv, syspath, tmp


def run_torchrun(args: list[str], name: str, command: str) -> None:
    """``torchrun ARGS``: the launcher in this process (saves an interpreter and torch's import), its workers in
    their own processes as always; the signal handlers and environment it sets are put back afterwards."""
    from torch.distributed.run import main as torchrun

    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)}
    env = dict(os.environ)
    try:
        torchrun(args)
    except Exception as e:  # ChildFailedError: a worker exited with an error
        raise AssertionError(f"{name}: `{command}` failed: {e}") from e
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
        os.environ.clear()
        os.environ.update(env)


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


_DONE: set[tuple[str, str, tuple[str, ...]]] = set()  # (directory, kind, argv) of the experiments and scripts run


def run_shell(code: str, name: str, exit_code: int = 0) -> list[str]:
    """Run the commands of a shell block that run (see the module docstring), its gankit commands expected to
    return ``exit_code``; returns the commands it did not run."""
    from gankit.cli import main

    skipped = []
    for command in shell_commands(code):
        kind, args = command_kind(command)
        key = (os.getcwd(), kind, tuple(args))
        if key in _DONE:
            continue  # the same lab experiment or script, already run on this page
        if kind == "gankit" and args[:2] == ["lab", "serve"]:
            run_server(args, name, command)
        elif kind == "gankit":
            try:
                rc = main(args)
            except SystemExit as e:  # argparse: an unknown option, a missing argument
                rc = e.code
            expected = f" (expected {exit_code})" if exit_code else ""
            assert rc == exit_code, f"{name}: `{command}` exited with {rc}{expected}"
        elif kind == "python-c":
            run_python(args[0], f"{name} (python -c)")
        elif kind == "script":
            run_script(args[0], args[1:], name, command)
        elif kind == "torchrun":
            run_torchrun(args, name, command)
        elif kind == "pytest":
            _subprocess(["-m", "pytest", "-p", "no:cacheprovider", *args], name, command)
        else:
            skipped.append(command)
            continue
        if kind == "script" or args[:1] == ["lab"]:
            _DONE.add(key)
    return skipped


ALL = [ex for page in PAGES for ex in examples(page)]
PAGE_DIRS: dict[Path, Path] = {}  # page -> its working folder (tests/docs/conftest.py::page_dir)


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


SHARED_DATA = ROOT.parent / "shared" / "data"
# The heaviest pages are tested by files of their own beside tests/docs/test_examples.py: a file is a job of its
# own for pytest-xdist (--dist loadfile), so the parts run side by side instead of one worker running every example
# while the other idles. A page stays whole (its examples share a folder and run in order).
SPLIT = {
    "test_examples_lab.py": {"lab.md", "lab-live.md", "gpu-and-clusters.md"},  # lab experiments, torchrun
    "test_examples_models.py": {"conditional.md", "taxonomy.md", "adapt.md"},  # trainings and scorings
}
HERE = [ex for ex in ALL if not any(ex.page.name in pages for pages in SPLIT.values())]


def examples_of(test_file: str) -> list[Example]:
    """The examples that the test file ``test_file`` (a key of ``SPLIT``) runs."""
    return [ex for ex in ALL if ex.page.name in SPLIT[Path(test_file).name]]


def check_example(ex: Example) -> None:
    """Run ``ex`` (in the page's folder, which the fixtures entered), or skip it with its reason."""
    if ex.skip:
        pytest.skip(ex.skip)
    if any("{root}/../shared/data" in new for _, new in ex.replacements) and not SHARED_DATA.is_dir():
        # the reference data lives beside the project, not in it (a clone elsewhere has none): as the other
        # tests that read it, skip rather than fail
        pytest.skip(f"reference data {SHARED_DATA} is not beside this clone")
    # a module of an optional extra, or a program (`needs espeak-ng`), as .ci/run installs them
    missing = [m for m in ex.needs if shutil.which(m) is None and ("-" in m or importlib.util.find_spec(m) is None)]
    if missing:  # as tests/train/test_loggers.py and tests/test_export.py: an optional extra not installed
        pytest.skip(f"needs {', '.join(missing)} (pip install -e '.[dev]' and the programs .ci/run installs)")
    if ex.lang == "python":
        run_python(ex.prepared(), ex.id)
        return
    assert runs(ex), f"{ex.id}: nothing in this block runs; add <!-- example: skip REASON --> above it"
    run_shell(ex.prepared(), ex.id, ex.exit_code)
