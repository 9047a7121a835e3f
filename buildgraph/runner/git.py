"""Asking git what changed."""

from __future__ import annotations

from pathlib import Path

from buildgraph.errors import ConfigError, EnvironmentProblem
from buildgraph.runner.process import run_captured


def changed_since(ref: str, cwd: Path) -> list[Path]:
    """Files that differ from `ref` in the work tree (committed or not), and untracked ones."""
    top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    verify = run_captured(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=cwd, timeout=None
    )
    if verify.code != 0:
        raise ConfigError.one(
            f"--since {ref!r} is not a commit git knows",
            hint="give a branch, tag or commit, e.g. --since origin/main",
        )
    names = _git(["diff", "--name-only", "-z", ref, "--"], cwd).split("\0")
    names += _git(["ls-files", "--others", "--exclude-standard", "-z"], Path(top)).split("\0")
    return sorted({Path(top) / n for n in names if n})


def _git(args: list[str], cwd: Path) -> str:
    # No timeout: git answers from the local repository, however large it is.
    done = run_captured(["git", *args], cwd=cwd, timeout=None)
    if not done.ran:
        raise EnvironmentProblem(f"git is not available: {done.stderr}")
    if done.code != 0:
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
