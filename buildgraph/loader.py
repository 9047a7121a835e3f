"""Finding and reading buildgraph.toml: TOML syntax, then the JSON Schema.

What comes out is the document as plain data plus where it came from; meaning (inheritance,
matrices, templates) is `resolve`'s job.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildgraph.errors import ConfigError, Problem, did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_FILE = "buildgraph.toml"


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


def find_project_file(start: Path) -> Path:
    """The nearest buildgraph.toml in `start` or its parents, as git finds .git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError.one(
        f"no {PROJECT_FILE} in {start} or any parent directory",
        hint="create one, or name it with -f FILE (see `buildgraph schema` for its format)",
    )


def load_document(path: Path | None, cwd: Path | None = None) -> Document:
    """Read, parse and schema-check the project file (found upwards from cwd when None)."""
    file = find_project_file(cwd or Path.cwd()) if path is None else (cwd or Path.cwd()) / path
    file = file.resolve()
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
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
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


# -- schema errors ---------------------------------------------------------------------------


def schema_problems(data: dict[str, Any], text: str, file: Path) -> Iterator[Problem]:
    """Every schema violation of the document, each located and explained."""
    # Imported here: jsonschema costs ~40 ms at import, and most runs are valid files.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(_compiled_schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        if error.context:
            error = best_match(error.context)
        yield _problem_of(error, data, text, file)


_SCHEMA_CACHE: list[dict[str, Any]] = []


def _compiled_schema() -> dict[str, Any]:
    if not _SCHEMA_CACHE:
        from buildgraph.schema import project_schema

        _SCHEMA_CACHE.append(project_schema())
    return _SCHEMA_CACHE[0]


def _problem_of(error: Any, data: dict[str, Any], text: str, file: Path) -> Problem:
    path = [str(p) for p in error.path]
    target = path[1] if len(path) >= 2 and path[0] in ("target", "group") else None
    section = path[0] if path else None
    key = path[2] if target is not None and len(path) >= 3 else (path[-1] if path else None)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        unknown = extras[0] if extras else "?"
        keys = [*path, unknown]
        where = (
            f"in [{section}.{target}]"
            if target
            else (f"in [{'.'.join(path)}]" if path else "at the top level")
        )
        return Problem(
            f"unknown key {unknown!r} {where}",
            file=file,
            target=target if section == "target" else None,
            key=unknown,
            line=locate_line(text, keys),
            hint=did_you_mean(unknown, allowed) or f"allowed keys: {', '.join(allowed)}",
        )
    if "propertyNames" in error.schema_path:
        return Problem(
            f"invalid name {error.instance!r}: names may hold only letters, digits, '_' and '-'",
            file=file,
            line=locate_line(text, [*path, str(error.instance)]),
            hint="bake's target name rule is [a-zA-Z0-9_-]+",
        )
    expected = _expected_type(error)
    return Problem(
        f"{_short(error.instance)} is not valid here: {expected}",
        file=file,
        target=target if section == "target" else None,
        key=key,
        line=locate_line(text, path),
        hint=_type_hint(error),
    )


def _expected_type(error: Any) -> str:
    if error.validator == "type":
        types = error.validator_value
        names = types if isinstance(types, list) else [types]
        return "expected " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in names)
    if error.validator == "required":
        return str(error.message)
    return str(error.message)


_TYPE_WORDS = {
    "array": "a list",
    "object": "a table",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _type_hint(error: Any) -> str | None:
    if error.validator == "type" and error.validator_value == "array":
        return f"write a list: [{_short(error.instance)}]"
    if error.validator == "type" and error.validator_value == "string":
        return "quote the value"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- line numbers ----------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def locate_line(text: str, keys: Sequence[str]) -> int | None:
    """The 1-based line where the deepest known prefix of `keys` is written, if any.

    A heuristic over the text (tomllib keeps no positions): table headers and `key =` lines,
    which covers how project files are written in practice.
    """
    wanted = list(keys)
    best: tuple[int, int] | None = None  # (depth matched, line)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            table = _split_dotted(header.group(1))
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = table + _split_dotted(key.group(1))
        depth = _common_prefix(path, wanted)
        if depth == len(path) and depth > 0 and (best is None or depth > best[0]):
            best = (depth, number)
    return best[1] if best else None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
