"""The one module that starts processes: nothing else in buildgraph imports subprocess, and
its short captured commands say why they did not run."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from buildgraph.errors import EnvironmentProblem
from buildgraph.runner.git import changed_since
from buildgraph.runner.process import Running, run_captured

PACKAGE = Path(__file__).resolve().parents[3] / "buildgraph"


def imports_subprocess(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "subprocess" for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "subprocess":
            return True
    return False


def test_only_runner_process_imports_subprocess() -> None:
    importers = {
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if imports_subprocess(path)
    }
    assert importers == {"buildgraph/runner/process.py"}


def test_a_short_command_gives_its_code_and_both_outputs() -> None:
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    done = run_captured([sys.executable, "-c", code], timeout=30)
    assert (done.code, done.stdout, done.stderr, done.ran) == (3, "out\n", "err\n", True)


def test_a_command_that_cannot_start_or_overruns_did_not_run() -> None:
    missing = run_captured(["/nonexistent/buildgraph-test"], timeout=30)
    assert (missing.code, missing.ran) == (1, False) and "No such file" in missing.stderr
    slow = run_captured([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.2)
    assert (slow.code, slow.ran) == (1, False) and "timed out" in slow.stderr


def test_git_that_is_not_there_is_an_environment_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match=r"git is not available: .*No such file"):
        changed_since("HEAD", tmp_path)


def test_stopping_a_child_waiting_to_be_fed_ends_its_input_first(tmp_path: Path) -> None:
    """As buildx waiting for its definition: it ignores SIGINT and SIGTERM, but exits at
    the end of its input, cleanly (killed, it would exit -9, after both grace periods)."""
    waits_for_input = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "sys.exit(0 if sys.stdin.read() == '' else 1)\n"
    )
    log = tmp_path / "child.log"
    child = Running([sys.executable, "-c", waits_for_input], tmp_path, log, feed_later=True)
    while "ready" not in log.read_text():
        assert child.poll() is None
    child.stop()
    assert child.wait() == 0
