"""The resolved project: concrete targets and groups, every template rendered.

Immutable: attribute values are frozen (tables become read-only mappings, lists tuples), so
the planner and renderers can share one model without copying it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

REMOTE_PREFIXES = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")
TARGET_LINK = "target:"
_NO_ENTRIES: Mapping[str, Any] = MappingProxyType({})  # read-only, so one serves every target


def freeze(value: Any) -> Any:
    """A deep read-only copy of a TOML value."""
    # Concrete type checks: a bake file's thousands of printed targets pass through here,
    # and isinstance against a union is several times slower (TOML and JSON values are
    # plain dicts and lists).
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return value
    if kind is dict or (kind is not list and kind is not tuple and isinstance(value, dict)):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return tuple([freeze(v) for v in value])
    return value


def thaw(value: Any) -> Any:
    """Plain dicts and lists again, for JSON and for templates."""
    # Concrete type checks: isinstance against the Mapping ABC is slow on hot paths.
    kind = type(value)
    if kind is MappingProxyType or kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [thaw(v) for v in value]
    return value


def is_local_path(value: str) -> bool:
    """Whether a context value names a directory on this machine (not a URL or a link)."""
    if value.startswith(REMOTE_PREFIXES) or value.startswith(TARGET_LINK):
        return False
    return "://" not in value


def is_local_named_context(value: str) -> bool:
    """Whether a named context's value is a path on this machine (not an image, a layout,
    a URL or a target: link)."""
    return is_local_path(value) and not value.startswith(("docker-image:", "oci-layout:"))


@dataclass(frozen=True, slots=True)
class Target:
    """One concrete, buildable target: bake attributes plus buildgraph's own."""

    name: str
    attrs: Mapping[str, Any]  # bake attribute name -> frozen value; only what was set
    depends_on: tuple[str, ...] = ()
    watch_paths: tuple[str, ...] = ()
    watch_ignore: tuple[str, ...] = ()
    declared_as: str = ""  # the [target.X] table; differs from name for matrix combinations
    matrix_values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def context(self) -> str:
        return str(self.attrs.get("context", "."))

    @property
    def dockerfile(self) -> str:
        return str(self.attrs.get("dockerfile") or "Dockerfile")

    @property
    def dockerfile_inline(self) -> str | None:
        value = self.attrs.get("dockerfile-inline")
        return None if value is None else str(value)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.attrs.get("tags", ()))

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self.attrs.get("platforms", ()))

    @property
    def contexts(self) -> Mapping[str, str]:
        return self.attrs.get("contexts", _NO_ENTRIES)  # type: ignore[no-any-return]

    @property
    def args(self) -> Mapping[str, str]:
        return self.attrs.get("args", _NO_ENTRIES)  # type: ignore[no-any-return]

    @property
    def outputs(self) -> tuple[Any, ...]:
        return tuple(self.attrs.get("output", ()))

    def linked_targets(self) -> tuple[str, ...]:
        """Targets named by `target:` contexts, in the order written."""
        return tuple(
            v[len(TARGET_LINK) :] for v in self.contexts.values() if v.startswith(TARGET_LINK)
        )


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    targets: tuple[str, ...]  # as written: targets, groups or matrix names
    description: str | None = None
    from_matrix: bool = False  # the group bake makes of a matrix target's combinations


@dataclass(frozen=True, slots=True)
class Project:
    file: Path  # absolute path of buildgraph.toml
    name: str | None
    targets: Mapping[str, Target]  # concrete targets in file order
    groups: Mapping[str, Group]
    variables: Mapping[str, Any]
    builders: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # A bake or Compose definition (read through `docker buildx bake --print`): every file
    # it was read from, `file` first, and the folder bake ran in, where its relative
    # paths start. Empty and None for a buildgraph.toml.
    definition_files: tuple[Path, ...] = ()
    bake_folder: Path | None = None

    @property
    def root(self) -> Path:
        """The folder relative paths start from: the project file's, or bake's."""
        return self.bake_folder if self.bake_folder is not None else self.file.parent

    @property
    def source_files(self) -> tuple[Path, ...]:
        """The files the project was read from: what to watch, what changes everything."""
        return self.definition_files or (self.file,)

    @property
    def from_bake(self) -> bool:
        """Whether bake evaluated the definition (no buildgraph.toml was read)."""
        return bool(self.definition_files)

    def local_path(self, value: str) -> Path:
        """A path written in the project file, made absolute from the file's directory."""
        return self.root / value

    def context_dir(self, target: Target) -> Path | None:
        return self.local_path(target.context) if is_local_path(target.context) else None

    def dockerfile_path(self, target: Target) -> Path | None:
        """Where the target's Dockerfile is on disk (None for inline or remote ones)."""
        if target.dockerfile_inline is not None:
            return None
        context = self.context_dir(target)
        if context is None:
            return None
        # bake resolves `dockerfile` against the context, unless it is absolute.
        return context / PurePosixPath(target.dockerfile)
