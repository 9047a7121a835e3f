"""Renderers: one module per output format, each a pure function of a plan.

What they share lives here: the bake attributes of a planned target with local paths
rebased onto the directory the output file is written to.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildgraph.entries import PATH_KEYS_READ, PATH_KEYS_WRITE, map_entry_paths
from buildgraph.model import Project, is_local_path
from buildgraph.planner import Plan, PlannedTarget

LOCAL_CONTEXT_PREFIXES = ("oci-layout://",)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A filesystem entitlement buildx 0.19+ asks for: `--allow fs.read=PATH`."""

    access: str  # "fs.read" or "fs.write"
    path: str

    def flag(self) -> str:
        return f"--allow={self.access}={self.path}"


class Rebaser:
    """Rewrites paths written relative to the project file so they hold from `base`."""

    def __init__(self, project: Project, base: Path) -> None:
        self.project = project
        self.root = project.root
        self.base = base
        self.entitlements: dict[Entitlement, None] = {}
        self._seen: dict[tuple[str, str], str] = {}

    def path(self, value: str, access: str = "fs.read") -> str:
        # Thousands of targets share a few directories: rebase each (path, access) once.
        key = (value, access)
        if key not in self._seen:
            self._seen[key] = self._rebased(value, access)
        return self._seen[key]

    def _rebased(self, value: str, access: str) -> str:
        absolute = Path(value) if os.path.isabs(value) else self.root / value
        absolute = Path(os.path.normpath(absolute))
        if not _is_within(absolute, self.base):
            self.entitlements[Entitlement(access, str(absolute))] = None
        if os.path.isabs(value):
            return value
        rel = os.path.relpath(absolute, self.base)
        return Path(rel).as_posix()

    def context(self, value: str) -> str:
        for prefix in LOCAL_CONTEXT_PREFIXES:
            if value.startswith(prefix):
                path, at, rest = value[len(prefix) :].partition("@")
                return prefix + self.path(path) + at + rest
        if value.startswith("docker-image://") or not is_local_path(value):
            return value
        return self.path(value)


def _is_within(path: Path, base: Path) -> bool:
    try:
        path.relative_to(base)
    except ValueError:
        return False
    return True


def bake_attrs(planned: PlannedTarget, rebaser: Rebaser) -> dict[str, Any]:
    """A planned target as bake's resolved JSON target: links wired, paths rebased.

    A shallow copy: values nobody rewrites stay the model's frozen ones (read-only tables,
    tuples), which every renderer reads as tables and lists."""
    attrs: dict[str, Any] = dict(planned.target.attrs)
    if planned.outputs:
        attrs["output"] = list(planned.outputs)
    attrs["context"] = rebaser.context(planned.target.context)
    contexts = {k: rebaser.context(v) for k, v in attrs.get("contexts", {}).items()}
    contexts.update({ref: f"target:{dep}" for ref, dep in planned.wired.items()})
    if contexts:
        attrs["contexts"] = contexts
    for key, keys, access in (
        ("output", PATH_KEYS_WRITE, "fs.write"),
        ("cache-to", PATH_KEYS_WRITE, "fs.write"),
        ("cache-from", PATH_KEYS_READ, "fs.read"),
        ("secret", PATH_KEYS_READ, "fs.read"),
    ):
        if key in attrs:
            rebase = functools.partial(_rebase_entry_path, rebaser, access)
            attrs[key] = [map_entry_paths(e, keys, rebase) for e in attrs[key]]
    if "ssh" in attrs:
        attrs["ssh"] = [_rebased_ssh(entry, rebaser) for entry in attrs["ssh"]]
    return attrs


def _rebased_ssh(entry: Any, rebaser: Rebaser) -> Any:
    """`id=path[,path]`: sockets or keys on this machine, relative to the project file."""
    if not isinstance(entry, str) or "=" not in entry:
        return entry
    ident, _, paths = entry.partition("=")
    parts = [p if p.startswith("$") else rebaser.path(p) for p in paths.split(",")]
    return ident + "=" + ",".join(parts)


def _rebase_entry_path(rebaser: Rebaser, access: str, path: str) -> str:
    return rebaser.path(path, access)


def rendered_groups(plan: Plan) -> dict[str, list[str]]:
    """bake groups for the file: `default` (what was asked for, with what it needs), one per
    bake run when dependencies need several, and the project's groups, kept as in bake."""
    names = [p.name for p in plan.targets]
    planned = set(names)
    groups: dict[str, list[str]] = {"default": names}
    stages = plan.stages
    if len(stages) > 1:
        for number, stage in enumerate(stages, start=1):
            groups[stage_group(number)] = [p.name for p in stage]
    for group in plan.project.groups.values():
        members = [m for m in group.targets if m in planned or m in plan.project.groups]
        if group.name != "default" and members and _reaches_plan(plan, group.name, planned):
            groups[group.name] = members
    return groups


def _reaches_plan(plan: Plan, group: str, planned: set[str]) -> bool:
    from buildgraph.graph import expand_names

    return all(name in planned for name in expand_names(plan.project, [group]))


def stage_group(number: int) -> str:
    return f"buildgraph-stage-{number}"
