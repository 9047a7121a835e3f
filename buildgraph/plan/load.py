"""The steps every command shares: file -> resolved project -> DAG -> plan.

The CLI calls these and prints; they hold the order of the steps, nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.dockerfiles.target_files import read_dockerfiles
from buildgraph.graph.dag import BuildGraph, build_graph
from buildgraph.plan.plan import OutputMode, Plan, make_plan
from buildgraph.projectfile.document import load_document
from buildgraph.projectfile.locate import Definition, locate_definition
from buildgraph.resolve.project import resolve_project
from buildgraph.resolve.variables import environment_read

if TYPE_CHECKING:
    from buildgraph.changes.affected import Affected
    from buildgraph.graph.shards import Shard, ShardSpec
    from buildgraph.model.project import Project


@dataclass(frozen=True, slots=True)
class Loaded:
    project: Project
    graph: BuildGraph
    env_names: tuple[str, ...] = ()  # the environment variables resolving the file read


def load(
    file: Path | Sequence[Path] | None,
    variables: Mapping[str, str],
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    names: Sequence[str] = (),
    overrides: Sequence[str] = (),
) -> Loaded:
    """The project `file` defines (-f: one path, several, or none to look for one), with
    its graph, and `overrides` (`--set`) applied. A bake or Compose definition is
    evaluated by bake itself, for `names` (none: its default group), as `docker buildx
    bake NAME...` would build them."""
    from buildgraph.resolve.overrides import apply_overrides, parse_overrides

    environ = os.environ if environ is None else environ
    definition = locate_definition(file, cwd)
    if definition.of_bake:
        return load_bake(definition, variables, environ, names, overrides)
    parsed = parse_overrides(overrides)  # before anything is read: a typo fails at once
    document = load_document(definition.file, cwd)
    project = apply_overrides(resolve_project(document, variables, environ), parsed, environ)
    graph = build_graph(project, read_dockerfiles(project))
    return Loaded(project, graph, tuple(environment_read(document)))


def load_bake(
    definition: Definition,
    variables: Mapping[str, str],
    environ: Mapping[str, str],
    names: Sequence[str],
    overrides: Sequence[str] = (),
) -> Loaded:
    """A bake or Compose definition, as bake prints it (`overrides` are bake's own
    `--set`, handed to it), then buildgraph's graph of it."""
    from buildgraph.resolve.bake_definition import project_from_print
    from buildgraph.runner.bake_print import print_definitions

    files, folder = definition.files, definition.folder
    printed, complete = print_definitions(files, names, variables, folder, environ, overrides)
    project = project_from_print(printed, files, folder)
    if complete:
        project = without_unbuildable(project, requested_targets(project, names or ["default"]))
    return Loaded(project, build_graph(project, read_dockerfiles(project)))


def requested_targets(project: Project, names: Sequence[str]) -> set[str]:
    """The targets bake builds for `names`: through groups, and `target:` links. A group
    reached again is taken for a target of its name, as bake takes it (the default group
    of a file with a target `default` alone is `["default"]`)."""
    found: set[str] = set()
    pending = list(names)
    expanded: set[str] = set()
    while pending:
        name = pending.pop()
        if name in project.groups and name not in expanded:
            expanded.add(name)
            pending.extend(project.groups[name].targets)
        elif name in project.targets and name not in found:
            found.add(name)
            pending.extend(project.targets[name].linked_targets())
    return found


def without_unbuildable(project: Project, requested: set[str]) -> Project:
    """`project` without the targets not `requested` whose context or Dockerfile is not
    there (bake has no abstract targets: a `_common` that others inherit from is one
    too), and without the groups that named them. Nobody asked for them; they are there
    for the edges the requested ones may have to them."""
    from dataclasses import replace
    from types import MappingProxyType

    from buildgraph.dockerfiles.target_files import missing_inputs

    dropped = {
        name
        for name, target in project.targets.items()
        if name not in requested and missing_inputs(project, target)
    }
    if not dropped:
        return project
    targets = {n: t for n, t in project.targets.items() if n not in dropped}
    groups = {n: g for n, g in project.groups.items() if not any(m in dropped for m in g.targets)}
    return replace(project, targets=MappingProxyType(targets), groups=MappingProxyType(groups))


def plan(
    loaded: Loaded,
    names: Sequence[str],
    mode: OutputMode = OutputMode.DEFAULT,
    since: str | None = None,
    shard: ShardSpec | None = None,
) -> Plan:
    """The plan for `names`, narrowed by `since` and `shard` (see `selected_plan`)."""
    return selected_plan(loaded, names, mode, since, shard).plan


@dataclass(frozen=True, slots=True)
class SelectedPlan:
    plan: Plan
    since: str | None = None
    affected: tuple[str, ...] | None = None  # with `since`: what it affected among the names
    shard: Shard | None = None


def selected_plan(
    loaded: Loaded,
    names: Sequence[str],
    mode: OutputMode = OutputMode.DEFAULT,
    since: str | None = None,
    shard: ShardSpec | None = None,
) -> SelectedPlan:
    """The plan for `names` (none: the `default` group, else every target), or with
    `since` for those of them it affects (as `affected` finds them), or with `shard` for
    this shard's share of them. What the narrowed selection needs is planned as for any
    selection: built for its dependents, exported nowhere."""
    if since is None and shard is None:
        return SelectedPlan(make_plan(loaded.graph, names, mode))
    from buildgraph.graph.selection import default_names, expand_names

    selected = expand_names(loaded.project, names or default_names(loaded.project))
    affected = None
    if since is not None:
        affected = tuple(a.name for a in affected_since(loaded, names, since))
        reached = set(affected)
        selected = [name for name in selected if name in reached]
    share = None
    if shard is not None:
        from buildgraph.graph.shards import shard_of

        share = shard_of(loaded.graph, selected, shard)
        selected = list(share.targets)
    if not selected:  # make_plan would take no names for the default
        return SelectedPlan(Plan(loaded.project, (), (), mode), since, affected, share)
    return SelectedPlan(make_plan(loaded.graph, selected, mode), since, affected, share)


def affected_since(loaded: Loaded, names: Sequence[str], since: str) -> list[Affected]:
    """What `buildgraph affected --since` lists, in build order: the targets of `names`
    (none: every target) and what they need, whose inputs changed since the git ref
    `since`, and their dependents among them."""
    from buildgraph.changes.affected import affected_targets
    from buildgraph.changes.input_index import InputIndex
    from buildgraph.runner.git import changed_since

    every = make_plan(loaded.graph, names or list(loaded.project.targets))
    index = InputIndex.of(loaded.project, [p.name for p in every.targets])
    return affected_targets(every, index, changed_since(since, loaded.project.root))


def validation_summary(loaded: Loaded) -> dict[str, object]:
    """What `validate` reports of a project that resolved and planned: the file and the
    counts of its targets, groups, dependencies and waves (of every target)."""
    every = make_plan(loaded.graph, list(loaded.project.targets))
    return {
        "file": str(loaded.project.file),
        "valid": True,
        "targets": len(loaded.project.targets),
        "groups": len(loaded.project.groups),
        "edges": len(loaded.graph.edges),
        "waves": len(every.waves),
    }
