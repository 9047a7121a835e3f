"""Asking git what changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from buildgraph.errors import ConfigError, EnvironmentProblem


def changed_since(ref: str, cwd: Path) -> list[Path]:
    """Files that differ from `ref` in the work tree (committed or not), and untracked ones."""
    top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    verify = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if verify.returncode != 0:
        raise ConfigError.one(
            f"--since {ref!r} is not a commit git knows",
            hint="give a branch, tag or commit, e.g. --since origin/main",
        )
    names = _git(["diff", "--name-only", "-z", ref, "--"], cwd).split("\0")
    names += _git(["ls-files", "--others", "--exclude-standard", "-z"], Path(top)).split("\0")
    return sorted({Path(top) / n for n in names if n})


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except OSError as exc:
        raise EnvironmentProblem(f"git is not available: {exc}") from None
    if done.returncode != 0:
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout
