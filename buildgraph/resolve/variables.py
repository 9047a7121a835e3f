"""Variables: where each one's value comes from (file default < environment < --var),
and which environment variables a document reads (what the plan cache checks again)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.errors import Problem, did_you_mean
from buildgraph.resolve.templates import is_template

if TYPE_CHECKING:
    from buildgraph.projectfile.document import Document


def variable_env_name(name: str, spec: Any) -> str:
    """The environment variable that overrides a variable's default."""
    return str(spec.get("env", name)) if isinstance(spec, dict) else name


def environment_read(doc: Document) -> list[str]:
    """Every environment variable resolving this document reads (NAME, and NAME_JSON)."""
    names = [variable_env_name(n, s) for n, s in doc.data.get("variables", {}).items()]
    return [*names, *(f"{name}_JSON" for name in names)]


# strconv.ParseBool's spellings, which bake reads a boolean with.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def variable_type(spec: Any) -> str:
    """A variable's type: the one it declares, else its default's (bake's rule: a
    boolean default reads `false` from the environment as false, not as a string)."""
    if isinstance(spec, dict) and isinstance(spec.get("type"), str):
        return str(spec["type"])
    default = spec.get("default", "") if isinstance(spec, dict) else spec
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int | float):
        return "number"
    if isinstance(default, list):
        return "list"
    if isinstance(default, dict):
        return "map"
    return "string"


def parsed_value(text: str, kind: str) -> Any:
    """A value given as text (the environment, --var) as a value of `kind`, read as bake
    reads it: booleans as strconv.ParseBool, numbers as numbers, a list as one line of
    CSV, a map as CSV of KEY=VALUE. ValueError says why, never showing the text."""
    if kind == "bool":
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError("expected a boolean (true or false)")
    if kind == "number":
        if _INTEGER.fullmatch(text.strip()):
            return int(text)
        if _NUMBER.fullmatch(text.strip()):
            return float(text)
        raise ValueError("expected a number")
    if kind in ("list", "map"):
        import csv

        try:
            fields = next(csv.reader([text]), []) if text else []
        except csv.Error:
            raise ValueError(f"expected a {kind} as one line of CSV") from None
        if kind == "list":
            return [f.strip() for f in fields]
        pairs = [f.partition("=") for f in fields]
        if any(not sep or not key.strip() for key, sep, _ in pairs):
            raise ValueError("expected a map as CSV of KEY=VALUE")
        return {key.strip(): value.strip() for key, _, value in pairs}
    return text


def json_value(text: str, kind: str) -> Any:
    """A value given as JSON (NAME_JSON in the environment), checked against `kind`."""
    import json

    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError("expected JSON") from None
    expected = {"string": str, "bool": bool, "list": list, "map": dict}.get(kind)
    number = kind == "number" and isinstance(value, int | float) and not isinstance(value, bool)
    if not number and (expected is None or not isinstance(value, expected)):
        raise ValueError(f"expected a {kind} in JSON")
    return value


def variable_values(
    doc: Document, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Each variable's value (file default, then environment, then --var; last wins),
    read as its type; a problem for each --var naming no declared variable, each value
    its type cannot read (named, never shown: it may be a secret), and each validation
    whose condition does not hold."""
    problems: list[Problem] = []
    declared: dict[str, Any] = doc.data.get("variables", {})
    values: dict[str, Any] = {}

    def problem(name: str, message: str, hint: str | None = None) -> None:
        line = doc.line_of("variables", name)
        problems.append(Problem(message, file=doc.path, key=name, line=line, hint=hint))

    for name, spec in declared.items():
        value = spec.get("default", "") if isinstance(spec, dict) else spec
        kind = variable_type(spec)
        env_name = variable_env_name(name, spec)
        typed = isinstance(spec, dict) and "type" in spec
        given = _given(environ, env_name, name in overrides)
        if given is not None:
            where, text, as_json = given
            if kind in ("list", "map") and not typed:
                problem(
                    name,
                    f"variable {name} has a {kind} default and no type: {where} cannot set it",
                    hint=f'declare its type: {name} = {{ type = "{kind}", default = ... }}',
                )
                continue
            try:
                value = json_value(text, kind) if as_json else parsed_value(text, kind)
            except ValueError as exc:
                if not typed and not as_json:  # bake's dynamic typing: the text stays text
                    value = text
                else:
                    hint = _type_hint(kind)
                    problem(name, f"variable {name}, from {where}: {exc}", hint=hint)
                    continue
        values[name] = value
    for name, text in overrides.items():
        if name not in declared:
            problems.append(
                Problem(
                    f"--var {name}: no such variable",
                    file=doc.path,
                    key=name,
                    hint=did_you_mean(name, declared)
                    or f'declare it under [variables] first: {name} = "..."',
                )
            )
            values[name] = text
            continue
        kind = variable_type(declared[name])
        if kind in ("list", "map") and "type" not in declared[name]:
            problem(
                name,
                f"variable {name} has a {kind} default and no type: --var cannot set it",
                hint=f'declare its type: {name} = {{ type = "{kind}", default = ... }}',
            )
            continue
        try:
            values[name] = parsed_value(text, kind)
        except ValueError as exc:
            if not isinstance(declared[name], dict) or "type" not in declared[name]:
                values[name] = text  # untyped: as from the environment
            else:
                problem(name, f"variable {name}, from --var: {exc}", hint=_type_hint(kind))
    if not problems:
        templated = [
            name
            for name, spec in declared.items()
            if name not in overrides
            and _given(environ, variable_env_name(name, spec), False) is None
            and isinstance(values.get(name), str)
            and is_template(values[name])
        ]
        problems.extend(_render_defaults(doc, values, templated))
    if not problems:
        problems.extend(validation_problems(doc, declared, values))
    return values, problems


def _render_defaults(doc: Document, values: dict[str, Any], names: list[str]) -> list[Problem]:
    """Render the defaults that are templates (`IMAGE = "{{ REGISTRY }}/app"`, as a bake
    variable's default may read another), each once the variables it reads are: a
    default reading one still pending waits for it, and what never resolves is a cycle.
    Values from the environment or --var are never templates."""
    from buildgraph.resolve.template_values import TemplateProblem, printable
    from buildgraph.resolve.templates import template_value

    pending = list(names)
    failures: dict[str, TemplateProblem] = {}
    while pending:
        scope = with_functions(
            doc, {n: printable(v) for n, v in values.items() if n not in pending}
        )
        progressed = []
        for name in pending:
            try:
                values[name] = template_value(values[name], scope)
            except TemplateProblem as exc:
                failures[name] = exc
                continue
            progressed.append(name)
        if not progressed:
            break
        pending = [n for n in pending if n not in progressed]
    problems = []
    for name in pending:
        reads = [other for other in pending if other != name and other in values[name]]
        message = (
            f"variable {name}'s default reads {', '.join(reads)}, which reads it back"
            if reads
            else f"variable {name}'s default: {failures[name]}"
        )
        problems.append(
            Problem(
                message,
                file=doc.path,
                key=name,
                line=doc.line_of("variables", name),
                hint=failures[name].hint if not reads else "break the cycle",
            )
        )
    return problems


def _given(
    environ: Mapping[str, str], env_name: str, from_var: bool
) -> tuple[str, str, bool] | None:
    """(where from, text, whether JSON) of a value given from the environment; --var is
    read after. NAME_JSON wins over NAME, as in bake."""
    if from_var:
        return None
    if f"{env_name}_JSON" in environ:
        return f"the environment variable {env_name}_JSON", environ[f"{env_name}_JSON"], True
    if env_name in environ:
        return f"the environment variable {env_name}", environ[env_name], False
    return None


def _type_hint(kind: str) -> str:
    return {
        "bool": "true or false (also 1/0, t/f)",
        "number": "e.g. 8080 or 0.5",
        "list": "e.g. linux/amd64,linux/arm64, or JSON in NAME_JSON",
        "map": "e.g. team=web,tier=1, or JSON in NAME_JSON",
    }.get(kind, "")


_UNEVALUATED = object()


def with_functions(doc: Document, scope: dict[str, Any]) -> dict[str, Any]:
    """`scope` with the document's functions, which see it (`resolve/functions.py`)."""
    declared = doc.data.get("functions")
    if not declared:
        return scope
    from buildgraph.resolve.functions import bound_functions
    from buildgraph.resolve.templates import template_value

    return {**scope, **bound_functions(declared, scope, template_value)}


def validation_problems(
    doc: Document, declared: Mapping[str, Any], values: Mapping[str, Any]
) -> list[Problem]:
    """Each variable's `validation` whose condition (a template expression over every
    variable) is not true, with its message; checked before anything is planned."""
    from buildgraph.resolve.template_values import TemplateProblem, printable
    from buildgraph.resolve.templates import expression_value

    scope = with_functions(doc, {name: printable(value) for name, value in values.items()})
    problems = []
    for name, spec in declared.items():
        rules = spec.get("validation", []) if isinstance(spec, dict) else []
        for number, rule in enumerate(rules, start=1):
            condition, message = rule["condition"], rule["message"]
            try:
                verdict: Any = expression_value(f"({condition})", scope)
            except TemplateProblem as exc:
                verdict = _UNEVALUATED
                problems.append(
                    Problem(
                        f"variable {name}: validation {number}'s condition cannot be "
                        f"evaluated: {exc}",
                        file=doc.path,
                        key=name,
                        line=doc.line_of("variables", name),
                        hint="a condition is an expression, e.g. TAG != '' or PORT > 0",
                    )
                )
            if verdict is not _UNEVALUATED and verdict is not True:
                problems.append(
                    Problem(
                        f"variable {name}: {message}",
                        file=doc.path,
                        key=name,
                        line=doc.line_of("variables", name),
                        hint=f"its validation {number} wants: {condition}",
                    )
                )
    return problems


def variables_from_outside(
    doc: Document, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Each variable whose value comes from outside the file (the environment or --var),
    with where it comes from: such a value may be a secret, so errors name the variable,
    never its value."""
    declared: dict[str, Any] = doc.data.get("variables", {})
    outside: dict[str, str] = {}
    for name, spec in declared.items():
        env_name = variable_env_name(name, spec)
        for given in (env_name, f"{env_name}_JSON"):
            if given in environ:
                outside[name] = f"the environment variable {given}"
    for name in overrides:
        outside[name] = "--var"
    # A default made from such a value holds it too (`URL = "https://{{ TOKEN }}@..."`).
    defaults = {
        name: spec.get("default") if isinstance(spec, dict) else spec
        for name, spec in declared.items()
        if name not in outside
    }
    templated = {n: d for n, d in defaults.items() if isinstance(d, str) and is_template(d)}
    grew = True
    while grew:
        grew = False
        for name, default in templated.items():
            if name in outside:
                continue
            read = next((o for o in outside if re.search(rf"\b{re.escape(o)}\b", default)), None)
            if read is not None:
                outside[name] = f"a default made from {read} ({outside[read]})"
                grew = True
    return outside
