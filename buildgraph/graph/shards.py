"""`--shard K/N`: a deterministic share of the selected targets, for CI jobs that run in
parallel (a GitHub matrix, GitLab `parallel`, Buildkite) and never build a target twice.

Targets that depend on each other among the selection (a family: a weakly connected
component of the DAG's subgraph of selected targets) stay in one shard, so a family is
built once, in order, by one job. Families are packed greedily, heaviest first, each into
the lightest shard so far: the heaviest shard then outweighs the lightest by at most one
family. A shard builds its dependencies outside the selection itself, cache-only.

Every shard of one CI run must compute the same shares, on machines that share nothing
but the checkout: so the weights come from the checkout and the arguments alone (a count
of targets; buildgraph keeps no per-target build times that every runner would see
alike), ties are broken by the graph's order, never by a set's or a hash's order.

networkx is imported only when shards are asked for: see docs/architecture.md, "Imports
inside functions".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError

if TYPE_CHECKING:
    from buildgraph.graph.dag import BuildGraph

_SHARD = re.compile(r"([0-9]+)/([0-9]+)")
SHARD_HINT = "give K/N with 1 <= K <= N, e.g. --shard 1/4 ... --shard 4/4 in four CI jobs"


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> ShardSpec:
    """`K/N` as the command line gives it; anything else is a ConfigError (exit 2)."""
    found = _SHARD.fullmatch(text.strip())
    if found is None:
        raise ConfigError.one(f"--shard {text!r} is not K/N", hint=SHARD_HINT)
    index, count = int(found[1]), int(found[2])
    if count < 1 or not 1 <= index <= count:
        raise ConfigError.one(f"--shard {text!r}: K must be between 1 and N", hint=SHARD_HINT)
    return ShardSpec(index, count)


@dataclass(frozen=True, slots=True)
class Shard:
    """What one shard holds: its targets (in the graph's order) and its families."""

    spec: ShardSpec
    targets: tuple[str, ...]
    families: tuple[tuple[str, ...], ...]
    weight: float
    selected: int  # how many targets the selection had, across all shards


def families(graph: BuildGraph, selected: Sequence[str]) -> list[tuple[str, ...]]:
    """The weakly connected components of the DAG among `selected`, each in the graph's
    order, ordered by their first target's place in it."""
    import networkx as nx

    chosen = set(selected)
    undirected: nx.Graph[str] = nx.Graph()
    undirected.add_nodes_from(chosen)
    undirected.add_edges_from(
        (dependency, name)
        for name in chosen
        for dependency in graph.needs[name]
        if dependency in chosen
    )
    position = {name: i for i, name in enumerate(graph.order)}
    found = [
        tuple(sorted(component, key=position.__getitem__))
        for component in nx.connected_components(undirected)
    ]
    return sorted(found, key=lambda family: position[family[0]])


def packed_shards(
    graph: BuildGraph,
    selected: Sequence[str],
    count: int,
    weights: Mapping[str, float] | None = None,
) -> list[Shard]:
    """The `count` shards of `selected` (target names): every one in exactly one shard,
    families whole. `weights`: each target's cost (default 1)."""
    cost = {name: (weights or {}).get(name, 1.0) for name in selected}
    position = {name: i for i, name in enumerate(graph.order)}
    by_weight = sorted(
        families(graph, selected),
        key=lambda f: (-sum(cost[n] for n in f), position[f[0]]),
    )
    loads = [0.0] * count
    held: list[list[tuple[str, ...]]] = [[] for _ in range(count)]
    for family in by_weight:
        lightest = min(range(count), key=lambda i: (loads[i], i))
        held[lightest].append(family)
        loads[lightest] += sum(cost[n] for n in family)
    shards = []
    for i in range(count):
        mine = sorted(held[i], key=lambda f: position[f[0]])
        targets = tuple(sorted((n for f in mine for n in f), key=position.__getitem__))
        shards.append(Shard(ShardSpec(i + 1, count), targets, tuple(mine), loads[i], len(cost)))
    return shards


def shard_of(graph: BuildGraph, selected: Sequence[str], spec: ShardSpec) -> Shard:
    """Shard `spec.index` of `spec.count` of `selected`."""
    return packed_shards(graph, selected, spec.count)[spec.index - 1]


MOST_SUGGESTED = 4  # parallel jobs a default workflow asks for, at most


def suggested_shard_count(graph: BuildGraph, selected: Sequence[str]) -> int:
    """How many shards a workflow asks for by default: one per family, up to 4."""
    return max(1, min(MOST_SUGGESTED, len(families(graph, selected))))
