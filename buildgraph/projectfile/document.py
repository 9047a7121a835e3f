"""Reading buildgraph.toml: TOML syntax, then the JSON Schema (`schema_errors`).

What comes out is the document as plain data plus where it came from; meaning (inheritance,
matrices, templates) is `resolve`'s job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli

from buildgraph.errors import ConfigError, Problem
from buildgraph.projectfile.lines import locate_line
from buildgraph.projectfile.locate import project_file_path
from buildgraph.projectfile.schema_errors import schema_problems


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed, schema-valid project file."""

    path: Path  # absolute
    text: str
    data: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path.parent

    def line_of(self, *keys: str) -> int | None:
        return locate_line(self.text, keys)


def load_document(path: Path | None, cwd: Path | None = None) -> Document:
    """Read, parse and schema-check the project file (found upwards from cwd when None)."""
    file = project_file_path(path, cwd)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.one(
            "project file not found", file=file, hint="check the path given to -f"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError.one(f"cannot read the project file: {exc}", file=file) from None
    return parse_document(text, file)


def parse_document(text: str, file: Path) -> Document:
    # tomli rather than the standard library's tomllib, the same parser: its wheels are
    # compiled with mypyc and parse large project files about three times faster.
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(_syntax_problem(exc, text, file)) from None
    problems = list(schema_problems(data, text, file))
    if problems:
        raise ConfigError(*problems)
    return Document(file, text, data)


def _syntax_problem(exc: Exception, text: str, file: Path) -> Problem:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    line = int(match.group(1)) if match else None
    if "(at end of document)" in message:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    return Problem(
        f"TOML syntax error: {message}",
        file=file,
        line=line,
        hint='strings need quotes, tables are [target.NAME], lists are ["a", "b"]',
    )
