"""The project file's schema violations, as problems a person can act on: where (file,
line, target, key), what was expected, and a hint.

fastjsonschema's validators, compiled from the schema ahead of time
(`projectfile/validators/`, written by scripts/generate_validators.py), check thousands of
targets in a few milliseconds. They stop at the first error of a call, so every target
and group table is validated on its own: one problem per table, all at once (and every
unknown key of a table). A violation in `[variables]` is explained by looking at every
variable again, since the schema's `anyOf` does not say which part of one is wrong.

The schema cannot say "no nan, inf, date or time" or "not nested deeply", and neither JSON
nor bake has those: `value_problems` looks for them where they can hide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from buildgraph.errors import Problem, did_you_mean
from buildgraph.model.names import (
    TARGET_NAME_CHARACTERS,
    TARGET_NAME_RULE,
    VARIABLE_NAME_PATTERN,
    is_target_name,
)
from buildgraph.projectfile.lines import locate_line
from buildgraph.projectfile.schema import PLATFORM_PATTERN, WHOLE_EXPRESSION_PATTERN

# Values the schema leaves open (a target's `resources`) may nest no deeper than this.
MAX_OPEN_DEPTH = 16


def schema_problems(
    data: dict[str, Any], text: str, file: Path, non_finite: bool = False
) -> Iterator[Problem]:
    """Every table's first schema violation, located and explained; then the values JSON
    cannot hold (`non_finite`: the parser saw a nan or inf, so the whole document is
    searched for it)."""
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
            yield from _problems_of(exc, prefix, data, text, file)
    yield from value_problems(data, text, file, non_finite)


@dataclass(frozen=True, slots=True)
class _Validators:
    document: Callable[[Any], Any]
    target: Callable[[Any], Any]
    group: Callable[[Any], Any]


@lru_cache(maxsize=1)
def _validators() -> _Validators:
    from buildgraph.projectfile.validators import document, group, target

    return _Validators(document.validate, target.validate, group.validate)


def _problems_of(
    error: Any, prefix: list[str], data: dict[str, Any], text: str, file: Path
) -> Iterator[Problem]:
    path = prefix + [str(p) for p in error.path[1:]]  # error.path starts with "data"
    section = path[0] if path else None
    target = path[1] if len(path) >= 2 and section in ("target", "group") else None
    key = path[2] if target is not None and len(path) >= 3 else (path[-1] if path else None)
    definition = error.definition if isinstance(error.definition, dict) else {}
    if section == "variables" and isinstance(data.get("variables"), dict):
        found = _variable_problems(data["variables"], text, file)
        first = next(found, None)
        if first is not None:
            yield first
            yield from found
            return
    if error.rule == "additionalProperties" and isinstance(error.value, dict):
        allowed = list(definition.get("properties", {}))
        if target:
            where = f"in [{section}.{target}]"
        else:
            where = f"in [{'.'.join(path)}]" if path else "at the top level"
        unknown = [str(k) for k in error.value if k not in allowed] or ["?"]
        for name in unknown:
            yield _unknown_key(
                name, allowed, where, path, text, file, target if section == "target" else None
            )
        return
    if path[:2] == ["project", "runners"] and error.rule != "type":
        yield _runner_problem(error, path, text, file)
        return
    if error.rule == "propertyNames" or (error.rule == "pattern" and len(path) == 1):
        bad = next((k for k in error.value if not is_target_name(str(k))), "?")
        yield Problem(
            f"invalid name {_short(bad)}: {TARGET_NAME_RULE}",
            file=file,
            line=locate_line(text, [*path, str(bad)]),
            hint=f"bake's target name rule is {TARGET_NAME_CHARACTERS}",
        )
        return
    yield Problem(
        f"{_describe(error.value)} is not valid here: {_expected(error, definition)}",
        file=file,
        target=target if section == "target" else None,
        key=key,
        line=locate_line(text, path),
        hint=_date_hint(error.value) or _type_hint(error, definition),
    )


def _runner_problem(error: Any, path: list[str], text: str, file: Path) -> Problem:
    """A `[project.runners]` entry that is not platform = label(s)."""
    if error.rule == "propertyNames":
        bad = next((k for k in error.value if not re.match(PLATFORM_PATTERN, str(k))), "?")
        return Problem(
            f"[project.runners] key {_short(bad)} is not a platform",
            file=file,
            key="runners",
            line=locate_line(text, [*path, str(bad)]),
            hint='write os/arch or os/arch/variant: "linux/arm64" = "ubuntu-24.04-arm"',
        )
    return Problem(
        f"[project.runners] {_short(path[2] if len(path) > 2 else '?')}: "
        f"{_describe(error.value)} is not a runner label or a list of them",
        file=file,
        key="runners",
        line=locate_line(text, path),
        hint="a label is letters, digits, '.', '_' and '-' (ubuntu-24.04-arm), or a list "
        'of them for a self-hosted runner (["self-hosted", "ARM64"])',
    )


def _unknown_key(
    unknown: str,
    allowed: list[str],
    where: str,
    path: list[str],
    text: str,
    file: Path,
    target: str | None,
) -> Problem:
    return Problem(
        f"unknown key {_short(unknown)} {where}",
        file=file,
        target=target,
        key=unknown,
        line=locate_line(text, [*path, unknown]),
        hint=did_you_mean(unknown, allowed) or f"allowed keys: {', '.join(allowed)}",
    )


# What a variable may be, said in every problem with one.
VARIABLE_FORMS = (
    'a variable is a string, a number or true/false (TAG = "dev"), or a table of '
    'default, description and env (TAG = { default = "dev", env = "CI_TAG" })'
)
_VARIABLE_KEYS = ("default", "description", "env")
_VARIABLE_NAME = re.compile(VARIABLE_NAME_PATTERN)
_SCALARS = (str, int, float)  # bool is an int


def _variable_problems(variables: dict[str, Any], text: str, file: Path) -> Iterator[Problem]:
    """Every bad variable of `[variables]`, each problem saying what a variable may be."""
    for name, value in variables.items():
        path = ["variables", str(name)]
        line = locate_line(text, path)
        if not _VARIABLE_NAME.match(str(name)):
            yield Problem(
                f"invalid variable name {_short(name)}: a variable's name is letters, digits "
                "and '_', and does not start with a digit",
                file=file,
                key=str(name),
                line=line,
                hint="it is also the name of the environment variable that sets it",
            )
            continue
        if isinstance(value, _SCALARS):
            continue
        if not isinstance(value, dict):
            yield Problem(
                f"{_describe(value)} is not valid here: {VARIABLE_FORMS}",
                file=file,
                key=str(name),
                line=line,
                hint=_date_hint(value) or "a list is not a variable: join it into a string",
            )
            continue
        where = f"in [variables.{name}]"
        for sub, item in value.items():
            sub_line = locate_line(text, [*path, str(sub)])
            if sub not in _VARIABLE_KEYS:
                yield Problem(
                    f"unknown key {_short(sub)} {where}: {VARIABLE_FORMS}",
                    file=file,
                    key=f"{name}.{sub}",
                    line=sub_line,
                    hint=did_you_mean(str(sub), _VARIABLE_KEYS)
                    or f"allowed keys: {', '.join(_VARIABLE_KEYS)}",
                )
            elif sub == "default" and not isinstance(item, _SCALARS):
                yield Problem(
                    f"{_describe(item)} is not valid here: a variable's default is a string, "
                    "a number or true/false",
                    file=file,
                    key=f"{name}.default",
                    line=sub_line,
                    hint=_date_hint(item) or "quote the value",
                )
            elif sub == "description" and not isinstance(item, str):
                yield Problem(
                    f"{_describe(item)} is not valid here: a description is a string",
                    file=file,
                    key=f"{name}.description",
                    line=sub_line,
                    hint="quote the value",
                )
            elif sub == "env" and not (isinstance(item, str) and _VARIABLE_NAME.match(item)):
                yield Problem(
                    f"{_describe(item)} is not valid here: env names an environment variable "
                    "(letters, digits and '_', not starting with a digit)",
                    file=file,
                    key=f"{name}.env",
                    line=sub_line,
                    hint='e.g. env = "CI_TAG"',
                )


def value_problems(
    data: dict[str, Any], text: str, file: Path, non_finite: bool
) -> Iterator[Problem]:
    """What the schema cannot say: no TOML date or time, nan or inf, and no deep nesting
    where the schema leaves a value open. Looked for only where they can hide: in each
    target's `resources` (one look-up per target), and in the whole document once the
    parser saw a nan or inf."""
    roots: list[tuple[list[str], Any]] = []
    if non_finite:
        roots.append(([], data))
    tables = data.get("target")
    if isinstance(tables, dict):
        for name, table in tables.items():
            if isinstance(table, dict) and "resources" in table:
                roots.append((["target", str(name), "resources"], table["resources"]))
    reported: set[tuple[str, ...]] = set()
    for root, value in roots:
        found = _odd_value(root, value)
        if found is None or tuple(found[0]) in reported:
            continue
        path, message, hint = found
        reported.add(tuple(path))
        target = path[1] if len(path) >= 2 and path[0] == "target" else None
        key = ".".join(path[2:] if target is not None else path) or None
        yield Problem(
            message, file=file, target=target, key=key, line=locate_line(text, path), hint=hint
        )


def _odd_value(root: list[str], value: Any) -> tuple[list[str], str, str] | None:
    """The first value under `root` that JSON cannot hold, or that nests too deeply in an
    open value: its path, the message and a hint. Iterative: no depth overflows it."""
    import datetime
    import math

    open_value = bool(root) and root[-1] == "resources"
    stack: list[tuple[list[str], Any, int]] = [(root, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[tuple[str, Any]] = [(str(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(str(i), v) for i, v in enumerate(item)]
        elif isinstance(item, float) and not math.isfinite(item):
            return (
                path,
                f"{item} is not valid here: JSON, and so bake, has no nan or inf",
                "write a finite number, or quote it to make it a string",
            )
        elif isinstance(item, (datetime.date, datetime.time)):
            return path, f"{_describe(item)} is not valid here", _date_hint(item) or ""
        else:
            continue
        if open_value and depth >= MAX_OPEN_DEPTH:
            return (
                root,
                f"the value is nested more than {MAX_OPEN_DEPTH} levels deep",
                "resources are a table a few levels deep",
            )
        stack.extend(([*path, k], v, depth + 1) for k, v in reversed(children))
    return None


def _expected(error: Any, definition: dict[str, Any]) -> str:
    whole = definition.get("pattern") == WHOLE_EXPRESSION_PATTERN
    if whole and error.rule in ("type", "pattern"):
        # A value of its own kind, or text that is one whole expression yielding one.
        types = definition.get("type")
        kinds = [t for t in (types if isinstance(types, list) else [types]) if t != "string"]
        kind = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in kinds) or "a value"
        return f"expected {kind}, or as text one whole {{{{ expression }}}} yielding it"
    if error.rule == "type":
        types = definition.get("type")
        names = types if isinstance(types, list) else [types]
        return "expected " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in names)
    if error.rule == "anyOf":
        return 'expected a string like "type=registry" or a table like { type = "registry" }'
    if error.rule == "required":
        return f"missing {', '.join(repr(r) for r in definition.get('required', []))}"
    return _clip(str(error.message).replace("data.", "", 1).replace("data ", "", 1), 200)


_TYPE_WORDS = {
    "array": "a list",
    "object": "a table",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _type_hint(error: Any, definition: dict[str, Any]) -> str | None:
    if error.rule == "pattern" and definition.get("pattern") == WHOLE_EXPRESSION_PATTERN:
        return 'e.g. platforms = "{{ PLATFORMS }}", or write the value itself: a list or table'
    if error.rule == "type" and definition.get("type") == "array":
        return f"write a list: [{_describe(error.value)}]"
    if error.rule == "type" and definition.get("type") == "string":
        return "quote the value"
    return None


def _date_hint(value: Any) -> str | None:
    import datetime

    if isinstance(value, (datetime.date, datetime.time)):
        return f'TOML reads an unquoted date as a date: write "{value.isoformat()}"'
    return None


def _describe(value: Any) -> str:
    """The value as the user wrote it, briefly: TOML dates by name, anything else short."""
    import datetime

    if isinstance(value, (datetime.date, datetime.time)):
        return f"the TOML date or time {value.isoformat()}"
    return _short(value)


def _short(value: Any) -> str:
    """A bounded repr: a value nested to any depth, or of any size, costs 60 characters."""
    import reprlib

    brief = reprlib.Repr()
    brief.maxlevel = 3
    brief.maxstring = brief.maxother = 60
    return _clip(brief.repr(value), 60)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
