"""Which targets a command's names mean: targets, groups (of groups), matrix names, and
everything the chosen targets need, transitively."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError, Problem, did_you_mean

if TYPE_CHECKING:
    from buildgraph.graph.dag import BuildGraph
    from buildgraph.model.project import Project


def expand_names(project: Project, names: Iterable[str]) -> list[str]:
    """Target names for target or group names (groups of groups, matrix groups), in order.

    Depth-first, each group's members in the order written, a group expanded once; with a
    stack of iterators rather than recursion, so groups nested thousands deep are fine.

    A group naming no target (a typo, an abstract target) is refused here, when it is
    selected, as bake refuses it only when that group is built: a broken group the
    command does not reach leaves the rest of the file usable. Every such member of the
    selected groups is reported at once.
    """
    out: dict[str, None] = {}
    seen_groups: set[str] = set()
    problems: list[Problem] = []
    targets, groups = project.targets, project.groups
    stack: list[tuple[str | None, Iterator[str]]] = [(None, iter(names))]
    while stack:
        group, members = stack[-1]
        name = next(members, None)
        if name is None:
            stack.pop()
        elif name in targets:
            out[name] = None
        elif name in groups:
            if name not in seen_groups:
                seen_groups.add(name)
                stack.append((name, iter(groups[name].targets)))
        elif group is None:
            raise ConfigError.one(
                f"no target or group named {name!r}",
                file=project.file,
                hint=did_you_mean(name, [*project.targets, *project.groups])
                or "`buildgraph plan` with no names lists what the default builds",
            )
        else:
            problems.append(_unknown_member(project, group, name))
    if problems:
        raise ConfigError(*problems)
    return list(out)


def _unknown_member(project: Project, group: str, member: str) -> Problem:
    """The problem of a group naming `member`, which is no target or group of the project."""
    abstract = member.startswith("_")  # abstract tables make no target
    return Problem(
        f"group {group!r} names {'abstract' if abstract else 'unknown'} target {member!r}",
        file=project.file,
        key="targets",
        line=_line_of_group(project.file, group),
        hint="abstract targets (names starting with '_') are never built; name a target "
        "that inherits it"
        if abstract
        else did_you_mean(member, [*project.targets, *project.groups])
        or f"remove {member!r} from the group, or define [target.{member}]",
    )


def _line_of_group(file: Path, group: str) -> int | None:
    """The line of the group's `targets`, read from the file again (only for this error:
    the resolved project keeps no positions); None when it cannot be found."""
    from buildgraph.projectfile.lines import locate_line

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return locate_line(text, ("group", group, "targets"))


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
