"""The critical path: the chain of dependent targets with the most measured seconds."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.graph.critical_path import CriticalPath, critical_path


def test_the_slowest_chain_wins_over_the_longest_one() -> None:
    order = [
        ("base", ()),
        ("tiny1", ("base",)),
        ("tiny2", ("tiny1",)),
        ("tiny3", ("tiny2",)),
        ("slow", ("base",)),
        ("app", ("slow", "tiny3")),
    ]
    seconds = {"base": 2.0, "tiny1": 0.5, "tiny2": 0.5, "tiny3": 0.5, "slow": 9.0, "app": 1.0}
    assert critical_path(order, seconds) == CriticalPath(("base", "slow", "app"), 12.0)


def test_targets_without_seconds_count_nothing_and_nothing_gives_an_empty_path() -> None:
    assert critical_path([("a", ()), ("b", ("a",))], {"a": 1.0}) == CriticalPath(("a",), 1.0)
    assert critical_path([], {}) == CriticalPath((), 0.0)


@st.composite
def weighted_dags(draw: st.DrawFn) -> tuple[list[tuple[str, tuple[str, ...]]], dict[str, float]]:
    count = draw(st.integers(1, 12))
    names = [f"t{i}" for i in range(count)]
    order = [
        (name, tuple(draw(st.sets(st.sampled_from(names[:i]))) if i else ()))
        for i, name in enumerate(names)
    ]
    seconds = {n: float(draw(st.integers(0, 20))) for n in names}
    return order, seconds


@given(weighted_dags())
def test_no_chain_is_slower_and_the_path_is_a_chain(
    case: tuple[list[tuple[str, tuple[str, ...]]], dict[str, float]],
) -> None:
    order, seconds = case
    found = critical_path(order, seconds)
    needs = dict(order)
    assert all(a in needs[b] for a, b in pairwise(found.targets))
    assert found.seconds == sum(seconds[n] for n in found.targets)
    # networkx's answer on the same graph, each edge weighed by its dependent's seconds
    dag: nx.DiGraph[str] = nx.DiGraph()
    dag.add_node("start")
    for name, deps in order:
        dag.add_edge("start", name, weight=seconds[name])
        dag.add_edges_from((d, name, {"weight": seconds[name]}) for d in deps)
    assert found.seconds == nx.dag_longest_path_length(dag)
