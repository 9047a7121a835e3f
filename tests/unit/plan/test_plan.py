from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import (
    FOR_DEPENDENTS_ONLY,
    OutputMode,
    exported_unasked,
    make_plan,
    read_back_note,
)
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


CHAIN = """
[target.base]
tags = ["example.test/base:1"]
output = ["type=local,dest=dist"]
[target.app]
dockerfile-inline = "FROM example.test/base:1\\n"
tags = ["example.test/app:1"]
[target.lib]
tags = ["example.test/lib:1"]
[target.e2e]
depends_on = ["lib", "app"]
output = ["type=cacheonly"]
"""


def chain_plan(names: tuple[str, ...], mode: OutputMode = OutputMode.DEFAULT):  # type: ignore[no-untyped-def]
    from buildgraph.dockerfiles.dockerfile import parse_dockerfile

    project = resolve_project(parse_document(CHAIN, FILE), {}, {})
    dockerfiles = {"app": parse_dockerfile("FROM example.test/base:1\n")}
    return make_plan(build_graph(project, dockerfiles), names, mode)


@pytest.mark.parametrize("mode", list(OutputMode))
def test_a_dependency_nobody_asked_for_is_built_cache_only_as_bake_builds_it(
    mode: OutputMode,
) -> None:
    # base is reached only through app's FROM (a target: link): bake builds it cacheonly,
    # its own output and --push/--load left to what was asked for.
    the_plan = chain_plan(("app",), mode)
    base, app = the_plan["base"], the_plan["app"]
    assert not base.requested and base.outputs == FOR_DEPENDENTS_ONLY
    assert base.output.startswith("build cache only: not asked for")
    assert (
        app.outputs
        == {
            OutputMode.DEFAULT: (),
            OutputMode.PUSH: ("type=registry",),
            OutputMode.LOAD: ("type=docker",),
        }[mode]
    )
    assert exported_unasked(the_plan) == {}


def test_a_dependency_asked_for_too_keeps_its_own_output() -> None:
    the_plan = chain_plan(("app", "base"), OutputMode.PUSH)
    assert the_plan["base"].outputs == ("type=local,dest=dist",)


def test_a_dependency_read_back_through_depends_on_is_exported_and_said_so() -> None:
    # e2e needs lib and app through depends_on only: a later bake run, which can read them
    # only from where they are exported; base still reaches app through its link.
    the_plan = chain_plan(("e2e",), OutputMode.PUSH)
    assert [p.bake_run for p in the_plan.targets] == [1, 1, 1, 2]
    assert the_plan["lib"].outputs == ("type=registry",)
    assert the_plan["app"].outputs == ("type=registry",)
    assert the_plan["base"].outputs == FOR_DEPENDENTS_ONLY
    assert exported_unasked(the_plan) == {"lib": ("e2e",), "app": ("e2e",)}
    assert read_back_note("lib", ("e2e",)) == (
        "lib is exported though not asked for: e2e needs it through depends_on, which bake "
        "cannot see (no target: link), so it reads it back from the registry or image store"
    )
