"""`--shard K/N`: every selected target in exactly one shard, families whole, the same
shares on every machine, balanced within one family."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.errors import ConfigError
from buildgraph.graph.dag import BuildGraph, build_graph
from buildgraph.graph.shards import ShardSpec, families, packed_shards, parse_shard, shard_of
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/p/buildgraph.toml")


def graph_of(toml: str) -> BuildGraph:
    return build_graph(resolve_project(parse_document(toml, FILE), {}, {}), {})


@st.composite
def dags(draw: st.DrawFn) -> tuple[BuildGraph, list[str]]:
    """A random DAG (edges only from earlier to later targets) and a random selection."""
    count = draw(st.integers(1, 14))
    lines = []
    for i in range(count):
        deps = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        needs = ", ".join(f'"t{d}"' for d in sorted(deps))
        lines.append(f"[target.t{i}]\ndepends_on = [{needs}]\n")
    graph = graph_of("".join(lines))
    selected = draw(st.lists(st.sampled_from(graph.order), unique=True))
    return graph, selected


def connected_among(graph: BuildGraph, selected: list[str], a: str, b: str) -> bool:
    chosen = set(selected)
    seen, stack = {a}, [a]
    while stack:
        name = stack.pop()
        for other in (*graph.needs[name], *graph.needed_by[name]):
            if other in chosen and other not in seen:
                seen.add(other)
                stack.append(other)
    return b in seen


@settings(max_examples=150, deadline=None)
@given(case=dags(), count=st.integers(1, 6))
def test_every_selected_target_is_in_exactly_one_shard(
    case: tuple[BuildGraph, list[str]], count: int
) -> None:
    graph, selected = case
    shards = packed_shards(graph, selected, count)
    assert len(shards) == count
    held = [name for shard in shards for name in shard.targets]
    assert sorted(held) == sorted(selected)
    for shard in shards:  # in the graph's order, so plans stay in build order
        assert list(shard.targets) == [n for n in graph.order if n in shard.targets]


@settings(max_examples=150, deadline=None)
@given(case=dags(), count=st.integers(1, 6))
def test_families_are_never_split(case: tuple[BuildGraph, list[str]], count: int) -> None:
    graph, selected = case
    shard_of_target = {
        name: shard.spec.index
        for shard in packed_shards(graph, selected, count)
        for name in shard.targets
    }
    for a in selected:
        for b in selected:
            if connected_among(graph, selected, a, b):
                assert shard_of_target[a] == shard_of_target[b], (a, b)


@settings(max_examples=150, deadline=None)
@given(case=dags(), count=st.integers(1, 6))
def test_shards_are_balanced_within_the_largest_family(
    case: tuple[BuildGraph, list[str]], count: int
) -> None:
    graph, selected = case
    shards = packed_shards(graph, selected, count)
    largest = max((len(f) for f in families(graph, selected)), default=0)
    weights = [shard.weight for shard in shards]
    assert max(weights) - min(weights) <= largest
    assert [s.weight for s in shards] == [float(len(s.targets)) for s in shards]


@settings(max_examples=100, deadline=None)
@given(case=dags(), count=st.integers(1, 6), data=st.data())
def test_shards_do_not_depend_on_the_order_names_are_given_in(
    case: tuple[BuildGraph, list[str]], count: int, data: st.DataObject
) -> None:
    graph, selected = case
    shuffled = data.draw(st.permutations(selected))
    assert packed_shards(graph, shuffled, count) == packed_shards(graph, selected, count)


def test_shards_are_the_same_under_another_hash_seed() -> None:
    # Two CI jobs are two processes: set and hash order must never decide a share.
    code = (
        "from tests.unit.graph.test_shards import graph_of\n"
        "from buildgraph.graph.shards import packed_shards\n"
        "toml = ''.join(f'[target.s{i}]\\n' for i in range(40))\n"
        "graph = graph_of(toml)\n"
        "print([s.targets for s in packed_shards(graph, list(graph.order), 3)])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
            cwd=Path(__file__).parents[3],
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_a_shared_base_keeps_its_dependents_together_and_others_apart() -> None:
    graph = graph_of(
        '[target.base]\n[target.a]\ndepends_on = ["base"]\n[target.b]\ndepends_on = ["base"]\n'
        "[target.c]\n[target.d]\n"
    )
    shards = packed_shards(graph, list(graph.order), 2)
    assert [s.targets for s in shards] == [("base", "a", "b"), ("c", "d")]
    # base unselected: a and b are two families, each shard builds base for itself
    shards = packed_shards(graph, ["a", "b", "c", "d"], 2)
    assert [s.targets for s in shards] == [("a", "c"), ("b", "d")]


def test_weights_balance_the_heaviest_first() -> None:
    graph = graph_of("[target.big]\n[target.x]\n[target.y]\n[target.z]\n")
    weights = {"big": 3.0}
    shards = packed_shards(graph, list(graph.order), 2, weights)
    assert [s.targets for s in shards] == [("big",), ("x", "y", "z")]


def test_more_shards_than_families_leaves_some_empty() -> None:
    graph = graph_of("[target.only]\n")
    assert shard_of(graph, ["only"], ShardSpec(1, 3)).targets == ("only",)
    assert shard_of(graph, ["only"], ShardSpec(3, 3)).targets == ()


@pytest.mark.parametrize(("text", "spec"), [("1/1", ShardSpec(1, 1)), (" 2/4", ShardSpec(2, 4))])
def test_parse_shard(text: str, spec: ShardSpec) -> None:
    assert parse_shard(text) == spec


@pytest.mark.parametrize("text", ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", "-1/2", ""])
def test_a_bad_shard_is_a_config_error_with_a_hint(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_shard(text)
    assert raised.value.exit_code == 2
    assert "hint: give K/N" in str(raised.value)
