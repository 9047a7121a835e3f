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


BROKEN_DEFAULT = """[target.api]
[target.worker]
[target._base]
[group.default]
targets = ["apl", "worker", "_base"]
[group.services]
targets = ["api", "worker"]
"""


def test_a_group_naming_no_target_is_refused_when_selected_naming_group_and_key() -> None:
    project = project_of(BROKEN_DEFAULT)
    with pytest.raises(ConfigError) as caught:
        expand_names(project, ["default"])
    unknown, abstract = caught.value.problems  # every broken member, at once
    assert unknown.message == "group 'default' names unknown target 'apl'"
    assert (unknown.file, unknown.key, unknown.hint) == (FILE, "targets", "did you mean 'api'?")
    assert abstract.message == "group 'default' names abstract target '_base'"
    assert abstract.hint is not None and "never built" in abstract.hint
    # Reached through another group, still named by the group that holds it.
    broken = project_of(BROKEN_DEFAULT + '[group.all]\ntargets = ["services", "default"]\n')
    with pytest.raises(ConfigError, match="group 'default' names unknown target 'apl'"):
        expand_names(broken, ["all"])


def test_a_broken_group_not_selected_leaves_the_rest_usable() -> None:
    project = project_of(BROKEN_DEFAULT)
    assert expand_names(project, ["services"]) == ["api", "worker"]
    assert expand_names(project, ["worker", "api"]) == ["worker", "api"]


def test_the_problem_gives_the_line_of_the_groups_targets(tmp_path: Path) -> None:
    file = tmp_path / "buildgraph.toml"
    file.write_text(BROKEN_DEFAULT)
    project = resolve_project(parse_document(BROKEN_DEFAULT, file), {}, {})
    with pytest.raises(ConfigError) as caught:
        expand_names(project, ["default"])
    assert {p.line for p in caught.value.problems} == {5}
    assert str(caught.value.problems[0]).startswith(f"{file}:5: key 'targets': group 'default'")


def test_every_command_but_those_selecting_the_group_works(tmp_path: Path) -> None:
    from buildgraph.cli.main import main

    (tmp_path / "buildgraph.toml").write_text(BROKEN_DEFAULT)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    file = str(tmp_path / "buildgraph.toml")
    assert main(["plan", "-f", file]) == 2  # no names: the default group
    assert main(["plan", "-f", file, "default"]) == 2
    assert main(["plan", "-f", file, "services"]) == 0
    assert main(["plan", "-f", file, "api"]) == 0
    assert main(["render", "-f", file, "worker", "-o", str(tmp_path / "b.json")]) == 0
    assert main(["validate", "-f", file]) == 0
