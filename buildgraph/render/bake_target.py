"""Renderers: one module per output format, each a pure function of a plan.

What they share lives here: the bake attributes of a planned target with local paths
rebased onto the directory the output file is written to.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buildgraph.model.entries import entry_fields, map_entry_paths, writes_a_folder
from buildgraph.model.project import Group, Project, is_local_path

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget

LOCAL_CONTEXT_PREFIXES = ("oci-layout://",)


@dataclass(frozen=True, slots=True)
class Entitlement:
    """A filesystem entitlement buildx 0.19+ asks for (0.20+ refuses to bake without it):
    `--allow fs.read=PATH` for a context, Dockerfile, named context, cache source, secret or
    ssh key outside the folder bake runs in, `fs.write=PATH` for a local output or cache
    written outside it. Always the path itself, never a blanket `fs=*`."""

    access: str  # "fs.read" or "fs.write"
    path: str

    def flag(self) -> str:
        return f"--allow={self.access}={self.path}"


class Rebaser:
    """Rewrites paths written relative to the project file so they hold from `base`, and
    collects the filesystem entitlements a bake run in `base` needs (`entitlements`).

    buildx checks a write path that does not exist yet against its nearest existing parent
    folder: `write_folders` are the written paths that are folders (local outputs and
    caches; the others are files), so that the runner can make them first and grant no
    more than the path itself."""

    def __init__(self, project: Project, base: Path) -> None:
        self.project = project
        self.root = project.root
        self.base = base
        self.entitlements: dict[Entitlement, None] = {}
        self.write_folders: set[str] = set()
        self._seen: dict[tuple[str, str, bool], str] = {}
        self._contexts: dict[str, str] = {}
        self._dockerfiles: set[tuple[str, str]] = set()

    def path(self, value: str, access: str = "fs.read", folder: bool = False) -> str:
        # Thousands of targets share a few directories: rebase each (path, access) once.
        key = (value, access, folder)
        if key not in self._seen:
            self._seen[key] = self._rebased(value, access, folder)
        return self._seen[key]

    def _rebased(self, value: str, access: str, folder: bool = False) -> str:
        absolute = Path(value) if os.path.isabs(value) else self.root / value
        absolute = Path(os.path.normpath(absolute))
        if not _is_within(absolute, self.base):
            self.entitlements[Entitlement(access, str(absolute))] = None
            if folder:
                self.write_folders.add(str(absolute))
        if os.path.isabs(value):
            return value
        rel = os.path.relpath(absolute, self.base)
        return Path(rel).as_posix()

    def context(self, value: str) -> str:
        # Every target has a context, and thousands share a few: one look-up for each.
        rebased = self._contexts.get(value)
        if rebased is None:
            rebased = self._contexts[value] = self._rebased_context(value)
        return rebased

    def dockerfile(self, context: str, dockerfile: str) -> None:
        """Entitle a Dockerfile outside `base` that its context does not hold: bake reads it
        apart from the context. Only a path that is absolute or climbs (`..`) can leave its
        context, so most targets cost one string test."""
        if not (dockerfile.startswith("/") or ".." in dockerfile) or not is_local_path(context):
            return
        key = (context, dockerfile)
        if key in self._dockerfiles:
            return
        self._dockerfiles.add(key)
        folder = Path(os.path.normpath(self.root / context))
        path = Path(os.path.normpath(folder / dockerfile))
        if not _is_within(path, folder):
            self.path(str(path))

    def _rebased_context(self, value: str) -> str:
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


# Entry lists whose entries may hold paths on this machine, and how buildx uses them.
# Which entries do, and under which keys, is buildx's rule per attribute
# (model.entries.local_path_keys): a bare cache entry is a registry reference, no path.
_ENTRY_PATHS = (
    ("output", "fs.write"),
    ("cache-to", "fs.write"),
    ("cache-from", "fs.read"),
    ("secret", "fs.read"),
)


def bake_attrs(planned: PlannedTarget, rebaser: Rebaser) -> dict[str, Any]:
    """A planned target as bake's resolved JSON target: links wired, paths rebased.

    A shallow copy: values nobody rewrites stay the model's frozen ones (read-only tables,
    tuples), which every renderer reads as tables and lists."""
    target = planned.target
    attrs: dict[str, Any] = dict(target.attrs)
    if planned.outputs:
        attrs["output"] = list(planned.outputs)
    attrs["context"] = rebaser.context(target.context)
    if target.dockerfile_inline is None:
        rebaser.dockerfile(target.context, target.dockerfile)
    written = target.contexts
    if written or planned.wired:
        contexts = {k: rebaser.context(v) for k, v in written.items()}
        contexts.update({ref: f"target:{dep}" for ref, dep in planned.wired.items()})
        attrs["contexts"] = contexts
    for key, access in _ENTRY_PATHS:
        if key in attrs:
            attrs[key] = [_rebased_entry(e, key, access, rebaser) for e in attrs[key]]
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


def _rebased_entry(entry: Any, attribute: str, access: str, rebaser: Rebaser) -> Any:
    if access != "fs.write":
        return map_entry_paths(entry, attribute, functools.partial(rebaser.path, access=access))

    def rebase(path: str) -> str:  # called only for an entry with a path: most have none
        return rebaser.path(
            path, access, writes_a_folder(attribute, entry_fields(entry, attribute))
        )

    return map_entry_paths(entry, attribute, rebase)


def rendered_groups(plan: Plan) -> dict[str, list[str]]:
    """bake groups for the file, each naming targets and groups as written: `default`, what
    was asked for; one per bake run when dependencies need several; and the project's
    groups whose every target is planned. bake builds a dependency through its dependents'
    `target:` links, so `default` names only what was asked."""
    project_groups = plan.project.groups
    asked = list(dict.fromkeys(plan.names))
    own_default = project_groups.get("default")
    if own_default is not None and asked == ["default"]:
        # Nothing else asked for: the project's own default group is the file's.
        groups: dict[str, list[str]] = {"default": list(own_default.targets)}
        inlined = None
    else:
        # `default` is what was asked for, so the project's `default` cannot keep its name
        # in the file: a group naming it names its members instead.
        inlined = own_default
        groups = {"default": _named_in_place(asked, inlined)}
    bake_runs = plan.bake_runs
    if len(bake_runs) > 1:
        for number, bake_run in enumerate(bake_runs, start=1):
            groups[bake_run_group(number)] = [p.name for p in bake_run]
    partly_planned = _groups_reaching_outside(plan.project, {p.name for p in plan.targets})
    for group in project_groups.values():
        if group.name != "default" and group.name not in partly_planned:
            groups[group.name] = _named_in_place(group.targets, inlined)
    return groups


def _named_in_place(members: Sequence[str], default: Group | None) -> list[str]:
    """`members` as written, with the project's `default` group (when it is not the file's
    own) replaced by what it names."""
    if default is None or "default" not in members:
        return list(members)
    return [name for m in members for name in (default.targets if m == "default" else (m,))]


def _groups_reaching_outside(project: Project, planned: set[str]) -> set[str]:
    """The groups naming, directly or through groups of groups, a target not in the plan.

    Walked once from those targets up to the groups that list them, rather than expanding
    every group: `all` of a thousand families would otherwise be expanded again for each."""
    listed_in: dict[str, list[str]] = {}  # group -> the groups listing it
    outside: set[str] = set()
    for group in project.groups.values():
        for member in group.targets:
            if member in project.groups and member not in project.targets:
                listed_in.setdefault(member, []).append(group.name)
            elif member not in planned:
                outside.add(group.name)
    stack = list(outside)
    while stack:
        for parent in listed_in.get(stack.pop(), ()):
            if parent not in outside:
                outside.add(parent)
                stack.append(parent)
    return outside


def bake_run_group(number: int) -> str:
    """The group of the bake run `number` in rendered files. Its name says `stage`: that is
    what users' scripts run (`docker buildx bake buildgraph-stage-2`), so it stays."""
    return f"buildgraph-stage-{number}"
