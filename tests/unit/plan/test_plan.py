from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import OutputMode, make_plan
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/p/buildgraph.toml")


def plan_of(toml: str):  # type: ignore[no-untyped-def]
    project = resolve_project(parse_document(toml, FILE), {}, {})
    return make_plan(build_graph(project, {}))


def test_a_line_break_in_an_entry_is_an_error_naming_target_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_of(
            "[target.app]\n"
            'output = ["type=registry,name=a\\nb"]\n'
            'secret = ["id=token,src=/run/s3\\nkr1t"]\n'
            "[target.ok]\n"
            'output = ["type=registry,name=a"]\n'
        )
    problems = caught.value.problems
    assert [(p.target, p.key) for p in problems] == [("app", "output"), ("app", "secret")]
    assert all("line break" in p.message and "kr1t" not in str(p) for p in problems)


def test_two_targets_pushing_one_tag_are_refused_naming_both() -> None:
    toml = (
        '[target.a]\ntags = ["registry.example/app:1"]\n'
        '[target.b]\ntags = ["registry.example/app:1", "registry.example/b:1"]\n'
    )
    project = resolve_project(parse_document(toml, FILE), {}, {})
    graph = build_graph(project, {})
    with pytest.raises(ConfigError) as caught:
        make_plan(graph, mode=OutputMode.PUSH)
    [problem] = caught.value.problems
    assert (problem.target, problem.key) == ("b", "tags")
    assert "'a' and 'b' both push 'registry.example/app:1'" in problem.message
    # Without a push bake builds both, and so does the plan.
    assert len(make_plan(graph).targets) == 2
    assert len(make_plan(graph, mode=OutputMode.LOAD).targets) == 2


def test_a_matrix_whose_combinations_push_one_tag_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"both push 'docker\.io/acme/app:latest'") as caught:
        plan_of(
            '[target.app]\nmatrix = { py = ["311", "312"] }\nname = "app-{{ py }}"\n'
            'tags = ["acme/app"]\noutput = ["type=registry"]\n'
        )
    assert caught.value.problems[0].target == "app"
    plan_of(  # each combination its own tag: fine
        '[target.app]\nmatrix = { py = ["311", "312"] }\nname = "app-{{ py }}"\n'
        'tags = ["acme/app:{{ py }}"]\noutput = ["type=registry"]\n'
    )


def test_an_output_name_counts_as_what_is_pushed() -> None:
    with pytest.raises(ConfigError, match=r"both push 'docker\.io/acme/x:1'"):
        plan_of(
            '[target.a]\noutput = ["type=image,push=true,\\"name=acme/x:1,acme/y\\""]\n'
            '[target.b]\ntags = ["docker.io/acme/x:1"]\noutput = ["type=registry"]\n'
        )
    plan_of(  # the same tag, pushed by one of them only
        '[target.a]\ntags = ["acme/x:1"]\noutput = ["type=docker"]\n'
        '[target.b]\ntags = ["acme/x:1"]\noutput = ["type=registry"]\n'
    )
