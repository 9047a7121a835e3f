"""The dependency DAG of a project's targets.

Edges run from a dependency to its dependent, so a topological order is a build order.
Three things make an edge: `depends_on`, a `target:` named context, and a Dockerfile that
names (in FROM, COPY --from or RUN --mount=from) a tag another target produces.

Planning orders the targets with the standard library's graphlib. networkx is the graph
for analysis (`BuildGraph.dag`: cycle reports, counts, what later commands ask of the
graph), built on first use: importing it costs more than planning 3,000 targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError, Problem
from buildgraph.graph.selection import expand_names
from buildgraph.model.image_refs import familiar_ref, normalize_ref

if TYPE_CHECKING:
    import networkx as nx

    from buildgraph.dockerfiles.dockerfile import DockerfileInfo
    from buildgraph.model.project import Project


class EdgeKind(Enum):
    DEPENDS_ON = "depends_on"
    CONTEXT = "target: context"
    DOCKERFILE = "Dockerfile"


@dataclass(frozen=True, slots=True)
class Edge:
    dependency: str
    dependent: str
    kinds: frozenset[EdgeKind]
    # Image references the dependent's Dockerfile uses for the dependency's tags, in the form
    # BuildKit looks named contexts up by; the bake rendering wires each as `target:<dep>`.
    refs: tuple[str, ...] = ()

    @property
    def linked(self) -> bool:
        """Whether bake itself orders this edge (through a target: context)."""
        return EdgeKind.CONTEXT in self.kinds or bool(self.refs)


@dataclass(frozen=True)
class BuildGraph:
    project: Project
    edges: Mapping[tuple[str, str], Edge] = field(repr=False)
    # One topological order of every target, ties broken by file order: selections are
    # slices of it, so planning stays linear.
    order: tuple[str, ...] = ()
    dockerfiles: Mapping[str, DockerfileInfo] = field(default_factory=dict, repr=False)
    # Each target's dependencies and dependents, in the order the edges were found (the
    # dag's predecessor and successor order).
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    needed_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @cached_property
    def dag(self) -> nx.DiGraph[str]:
        """The graph as networkx's DiGraph: nodes in file order, edges as found."""
        from buildgraph.graph.analysis import networkx_dag

        return networkx_dag(self.project, self.edges)


def tag_index(project: Project) -> dict[str, list[str]]:
    """Normalized image reference -> the targets whose `tags` produce it."""
    index: dict[str, list[str]] = {}
    for target in project.targets.values():
        for tag in target.tags:
            index.setdefault(normalize_ref(tag), []).append(target.name)
    return index


def build_graph(project: Project, dockerfiles: Mapping[str, DockerfileInfo]) -> BuildGraph:
    """The DAG of every concrete target; a cycle or an ambiguous reference is an error."""
    kinds: dict[tuple[str, str], set[EdgeKind]] = {}
    refs: dict[tuple[str, str], list[str]] = {}

    def add(dependency: str, dependent: str, kind: EdgeKind) -> None:
        kinds.setdefault((dependency, dependent), set()).add(kind)

    for target in project.targets.values():
        for dep in target.depends_on:
            for name in expand_names(project, [dep]):
                if name != target.name:
                    add(name, target.name, EdgeKind.DEPENDS_ON)
        if target.contexts:
            for linked in target.linked_targets():
                add(linked, target.name, EdgeKind.CONTEXT)

    problems: list[Problem] = []
    producers_of = _producers(project)
    for name, info in dockerfiles.items():
        target = project.targets[name]
        for ref in info.external_refs:
            producers = [p for p in producers_of(ref.ref) if p != name]
            if not producers:
                continue
            if len(producers) > 1:
                problems.append(
                    Problem(
                        f"Dockerfile line {ref.line} uses {ref.ref!r}, a tag produced by "
                        f"{len(producers)} targets: {', '.join(producers)}",
                        file=project.file,
                        target=target.declared_as,
                        key="tags",
                        hint="give each target its own tags, or say which one with depends_on "
                        "and a target: context",
                    )
                )
                continue
            short = familiar_ref(ref.ref)
            add(producers[0], name, EdgeKind.DOCKERFILE)
            if short not in target.contexts:
                refs.setdefault((producers[0], name), []).append(short)
    if problems:
        raise ConfigError(*problems)

    edges = {
        key: Edge(key[0], key[1], frozenset(k), tuple(dict.fromkeys(refs.get(key, ()))))
        for key, k in kinds.items()
    }
    needs, needed_by = _adjacency(project, edges)
    order = _topological_order(project, needs, edges)
    return BuildGraph(project, edges, order, dockerfiles, needs, needed_by)


def _producers(project: Project) -> Callable[[str], list[str]]:
    """The targets whose tags produce an image reference, looked up once per reference:
    the targets sharing a Dockerfile's parse share its references."""
    index = tag_index(project)
    known: dict[str, list[str]] = {}

    def producers(ref: str) -> list[str]:
        found = known.get(ref)
        if found is None:
            found = known[ref] = index.get(normalize_ref(ref), [])
        return found

    return producers


def _adjacency(
    project: Project, edges: Iterable[tuple[str, str]]
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Each target's dependencies and dependents, in the order the dag lists them (the
    order its edges were added in)."""
    needs: dict[str, list[str]] = {}
    needed_by: dict[str, list[str]] = {}
    for dependency, dependent in edges:
        needs.setdefault(dependent, []).append(dependency)
        needed_by.setdefault(dependency, []).append(dependent)
    return (
        {name: tuple(needs.get(name, ())) for name in project.targets},
        {name: tuple(needed_by.get(name, ())) for name in project.targets},
    )


def _topological_order(
    project: Project,
    needs: Mapping[str, tuple[str, ...]],
    edges: Mapping[tuple[str, str], Edge],
) -> tuple[str, ...]:
    """Dependencies before dependents, file order among equals (the lexicographic
    topological order by file position); a cycle is an error."""
    from graphlib import CycleError, TopologicalSorter

    sorter = TopologicalSorter(needs)
    try:
        sorter.prepare()
    except CycleError:
        from buildgraph.graph.analysis import cycle_error

        raise cycle_error(project, edges) from None
    position = {name: i for i, name in enumerate(project.targets)}
    # Of the targets whose dependencies are all placed, always the first in the file.
    ready = [(position[name], name) for name in sorter.get_ready()]
    heapify(ready)
    order: list[str] = []
    while ready:
        name = heappop(ready)[1]
        order.append(name)
        sorter.done(name)
        for released in sorter.get_ready():
            heappush(ready, (position[released], released))
    return tuple(order)
