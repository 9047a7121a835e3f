"""Errors that reach the user: each carries its exit code and says where the problem is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as we can."""

    message: str
    file: Path | None = None
    target: str | None = None
    key: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = _brief_path(str(self.file)) + (f":{self.line}" if self.line else "")
        scope = []
        if self.target is not None:
            scope.append(f"target {self.target!r}")
        if self.key is not None:
            scope.append(f"key {self.key!r}")
        head = ": ".join(part for part in (where, ", ".join(scope)) if part)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


# A path longer than this is shown by its two ends: a message stays a few lines long.
MAX_PATH_SHOWN = 200


def _brief_path(path: str) -> str:
    if len(path) <= MAX_PATH_SHOWN:
        return path
    half = (MAX_PATH_SHOWN - 3) // 2
    return f"{path[:half]}...{path[-half:]}"


class BuildgraphError(Exception):
    """Base of every error the CLI turns into a message and an exit code."""

    exit_code = EXIT_BAD_INPUT


class ConfigError(BuildgraphError):
    """The project file, a Dockerfile it names, or the command line is wrong (exit 2)."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def one(
        cls,
        message: str,
        *,
        file: Path | None = None,
        target: str | None = None,
        key: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> ConfigError:
        return cls(Problem(message, file, target, key, line, hint))


class EnvironmentProblem(BuildgraphError):
    """Something the plan needs is missing from the machine (exit 3)."""

    exit_code = EXIT_ENVIRONMENT


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    import difflib  # only when something is wrong: not on every run's path

    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
