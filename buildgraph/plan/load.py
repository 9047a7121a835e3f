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
from buildgraph.resolve.project import resolve_project
from buildgraph.resolve.variables import environment_read

if TYPE_CHECKING:
    from buildgraph.model.project import Project


@dataclass(frozen=True, slots=True)
class Loaded:
    project: Project
    graph: BuildGraph
    env_names: tuple[str, ...] = ()  # the environment variables resolving the file read


def load(
    file: Path | None,
    variables: Mapping[str, str],
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Loaded:
    document = load_document(file, cwd)
    project = resolve_project(document, variables, os.environ if environ is None else environ)
    graph = build_graph(project, read_dockerfiles(project))
    return Loaded(project, graph, tuple(environment_read(document)))


def plan(loaded: Loaded, names: Sequence[str], mode: OutputMode = OutputMode.DEFAULT) -> Plan:
    return make_plan(loaded.graph, names, mode)


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
