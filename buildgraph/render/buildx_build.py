"""`docker buildx build` argument lists for planned targets: pure, shared by the shell
renderer and the runner.

A dependency reaches its dependents through a local OCI layout that its build also writes:
the dependent gets `--build-context <ref>=oci-layout://...`, so it always builds on the
result of this run, never on an older image with the same tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError
from buildgraph.locations import OCI_LAYOUTS
from buildgraph.model.entries import entry_fields
from buildgraph.model.project import is_local_path
from buildgraph.render.bake_target import Rebaser, bake_attrs

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget

UNSUPPORTED = ("policy", "resources")

_LIST_FLAGS = {
    "annotations": "--annotation",
    "tags": "--tag",
    "cache-from": "--cache-from",
    "cache-to": "--cache-to",
    "output": "--output",
    "secret": "--secret",
    "ssh": "--ssh",
    "attest": "--attest",
    "no-cache-filter": "--no-cache-filter",
    "ulimits": "--ulimit",
    "entitlements": "--allow",
}
_MAP_FLAGS = {"args": "--build-arg", "labels": "--label", "extra-hosts": "--add-host"}
_VALUE_FLAGS = {
    "target": "--target",
    "network": "--network",
    "shm-size": "--shm-size",
    "call": "--call",
}
_BOOL_FLAGS = {"pull": "--pull", "no-cache": "--no-cache"}


@dataclass(frozen=True, slots=True)
class BuildCommand:
    target: str
    argv: tuple[str, ...]
    stdin: str | None = None  # the Dockerfile, for dockerfile-inline


def oci_layout_dir(name: str, state_dir: str = OCI_LAYOUTS) -> str:
    return f"{state_dir}/{name}"


def linked_dependencies(plan: Plan) -> set[str]:
    """Targets whose result a dependent reads through a named context."""
    return {dep for p in plan.targets for dep in p.links.values()}


def build_commands(
    plan: Plan, rebaser: Rebaser, state_dir: str = OCI_LAYOUTS
) -> list[BuildCommand]:
    """One `docker buildx build` per planned target, in build order."""
    exported = linked_dependencies(plan)
    return [build_command(p, rebaser, p.name in exported, state_dir) for p in plan.targets]


def build_command(
    planned: PlannedTarget,
    rebaser: Rebaser,
    export_layout: bool,
    state_dir: str = OCI_LAYOUTS,
    link_contexts: Mapping[str, str] | None = None,
    metadata_file: str | None = None,
    *,
    platform: str | None = None,
    outputs: Sequence[str] | None = None,
    builder: str | None = None,
    progress: str | None = None,
) -> BuildCommand:
    """The command for one target. `link_contexts` (context name -> value) says where each
    dependency's result is, by default its OCI layout in `state_dir`; `platform` and
    `outputs` replace the target's own, and its tags are left to the outputs' names (one
    platform of a split build). `builder` and `progress` add buildx's `--builder` (a
    global flag, before `build`) and `build --progress`; a rendered script has neither."""
    attrs = bake_attrs(planned, rebaser)
    unsupported = [k for k in UNSUPPORTED if k in attrs]
    if unsupported:
        raise ConfigError.one(
            f"{unsupported[0]!r} has no `docker buildx build` flag",
            file=rebaser.project.file,
            target=planned.target.declared_as,
            key=unsupported[0],
            hint="build this target with --via bake",
        )
    argv: list[str] = ["docker", "buildx", *(["--builder", builder] if builder else []), "build"]
    if progress:
        argv += ["--progress", progress]
    stdin = attrs.get("dockerfile-inline")
    argv += ["--file", "-" if stdin is not None else _dockerfile_arg(attrs)]
    platforms = [platform] if platform else attrs.get("platforms")
    if platforms:
        argv += ["--platform", ",".join(platforms)]
    for key, value in attrs.items():
        if key == "tags" and outputs is not None:
            continue
        if key in _MAP_FLAGS:
            _check_map_keys(planned, rebaser, key, value)
        argv += _flags(key, value)
    contexts = dict(attrs.get("contexts", {}))
    if contexts:
        _check_map_keys(planned, rebaser, "contexts", contexts)
    for ref, dep in planned.links.items():
        default = "oci-layout://" + oci_layout_dir(dep, state_dir)
        contexts[ref] = (link_contexts or {}).get(ref, default)
    for name, value in contexts.items():
        argv += ["--build-context", f"{name}={value}"]
    if outputs is None:
        argv += _outputs(planned, attrs, export_layout, state_dir)
    else:
        argv += [part for o in outputs for part in ("--output", o)]
    if metadata_file is not None:
        argv += ["--metadata-file", metadata_file]
    argv.append(_positional_path(attrs["context"]))
    return BuildCommand(planned.name, tuple(argv), stdin)


def _check_map_keys(
    planned: PlannedTarget, rebaser: Rebaser, key: str, table: Mapping[str, Any]
) -> None:
    """`--build-arg K=V` and its kin split at the first `=`: a key holding one would give
    part of itself to the value. bake's files carry tables whole, so bake can pass it."""
    for name in table:
        if "=" in name:
            raise ConfigError.one(
                f"the key {name!r} holds '=', which `docker buildx build` would split at",
                file=rebaser.project.file,
                target=planned.target.declared_as,
                key=key,
                hint="rename the key, or build this target with --via bake",
            )


def _positional_path(context: str) -> str:
    """The context, buildx's one positional argument, so that it stays a path: `-x` or
    `--allow=...` would be read as options, and `-` as the context on stdin. A flag's
    value needs no such care: buildx takes the word after a flag as its value."""
    return "./" + context if context.startswith("-") else context


def _dockerfile_arg(attrs: Mapping[str, Any]) -> str:
    # bake resolves `dockerfile` against the context; `build --file` against the cwd.
    dockerfile = str(attrs.get("dockerfile", "Dockerfile"))
    context = str(attrs["context"])
    if not PurePosixPath(dockerfile).is_absolute() and is_local_path(context):
        dockerfile = str(PurePosixPath(context) / dockerfile)
    # `--file -` reads the Dockerfile from stdin: a file named `-` is `./-`.
    return "./-" if dockerfile == "-" else dockerfile


def _flags(key: str, value: Any) -> list[str]:
    if key in _LIST_FLAGS and key != "output":
        return [part for item in value for part in (_LIST_FLAGS[key], _entry_text(item))]
    if key in _MAP_FLAGS:
        return [part for k, v in value.items() for part in (_MAP_FLAGS[key], f"{k}={v}")]
    if key in _VALUE_FLAGS:
        return [_VALUE_FLAGS[key], str(value)]
    if key in _BOOL_FLAGS:
        return [_BOOL_FLAGS[key]] if value else []
    return []


def _entry_text(item: Any) -> str:
    if isinstance(item, Mapping):
        return ",".join(_csv_field(f"{k}={v}") for k, v in entry_fields(item).items())
    return str(item)


def _csv_field(field: str) -> str:
    """A `key=value` field of an entry, as buildx's CSV reader gets it back whole: quoted
    when it holds a comma, a quote or a line break (`dest=a,b` is not `dest=a` and `b`)."""
    if any(char in field for char in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def _outputs(
    planned: PlannedTarget, attrs: Mapping[str, Any], export_layout: bool, state_dir: str
) -> list[str]:
    outputs = [_entry_text(o) for o in attrs.get("output", [])]
    if export_layout:
        if not outputs:
            # Adding an output replaces the builder's default one: keep the image stored.
            outputs = ["type=docker"]
        # A dependency nobody asked for (cacheonly) is handed to its dependents by the
        # layout alone: nothing else is exported.
        outputs = [o for o in outputs if entry_fields(o).get("type") != "cacheonly"]
        outputs.append(f"type=oci,dest={oci_layout_dir(planned.name, state_dir)},tar=false")
    return [part for o in outputs for part in ("--output", o)]
