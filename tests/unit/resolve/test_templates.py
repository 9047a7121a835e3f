"""Templates under hostile input: every failure is a ConfigError naming file, target and
key (never a traceback), and no template may run long or grow large."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.model.project import Project
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/project/buildgraph.toml")


def resolve(toml: str, env: dict[str, str] | None = None) -> Project:
    return resolve_project(parse_document(toml, FILE), {}, env or {})


def refused(template: str) -> ConfigError:
    """The error of a target whose one tag is `template`."""
    with pytest.raises(ConfigError) as info:
        resolve(f"[target.app]\ntags = [{json.dumps(template)}]\n")
    return info.value


@pytest.mark.parametrize(
    "template",
    [
        "{{ {'a': 1} | dictsort(by='x') }}",
        "{{ 'abc' | truncate(-1) }}",
        "{{ cycler() }}",
        "{{ [1] | map('nope') | list }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    ],
)
def test_a_template_that_fails_at_run_time_is_an_error_naming_file_target_and_key(
    template: str,
) -> None:
    error = refused(template)
    (problem,) = error.problems
    assert (problem.file, problem.target, problem.key) == (FILE, "app", "tags")
    assert "failed" in problem.message or "syntax" in problem.message
