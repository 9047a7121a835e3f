"""Variables: where each one's value comes from (file default < environment < --var),
and which environment variables a document reads (what the plan cache checks again)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.errors import Problem, did_you_mean

if TYPE_CHECKING:
    from buildgraph.projectfile.document import Document


def variable_env_name(name: str, spec: Any) -> str:
    """The environment variable that overrides a variable's default."""
    return str(spec.get("env", name)) if isinstance(spec, dict) else name


def environment_read(doc: Document) -> list[str]:
    """Every environment variable resolving this document reads."""
    return [variable_env_name(n, s) for n, s in doc.data.get("variables", {}).items()]


def variable_values(
    doc: Document, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Each variable's value (file default, then environment, then --var; last wins),
    and a problem for each --var naming no declared variable."""
    problems: list[Problem] = []
    declared: dict[str, Any] = doc.data.get("variables", {})
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = spec.get("default", "") if isinstance(spec, dict) else spec
        env_name = variable_env_name(name, spec)
        if env_name in environ:
            value = environ[env_name]
        values[name] = value
    for name, value in overrides.items():
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
        values[name] = value
    return values, problems


def variables_from_outside(
    doc: Document, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Each variable whose value comes from outside the file (the environment or --var),
    with where it comes from: such a value may be a secret, so errors name the variable,
    never its value."""
    outside: dict[str, str] = {}
    for name, spec in doc.data.get("variables", {}).items():
        env_name = variable_env_name(name, spec)
        if env_name in environ:
            outside[name] = f"the environment variable {env_name}"
    for name in overrides:
        outside[name] = "--var"
    return outside
