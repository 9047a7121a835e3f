"""Up-to-date check for `build`: the plan of an unchanged project, without planning again.

A plan is a function of few inputs: the project file, every target's Dockerfile (the graph
infers edges from all of them), whether each context directory and local named context
exists, the environment variables that `[variables]` read, the command line, and
buildgraph's own code. A build records those inputs beside its plan: the contents of the
files, existence for the paths, values for the variables. The next build with the same
command line reuses the plan when every input is as recorded, which skips TOML parsing,
templates (and the Jinja import) and Dockerfile parsing: most of a small build's fixed cost.
Any difference, or any doubt (an unreadable or foreign entry), is a miss and a full plan.

Entries live in the user's cache directory, never in the project, and are read only when
they and their folders are the user's alone (`locations.read_private`). They hold JSON,
which runs no code when read: exactly the dataclasses of a plan (`Plan`, its `Project` of
`Target`s and `Group`s, `PlannedTarget`s, the planned targets' `DockerfileInfo`s), each as
an array of its fields in order, decoded into the same frozen objects by a strict decoder:
a field of the wrong type, a missing or extra one, is a miss, never an exception. A plan
is recorded only when its entry decodes back to an equal plan.

An entry is two lines: the key and the inputs, checked first, then the plan, decoded only
when the inputs are unchanged. Decoding is a reused build's fixed cost, so the decoder is
written for speed: one pass, concrete type checks, one shared read-only mapping for every
empty one, each target encoded once (a planned target names its project's by position)
and each Dockerfile's facts once however many targets share them.
"""

from __future__ import annotations

import json
import os
import site
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.locations import cache_entry, prune_entries, read_private, write_private_entry
from buildgraph.model.project import is_local_named_context

if TYPE_CHECKING:
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo, ImageRef, Stage
    from buildgraph.model.project import Project
    from buildgraph.plan.plan import Plan

# Bumped when what an entry holds changes shape; old entries are then simply misses.
ENTRY_FORMAT = 3
PACKAGE = Path(__file__).resolve().parent.parent  # buildgraph/, every module of it
# A file whose inode changed this close to the start of planning may have changed after it
# was read, within one tick of the filesystem's clock: its plan is not recorded (git's
# "racily clean" rule). ctime, unlike mtime, cannot be set back by tools.
SETTLE_NS = 2_000_000_000
PLANS = "plans"  # the folder of the user's cache the entries live in


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Everything a plan was made from, as it was when it was made."""

    files: tuple[tuple[str, bytes], ...]  # path -> contents (compared whole: no hash to trust)
    directories: tuple[str, ...]  # each was a directory
    paths: tuple[str, ...]  # each existed
    environment: tuple[tuple[str, str | None], ...]  # variable -> value (None: unset)

    def unchanged(self, environ: Mapping[str, str]) -> bool:
        return (
            all(environ.get(name) == value for name, value in self.environment)
            and all(os.path.isdir(path) for path in self.directories)
            and all(os.path.exists(path) for path in self.paths)
            and all(_contents(Path(path)) == contents for path, contents in self.files)
        )


@dataclass(frozen=True, slots=True)
class CachedPlan:
    plan: Plan
    dockerfiles: Mapping[str, DockerfileInfo]  # of the planned targets, for the preflight
    reused: bool = False  # found up to date, rather than made by this run


@dataclass(frozen=True, slots=True)
class PathsRead:
    """What planning looked at on disk (`paths_read` gives them for a project)."""

    files: tuple[Path, ...]  # read: the project file, Dockerfiles
    directories: tuple[Path, ...]  # must be directories: contexts
    existing: tuple[Path, ...]  # must exist: local named contexts


def _contents(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def code_signature() -> str:
    """Changes whenever the code that plans does: buildgraph's own (an upgrade, or an edit in
    a checkout) and the libraries it uses (an install or upgrade changes site-packages)."""
    stats = []
    for path in sorted(PACKAGE.rglob("*.py")):
        info = path.stat()
        stats.append((str(path.relative_to(PACKAGE)), info.st_mtime_ns, info.st_size))
    libraries = [(folder, _mtime(folder)) for folder in site.getsitepackages()]
    return repr((sys.version, stats, libraries))


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def entry_key(
    project_file: Path,
    names: Iterable[str],
    mode: str,
    variables: Mapping[str, str],
    overrides: Iterable[str] = (),
) -> str:
    """What tells one build's plan from another's: the command line, and our own code."""
    key = (ENTRY_FORMAT, code_signature(), str(project_file), tuple(names), mode)
    return repr((*key, tuple(sorted(variables.items())), tuple(overrides)))


def entry_path(key: str) -> Path:
    return cache_entry(PLANS, key, ".json")


def lookup(key: str, environ: Mapping[str, str]) -> CachedPlan | None:
    """The recorded plan, if every input it was made from is unchanged."""
    data = read_private(entry_path(key))
    if data is None:
        return None
    try:
        return decode_entry(data, key, environ)
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError):
        return None  # truncated, damaged, or written by another version: plan afresh


def record(
    key: str,
    cached: CachedPlan,
    read: PathsRead,
    env_names: Iterable[str],
    environ: Mapping[str, str],
    started_ns: int,
) -> bool:
    """Record a plan just made from `read` and `env_names`, unless an input changed while
    (or just before) it was made. A cache that cannot be written only costs time."""
    files = list(dict.fromkeys(read.files))
    if any(_changed_since(path, started_ns - SETTLE_NS) for path in files):
        return False
    contents = {str(path): _contents(path) for path in files}
    inputs = PlanInputs(
        files=tuple((path, data) for path, data in contents.items() if data is not None),
        directories=tuple(dict.fromkeys(str(path) for path in read.directories)),
        paths=tuple(dict.fromkeys(str(path) for path in read.existing)),
        environment=tuple((name, environ.get(name)) for name in dict.fromkeys(env_names)),
    )
    if len(inputs.files) < len(contents):  # one could not be read again: trust nothing
        return False
    try:
        data = encode_entry(key, inputs, cached)
    except (ValueError, TypeError, LookupError, AttributeError, RecursionError):
        return False  # a value JSON cannot hold as it is: no entry, a plan every time
    written = write_private_entry(entry_path(key), data)
    if written:
        prune_entries(PLANS)
    return written


def encode_entry(key: str, inputs: PlanInputs, cached: CachedPlan) -> bytes:
    """The entry's bytes: the key and inputs on one line, the plan on the next. Raises
    ValueError when the plan would not decode back to an equal one."""
    header = [
        ENTRY_FORMAT,
        key,
        [[path, data.decode("latin-1")] for path, data in inputs.files],
        inputs.directories,
        inputs.paths,
        inputs.environment,
    ]
    body = json.dumps(
        encode_plan(cached), ensure_ascii=False, separators=(",", ":"), default=_plain
    )
    decoded = decode_plan(json.loads(body))
    if decoded.plan != cached.plan or decoded.dockerfiles != cached.dockerfiles:
        raise _Bad("the plan does not decode to itself")
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")) + "\n" + body
    return text.encode()


def decode_entry(data: bytes, key: str, environ: Mapping[str, str]) -> CachedPlan | None:
    """The plan of an entry written for `key`, if its inputs are unchanged (None if not).
    Raises ValueError, TypeError or LookupError on anything but what encode_entry writes."""
    end = data.index(b"\n")
    kept_format, kept_key, files, directories, paths, environment = _row(
        json.loads(data[:end]), _HEADER
    )
    if kept_format != ENTRY_FORMAT or kept_key != key:
        return None
    for pair in files:
        if type(pair) is not list or tuple(map(type, pair)) != _FILE:
            raise _Bad("not a file's path and contents")
    for pair in environment:
        if type(pair) is not list or tuple(map(type, pair)) not in _VARIABLE:
            raise _Bad("not a variable's name and value")
    inputs = PlanInputs(
        files=tuple((path, text.encode("latin-1")) for path, text in files),
        directories=_strs(directories),
        paths=_strs(paths),
        environment=tuple((name, value) for name, value in environment),
    )
    if not inputs.unchanged(environ):
        return None
    return replace(decode_plan(json.loads(data[end + 1 :])), reused=True)


def _changed_since(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_ctime_ns >= since_ns
    except OSError:
        return True


def paths_read(project: Project) -> PathsRead:
    """What planning this project looked at on disk, for the plan cache to check again."""
    files: list[Path] = [project.file]
    directories: list[Path] = []
    existing: list[Path] = []
    for target in project.targets.values():
        context = project.context_dir(target)
        if context is not None:
            directories.append(context)
        dockerfile = project.dockerfile_path(target)
        if dockerfile is not None:
            files.append(dockerfile)
        existing += [
            project.local_path(value)
            for value in target.contexts.values()
            if is_local_named_context(value)
        ]
    return PathsRead(tuple(files), tuple(directories), tuple(existing))


# The plan as JSON. Each dataclass is an array of its fields in order; the model's frozen
# values (strings, numbers, booleans, tuples, read-only mappings) are JSON's own, arrays
# read back as tuples and objects as read-only mappings. The decoder checks each array's
# shape at once (`tuple(map(type, row))`, in C) rather than field by field.

_HEADER = (int, str, list, list, list, list)
_FILE = (str, str)
_VARIABLE = {(str, str), (str, type(None))}
_EMPTY: Mapping[str, Any] = MappingProxyType({})  # read-only: one serves every empty one
_STR = {str}
_INT = {int}
_NONE = type(None)
_BODY = (list, list, list, str, list, list, dict)
_PROJECT = {(str, str, list, list, dict, dict), (str, _NONE, list, list, dict, dict)}
_TARGET = (str, dict, list, list, list, str, dict)
_GROUP = {(str, list, str, bool), (str, list, _NONE, bool)}
_PLANNED = (int, int, int, bool, list, list, dict, dict, int, list)
_INFO = (list, list)
_STAGE = {
    (int, name, str, platform, int, list) for name in (str, _NONE) for platform in (str, _NONE)
}
_IMAGE_REF = {(str, int, str, str), (str, int, str, _NONE)}


class _Bad(ValueError):
    """Not what encode_plan writes."""


def _plain(value: object) -> object:
    if type(value) is MappingProxyType:
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a value of the model")


def encode_plan(cached: CachedPlan) -> list[Any]:
    """The plan as JSON values (read-only mappings left to `_plain`): the project, the
    requested names, the planned targets (each naming its target by position in the
    project, and its output's description by position in the table after the mode), the
    mode, the distinct output descriptions, the distinct Dockerfile facts and which
    target has which."""
    plan = cached.plan
    project = plan.project
    position = {name: number for number, name in enumerate(project.targets)}
    texts: dict[str, int] = {}
    planned = []
    for item in plan.targets:
        if project.targets.get(item.name) is not item.target:
            raise _Bad(f"planned target {item.name!r} is not its project's")
        planned.append(
            [
                position[item.name],
                item.wave,
                item.bake_run,
                item.requested,
                item.needs,
                item.needed_by,
                item.links,
                item.wired,
                texts.setdefault(item.output, len(texts)),
                item.outputs,
            ]
        )
    numbers: dict[int, int] = {}  # id of a DockerfileInfo -> its position in `infos`
    infos: list[Any] = []
    for info in cached.dockerfiles.values():
        if id(info) not in numbers:
            numbers[id(info)] = len(infos)
            infos.append(
                [
                    [
                        [s.index, s.name, s.base, s.platform, s.line, s.run_lines]
                        for s in info.stages
                    ],
                    [[r.ref, r.line, r.instruction, r.stage] for r in info.external_refs],
                ]
            )
    targets = [
        [
            t.name,
            t.attrs,
            t.depends_on,
            t.watch_paths,
            t.watch_ignore,
            t.declared_as,
            t.matrix_values,
        ]
        for t in project.targets.values()
    ]
    groups = [[g.name, g.targets, g.description, g.from_matrix] for g in project.groups.values()]
    return [
        [str(project.file), project.name, targets, groups, project.variables, project.builders],
        plan.names,
        planned,
        plan.mode.value,
        list(texts),
        infos,
        {name: numbers[id(info)] for name, info in cached.dockerfiles.items()},
    ]


def decode_plan(body: object) -> CachedPlan:
    """What encode_plan wrote, as the same frozen objects; _Bad (a ValueError), TypeError
    or LookupError on anything else: a field of another type, a missing or extra one, a
    name that is no planned target's."""
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo, ImageRef, Stage
    from buildgraph.model.project import Group, Project, Target
    from buildgraph.plan.plan import OutputMode, Plan, PlannedTarget

    project_row, names, planned_rows, mode, texts, info_rows, shared = _row(body, _BODY)
    if tuple(map(type, project_row)) not in _PROJECT:
        raise _Bad("not a project")
    file, name, target_rows, group_rows, variables, builders = project_row
    make_target, make_planned = _makers(Target, PlannedTarget)
    targets: list[Target] = []
    for row in target_rows:
        if type(row) is not list or tuple(map(type, row)) != _TARGET:
            raise _Bad("not a target")
        t_name, attrs, depends_on, watch_paths, watch_ignore, declared_as, matrix = row
        if (depends_on or watch_paths or watch_ignore) and not set(
            map(type, chain(depends_on, watch_paths, watch_ignore))
        ) <= _STR:
            raise _Bad("not a target's names")
        targets.append(
            make_target(
                t_name,
                _attrs(attrs) if attrs else _EMPTY,
                tuple(depends_on),
                tuple(watch_paths),
                tuple(watch_ignore),
                declared_as,
                _mapping(matrix) if matrix else _EMPTY,
            )
        )
    groups: dict[str, Group] = {}
    for row in group_rows:
        if type(row) is not list or tuple(map(type, row)) not in _GROUP:
            raise _Bad("not a group")
        groups[row[0]] = Group(row[0], _strs(row[1]), row[2], row[3])
    by_name = {target.name: target for target in targets}
    path = Path(file)
    if len(by_name) != len(targets) or len(groups) != len(group_rows) or not path.is_absolute():
        raise _Bad("two targets or groups of one name, or a relative project file")
    project = Project(
        path,
        name,
        MappingProxyType(by_name),
        MappingProxyType(groups),
        _mapping(variables),
        _str_mapping(builders),
    )
    if set(map(type, texts)) - _STR:
        raise _Bad("not an output's description")
    planned: list[PlannedTarget] = []
    named: list[Any] = []  # every name a planned target gives: each must be planned
    for row in planned_rows:
        if type(row) is not list or tuple(map(type, row)) != _PLANNED:
            raise _Bad("not a planned target")
        number, wave, bake_run, requested, needs, needed_by, links, wired, text, outputs = row
        if number < 0 or text < 0:
            raise _Bad("not a position")
        named += chain(needs, needed_by, links.values(), wired.values())
        planned.append(
            make_planned(
                targets[number],
                wave,
                bake_run,
                requested,
                tuple(needs),
                tuple(needed_by),
                MappingProxyType(links) if links else _EMPTY,
                MappingProxyType(wired) if wired else _EMPTY,
                texts[text],
                _tuple(outputs) if outputs else (),
            )
        )
    planned_names = {item.name for item in planned}
    if set(map(type, named)) - _STR or not set(named) <= planned_names:
        raise _Bad("a planned target names one that is not planned")
    infos = [_dockerfile_info(row, DockerfileInfo, Stage, ImageRef) for row in info_rows]
    if not shared.keys() <= planned_names or set(map(type, shared.values())) - _INT:
        raise _Bad("not the planned targets' Dockerfiles")
    if shared and min(shared.values()) < 0:
        raise _Bad("not a position")
    dockerfiles = {key: infos[number] for key, number in shared.items()}
    plan = Plan(project, _strs(names), tuple(planned), OutputMode(mode))
    return CachedPlan(plan, dockerfiles)


def _dockerfile_info(
    row: object, info: type[DockerfileInfo], stage: type[Stage], image_ref: type[ImageRef]
) -> DockerfileInfo:
    stages, refs = _row(row, _INFO)
    for item in stages:
        if type(item) is not list or tuple(map(type, item)) not in _STAGE:
            raise _Bad("not a stage")
        if set(map(type, item[5])) - _INT:
            raise _Bad("not a stage's lines")
    for item in refs:
        if type(item) is not list or tuple(map(type, item)) not in _IMAGE_REF:
            raise _Bad("not an image reference")
    return info(
        tuple([stage(a, b, c, d, e, tuple(f)) for a, b, c, d, e, f in stages]),
        tuple([image_ref(*item) for item in refs]),
    )


_MADE: dict[type, Callable[..., Any]] = {}


def _makers(*classes: type) -> list[Callable[..., Any]]:
    """For each frozen, slotted dataclass, what makes one of its fields in order: an
    object given its fields through their slots, as __init__ does without its detour
    through object.__setattr__ for every field (half a target's decoding). The classes
    have no __post_init__ (a test checks that a made object equals a constructed one)."""
    return [_MADE.get(cls) or _MADE.setdefault(cls, _maker(cls)) for cls in classes]


def _maker(cls: type) -> Callable[..., Any]:
    from dataclasses import fields

    setters = [getattr(cls, field.name).__set__ for field in fields(cls)]
    if hasattr(cls, "__post_init__") or len(setters) not in (7, 10):
        return cls
    new = object.__new__
    if len(setters) == 7:  # Target
        s0, s1, s2, s3, s4, s5, s6 = setters

        def make7(a: Any, b: Any, c: Any, d: Any, e: Any, f: Any, g: Any) -> Any:
            made: Any = new(cls)
            s0(made, a)
            s1(made, b)
            s2(made, c)
            s3(made, d)
            s4(made, e)
            s5(made, f)
            s6(made, g)
            return made

        return make7
    t0, t1, t2, t3, t4, t5, t6, t7, t8, t9 = setters  # PlannedTarget

    def make10(
        a: Any, b: Any, c: Any, d: Any, e: Any, f: Any, g: Any, h: Any, i: Any, j: Any
    ) -> Any:
        made: Any = new(cls)
        t0(made, a)
        t1(made, b)
        t2(made, c)
        t3(made, d)
        t4(made, e)
        t5(made, f)
        t6(made, g)
        t7(made, h)
        t8(made, i)
        t9(made, j)
        return made

    return make10


def _row(value: object, shape: tuple[type, ...]) -> list[Any]:
    if type(value) is not list or tuple(map(type, value)) != shape:
        raise _Bad("not the fields expected")
    return value


def _strs(value: list[Any]) -> tuple[str, ...]:
    if set(map(type, value)) - _STR:
        raise _Bad("not an array of strings")
    return tuple(value)


def _str_mapping(value: dict[str, Any]) -> Mapping[str, str]:
    if set(map(type, value.values())) - _STR:
        raise _Bad("not an object of strings")
    return MappingProxyType(value) if value else _EMPTY


def _mapping(value: dict[str, Any]) -> Mapping[str, Any]:
    """A read-only mapping of the model's values."""
    if not value:
        return _EMPTY
    if set(map(type, value.values())) <= _STR:
        return MappingProxyType(value)
    return _attrs(value)


def _attrs(value: dict[str, Any]) -> Mapping[str, Any]:
    """`_mapping` of a target's attributes, which mix kinds of value. The common shapes (a
    string, a list of strings, a table of strings) are converted inline: a call per value
    costs more."""
    return MappingProxyType(
        {
            k: v
            if type(v) is str
            else tuple(v)
            if type(v) is list and set(map(type, v)) <= _STR
            else MappingProxyType(v)
            if type(v) is dict and set(map(type, v.values())) <= _STR
            else _value(v)
            for k, v in value.items()
        }
    )


def _tuple(value: list[Any]) -> tuple[Any, ...]:
    if set(map(type, value)) <= _STR:
        return tuple(value)
    return tuple([v if type(v) is str else _value(v) for v in value])


def _value(value: object) -> Any:
    """A frozen value of the model: what `model.project.freeze` makes of TOML's."""
    kind = type(value)
    if kind is str or kind is bool or kind is int or kind is float:
        return value
    if kind is list:
        return _tuple(value)  # type: ignore[arg-type]
    if kind is dict:
        return _mapping(value)  # type: ignore[arg-type]
    raise _Bad("not a value of the model")
