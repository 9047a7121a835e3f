"""A project from what `docker buildx bake --print` printed of a bake or Compose definition.

bake has resolved everything by then (variables, functions, inheritance, matrices,
overrides of one file by the next), so each printed target is a resolved target as it
stands: its attributes are kept as printed, and buildgraph's own attributes (depends_on,
watch) are absent. Groups keep their members as printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.model.names import TARGET_NAME_RULE, is_target_name
from buildgraph.model.project import Group, Project, Target, freeze


def project_from_print(printed: Mapping[str, Any], files: Sequence[Path], folder: Path) -> Project:
    """The project bake's print describes, read from `files` in `folder`."""
    problems: list[Problem] = []
    targets: dict[str, Target] = {}
    printed_targets = _table(printed.get("target"))
    printed_groups = _table(printed.get("group"))
    for name, attrs in printed_targets.items():
        if not is_target_name(name):
            problems.append(_problem(files, f"target name {name!r}: {TARGET_NAME_RULE}", name))
        elif not isinstance(attrs, Mapping):
            problems.append(_problem(files, "bake printed a target that is not a table", name))
        else:
            targets[name] = Target(name, freeze(_as_built(attrs)), declared_as=name)
    groups: dict[str, Group] = {}
    for name, group in printed_groups.items():
        members = group.get("targets") if isinstance(group, Mapping) else None
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            problems.append(_problem(files, f"bake printed group {name!r} without targets"))
            continue
        description = group.get("description")
        groups[name] = Group(
            name, tuple(members), description if isinstance(description, str) else None
        )
    if problems:
        raise ConfigError(*problems)
    return Project(
        file=files[0],
        name=None,
        targets=MappingProxyType(targets),
        groups=MappingProxyType(groups),
        variables=MappingProxyType({}),
        definition_files=tuple(files),
        bake_folder=folder,
    )


def _as_built(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A printed target's attributes, as bake builds them: it splits each platform entry
    at its commas (`--set '*.platform=linux/amd64,linux/arm64'` prints one entry)."""
    built = dict(attrs)
    platforms = built.get("platforms")
    if isinstance(platforms, list):
        built["platforms"] = [
            p.strip() for entry in platforms for p in str(entry).split(",") if p.strip()
        ]
    return built


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _problem(files: Sequence[Path], message: str, target: str | None = None) -> Problem:
    return Problem(message, files[0], target, None, None, None)
