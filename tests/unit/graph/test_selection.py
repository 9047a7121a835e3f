from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.graph.selection import expand_names
from buildgraph.model.project import Project
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/p/buildgraph.toml")


def project_of(toml: str) -> Project:
    return resolve_project(parse_document(toml, FILE), {}, {})


def test_groups_nested_thousands_deep_expand_without_recursion() -> None:
    depth = 5000
    tables = ['[target.app]\n[target.lib]\n[group.g0]\ntargets = ["g1", "lib"]\n']
    tables += [f'[group.g{i}]\ntargets = ["g{i + 1}"]\n' for i in range(1, depth)]
    tables.append(f'[group.g{depth}]\ntargets = ["app", "lib"]\n')  # a group cycle is refused
    project = project_of("".join(tables))
    assert expand_names(project, ["g0"]) == ["app", "lib"]


def test_order_is_depth_first_in_the_order_written() -> None:
    project = project_of(
        "[target.a]\n[target.b]\n[target.c]\n[target.d]\n"
        '[group.inner]\ntargets = ["c", "a"]\n'
        '[group.outer]\ntargets = ["d", "inner", "b", "a"]\n'
    )
    assert expand_names(project, ["outer", "b"]) == ["d", "c", "a", "b"]


def test_an_unknown_name_is_an_error_with_a_hint() -> None:
    project = project_of("[target.app]\n")
    with pytest.raises(ConfigError, match="no target or group named 'apq'") as caught:
        expand_names(project, ["apq"])
    assert caught.value.problems[0].hint == "did you mean 'app'?"
