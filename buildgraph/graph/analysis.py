"""The graph as networkx sees it: for what its algorithms earn their import (a cycle's
report; the analyses later commands ask of the graph). Planning never needs it: the
networkx import alone costs more than planning 3,000 targets, so `graph.dag` orders
targets with the standard library's graphlib and imports this module only on a cycle
or when `BuildGraph.dag` is asked for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import networkx as nx

from buildgraph.errors import ConfigError, Problem

if TYPE_CHECKING:
    from buildgraph.graph.dag import Edge
    from buildgraph.model.project import Project


def networkx_dag(project: Project, edges: Iterable[tuple[str, str]]) -> nx.DiGraph[str]:
    dag: nx.DiGraph[str] = nx.DiGraph()
    dag.add_nodes_from(project.targets)
    dag.add_edges_from(edges)
    return dag


def cycle_error(project: Project, edges: Mapping[tuple[str, str], Edge]) -> ConfigError:
    cycle = nx.find_cycle(networkx_dag(project, edges))
    steps = [
        f"{b} needs {a} ({', '.join(sorted(k.value for k in edges[(a, b)].kinds))})"
        for a, b in cycle
    ]
    first = project.targets[cycle[0][1]]
    return ConfigError(
        Problem(
            "dependency cycle: " + " -> ".join([a for a, _ in cycle] + [cycle[0][0]]),
            file=project.file,
            target=first.declared_as,
            key="depends_on",
            hint="; ".join(steps),
        )
    )
