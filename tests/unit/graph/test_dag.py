from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.dockerfiles.dockerfile import parse_dockerfile
from buildgraph.errors import ConfigError
from buildgraph.graph.dag import EdgeKind, build_graph
from buildgraph.graph.selection import select
from buildgraph.model.image_refs import familiar_ref
from buildgraph.model.project import Project
from buildgraph.plan.plan import make_plan
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/p/buildgraph.toml")


def project_of(toml: str) -> Project:
    return resolve_project(parse_document(toml, FILE), {}, {})


def graph_of(toml: str, dockerfiles: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    project = project_of(toml)
    infos = {
        name: parse_dockerfile(text, dict(project.targets[name].args))
        for name, text in (dockerfiles or {}).items()
    }
    return build_graph(project, infos)


def test_edges_from_depends_on_contexts_and_dockerfiles() -> None:
    graph = graph_of(
        """
[target.base]
tags = ["localhost:5000/acme/base:dev"]
[target.lib]
[target.app]
depends_on = ["lib"]
contexts = { assets = "target:assets" }
[target.assets]
""",
        {"app": "ARG TAG=dev\nFROM localhost:5000/acme/base:${TAG}\nCOPY --from=assets / /\n"},
    )
    assert graph.edges[("lib", "app")].kinds == {EdgeKind.DEPENDS_ON}
    assert graph.edges[("assets", "app")].kinds == {EdgeKind.CONTEXT}
    edge = graph.edges[("base", "app")]
    assert edge.kinds == {EdgeKind.DOCKERFILE}
    assert edge.refs == ("localhost:5000/acme/base:dev",)
    assert edge.linked and not graph.edges[("lib", "app")].linked


def test_docker_hub_refs_match_in_any_spelling() -> None:
    graph = graph_of(
        '[target.base]\ntags = ["acme/base"]\n[target.app]\n',
        {"app": "FROM docker.io/acme/base:latest\n"},
    )
    assert graph.edges[("base", "app")].refs == ("acme/base",)
    assert familiar_ref("docker.io/library/alpine:latest") == "alpine"
    assert familiar_ref("localhost:5000/x/y:1") == "localhost:5000/x/y:1"


def test_a_tag_produced_twice_and_used_is_an_error() -> None:
    with pytest.raises(ConfigError, match="produced by 2 targets"):
        graph_of(
            '[target.a]\ntags=["x:1"]\n[target.b]\ntags=["x:1"]\n[target.c]\n', {"c": "FROM x:1\n"}
        )


def test_cycle_through_an_inferred_edge_prints_the_cycle() -> None:
    with pytest.raises(ConfigError) as info:
        graph_of('[target.a]\ntags=["a:1"]\ndepends_on=["b"]\n[target.b]\n', {"b": "FROM a:1\n"})
    text = str(info.value)
    assert "dependency cycle" in text and "Dockerfile" in text and "depends_on" in text


def test_selecting_a_group_selects_what_it_needs() -> None:
    graph = graph_of("""
[target.base]
[target.api]
depends_on = ["base"]
[target.other]
[group.g]
targets = ["api"]
""")
    selection = select(graph, ["g"])
    assert selection.requested == ("api",)
    assert selection.targets == ("base", "api")
    assert selection.needed_by["base"] == ("api",)


def test_platform_subset_rule_for_target_links() -> None:
    graph = graph_of("""
[target.dep]
platforms = ["linux/amd64", "linux/arm64"]
[target.app]
platforms = ["linux/amd64", "linux/riscv64"]
contexts = { d = "target:dep" }
""")
    with pytest.raises(ConfigError, match="build 'dep' for linux/riscv64"):
        make_plan(graph, ["app"])


@st.composite
def dag_projects(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 12))
    lines = []
    for i in range(count):
        deps = draw(st.lists(st.integers(0, max(i - 1, 0)), max_size=3, unique=True)) if i else []
        lines.append(f"[target.t{i}]")
        if deps:
            lines.append("depends_on = [" + ", ".join(f'"t{d}"' for d in deps) + "]")
        if draw(st.booleans()):
            lines.append(
                f'contexts = {{ c = "target:t{draw(st.integers(0, i - 1))}" }}' if i else ""
            )
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(toml=dag_projects(), data=st.data())
def test_every_plan_is_a_topological_order(toml: str, data: st.DataObject) -> None:
    graph = graph_of(toml)
    names = list(graph.project.targets)
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    plan = make_plan(graph, chosen)
    position = {p.name: i for i, p in enumerate(plan.targets)}
    assert set(chosen) <= set(position)
    for planned in plan.targets:
        for dep in graph.needs[planned.name]:
            assert dep in position, "a planned target's dependency is missing"
            assert position[dep] < position[planned.name]
            assert plan[dep].wave < planned.wave
            edge = graph.edges[(dep, planned.name)]
            # bake runs: a dependency bake cannot see is always in an earlier run
            assert plan[dep].bake_run <= planned.bake_run
            if not edge.linked:
                assert plan[dep].bake_run < planned.bake_run


@settings(max_examples=40, deadline=None)
@given(toml=dag_projects())
def test_kept_adjacency_is_the_dags(toml: str) -> None:
    graph = graph_of(toml)
    for name in graph.project.targets:
        assert graph.needs[name] == tuple(graph.dag.predecessors(name))
        assert graph.needed_by[name] == tuple(graph.dag.successors(name))


@st.composite
def shuffled_dag_projects(draw: st.DrawFn) -> str:
    """A DAG whose targets the file declares in any order, dependents often first."""
    count = draw(st.integers(1, 14))
    ranks = draw(st.permutations(range(count)))  # t<rank> is declared at file position i
    lines = []
    for i in range(count):
        rank = ranks[i]
        deps = draw(st.lists(st.integers(0, rank - 1), max_size=3, unique=True)) if rank else []
        lines.append(f"[target.t{rank}]")
        if deps:
            lines.append("depends_on = [" + ", ".join(f'"t{d}"' for d in deps) + "]")
    return "\n".join(lines) + "\n"


@settings(max_examples=80, deadline=None)
@given(toml=shuffled_dag_projects())
def test_order_is_networkx_lexicographic_order_by_file_position(toml: str) -> None:
    import networkx as nx

    graph = graph_of(toml)
    position = {name: i for i, name in enumerate(graph.project.targets)}
    expected = nx.lexicographical_topological_sort(graph.dag, key=position.__getitem__)
    assert graph.order == tuple(expected)


def test_order_puts_a_dependency_declared_later_first() -> None:
    graph = graph_of('[target.app]\ndepends_on = ["base"]\n[target.tool]\n[target.base]\n')
    assert graph.order == ("tool", "base", "app")


def test_planning_and_rendering_do_not_import_networkx(tmp_path: Path) -> None:
    # networkx's import alone costs more than planning thousands of targets; it is for
    # analysis (cycle reports, BuildGraph.dag), loaded on first use.
    import subprocess
    import sys

    (tmp_path / "buildgraph.toml").write_text(
        '[target.base]\ndockerfile-inline = "FROM scratch"\n'
        '[target.app]\ndepends_on = ["base"]\ndockerfile-inline = "FROM scratch"\n'
    )
    code = (
        "import sys\n"
        "from buildgraph.cli.main import main\n"
        "for command in (['plan'], ['render', '--format', 'bake'], ['validate']):\n"
        "    assert main(command) == 0\n"
        "assert 'networkx' not in sys.modules, 'networkx was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_dag_view_is_networkx_with_the_same_edges() -> None:
    graph = graph_of('[target.base]\n[target.app]\ndepends_on = ["base"]\n')
    assert list(graph.dag.nodes) == ["base", "app"]
    assert list(graph.dag.edges) == [("base", "app")]
