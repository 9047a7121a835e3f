"""Which targets a command's names mean: targets, groups (of groups), matrix names, and
everything the chosen targets need, transitively."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from buildgraph.graph.dag import BuildGraph
    from buildgraph.model.project import Project


def expand_names(project: Project, names: Iterable[str]) -> list[str]:
    """Target names for target or group names (groups of groups, matrix groups), in order.

    Depth-first, each group's members in the order written, a group expanded once; with a
    stack of iterators rather than recursion, so groups nested thousands deep are fine.
    """
    out: dict[str, None] = {}
    seen_groups: set[str] = set()
    targets, groups = project.targets, project.groups
    stack: list[Iterator[str]] = [iter(names)]
    while stack:
        name = next(stack[-1], None)
        if name is None:
            stack.pop()
        elif name in targets:
            out[name] = None
        elif name in groups:
            if name not in seen_groups:
                seen_groups.add(name)
                stack.append(iter(groups[name].targets))
        else:
            raise ConfigError.one(
                f"no target or group named {name!r}",
                file=project.file,
                hint=did_you_mean(name, [*project.targets, *project.groups])
                or "`buildgraph plan` with no names lists what the default builds",
            )
    return list(out)


def default_names(project: Project) -> list[str]:
    """What is built when no name is given: the `default` group, else every target."""
    return ["default"] if "default" in project.groups else list(project.targets)


@dataclass(frozen=True, slots=True)
class Selection:
    requested: tuple[str, ...]  # the targets the names expand to
    targets: tuple[str, ...]  # requested plus everything they need, in topological order
    needed_by: Mapping[str, tuple[str, ...]]  # target -> the selected dependents that need it


def select(graph: BuildGraph, names: Iterable[str]) -> Selection:
    """The named targets and every target they need, transitively."""
    requested = expand_names(graph.project, names)
    # One walk up from all requested targets at once: linear in the size of the graph.
    chosen: set[str] = set(requested)
    stack = list(requested)
    while stack:
        for dependency in graph.needs[stack.pop()]:
            if dependency not in chosen:
                chosen.add(dependency)
                stack.append(dependency)
    if len(chosen) == len(graph.order):  # everything: nothing to leave out
        return Selection(tuple(requested), graph.order, graph.needed_by)
    order = [name for name in graph.order if name in chosen]
    needed_by = {name: tuple(d for d in graph.needed_by[name] if d in chosen) for name in order}
    return Selection(tuple(requested), tuple(order), needed_by)
