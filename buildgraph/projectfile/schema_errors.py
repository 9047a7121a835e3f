"""The project file's schema violations, as problems a person can act on: where (file,
line, target, key), what was expected, and a hint.

fastjsonschema's validators, compiled from the schema ahead of time
(`projectfile/validators/`, written by scripts/generate_validators.py), check thousands of
targets in a few milliseconds. They stop at the first error of a call, so every target
and group table is validated on its own: one problem per table, all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from buildgraph.errors import Problem, did_you_mean
from buildgraph.model.names import TARGET_NAME_CHARACTERS, TARGET_NAME_RULE, is_target_name
from buildgraph.projectfile.lines import locate_line


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
