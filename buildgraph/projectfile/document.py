"""Finding and reading buildgraph.toml: TOML syntax, then the JSON Schema.

What comes out is the document as plain data plus where it came from; meaning (inheritance,
matrices, templates) is `resolve`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import tomli

from buildgraph.errors import ConfigError, Problem, did_you_mean
from buildgraph.model.names import TARGET_NAME_CHARACTERS, TARGET_NAME_RULE, is_target_name
from buildgraph.projectfile.locate import project_file_path


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


# -- schema errors ---------------------------------------------------------------------------
#
# fastjsonschema's validators, compiled from the schema ahead of time (buildgraph/validators),
# check thousands of targets in a few milliseconds. They stop at the first error of a call,
# so every target and group table is validated on its own: one problem per table, all at once.


def schema_problems(data: dict[str, Any], text: str, file: Path) -> Iterator[Problem]:
    """Every table's first schema violation, located and explained."""
    validators = _validators()
    checks: list[tuple[list[str], Any, Callable[[Any], Any]]] = [([], data, validators.document)]
    for section, validate in (("target", validators.target), ("group", validators.group)):
        tables = data.get(section)
        if isinstance(tables, dict):
            checks.extend(([section, name], table, validate) for name, table in tables.items())
    for prefix, value, validate in checks:
        try:
            validate(value)
        except Exception as exc:  # fastjsonschema.JsonSchemaValueException, imported lazily
            if not hasattr(exc, "rule"):
                raise
            yield _problem_of(exc, prefix, text, file)


@dataclass(frozen=True, slots=True)
class _Validators:
    document: Callable[[Any], Any]
    target: Callable[[Any], Any]
    group: Callable[[Any], Any]


@lru_cache(maxsize=1)
def _validators() -> _Validators:
    from buildgraph.projectfile.validators import document, group, target

    return _Validators(document.validate, target.validate, group.validate)


def _problem_of(error: Any, prefix: list[str], text: str, file: Path) -> Problem:
    path = prefix + [str(p) for p in error.path[1:]]  # error.path starts with "data"
    section = path[0] if path else None
    target = path[1] if len(path) >= 2 and section in ("target", "group") else None
    key = path[2] if target is not None and len(path) >= 3 else (path[-1] if path else None)
    definition = error.definition if isinstance(error.definition, dict) else {}
    if error.rule == "additionalProperties":
        allowed = list(definition.get("properties", {}))
        unknown = next((k for k in error.value if k not in allowed), "?")
        if target:
            where = f"in [{section}.{target}]"
        else:
            where = f"in [{'.'.join(path)}]" if path else "at the top level"
        return Problem(
            f"unknown key {unknown!r} {where}",
            file=file,
            target=target if section == "target" else None,
            key=unknown,
            line=locate_line(text, [*path, unknown]),
            hint=did_you_mean(unknown, allowed) or f"allowed keys: {', '.join(allowed)}",
        )
    if error.rule == "propertyNames" or (error.rule == "pattern" and len(path) == 1):
        bad = next((k for k in error.value if not is_target_name(str(k))), "?")
        return Problem(
            f"invalid name {bad!r}: {TARGET_NAME_RULE}",
            file=file,
            line=locate_line(text, [*path, str(bad)]),
            hint=f"bake's target name rule is {TARGET_NAME_CHARACTERS}",
        )
    return Problem(
        f"{_short(error.value)} is not valid here: {_expected(error, definition)}",
        file=file,
        target=target if section == "target" else None,
        key=key,
        line=locate_line(text, path),
        hint=_type_hint(error, definition),
    )


def _expected(error: Any, definition: dict[str, Any]) -> str:
    if error.rule == "type":
        types = definition.get("type")
        names = types if isinstance(types, list) else [types]
        return "expected " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in names)
    if error.rule == "anyOf":
        return 'expected a string like "type=registry" or a table like { type = "registry" }'
    if error.rule == "required":
        return f"missing {', '.join(repr(r) for r in definition.get('required', []))}"
    return str(error.message).replace("data.", "", 1).replace("data ", "", 1)


_TYPE_WORDS = {
    "array": "a list",
    "object": "a table",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _type_hint(error: Any, definition: dict[str, Any]) -> str | None:
    if error.rule == "type" and definition.get("type") == "array":
        return f"write a list: [{_short(error.value)}]"
    if error.rule == "type" and definition.get("type") == "string":
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

    A heuristic over the text (tomli keeps no positions): table headers and `key =` lines,
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
