"""Up-to-date check for `build`: the plan of an unchanged project, without planning again.

A plan is a function of few inputs: the project file, every target's Dockerfile (the graph
infers edges from all of them), whether each context directory and local named context
exists, the environment variables that `[variables]` read, the command line, and
buildgraph's own code. A build records those inputs beside its plan: the contents of the
files, existence for the paths, values for the variables. The next build with the same
command line reuses the plan when every input is as recorded, which skips TOML parsing,
templates (and the Jinja import) and Dockerfile parsing: most of a small build's fixed cost.
Any difference, or any doubt (an unreadable or foreign entry), is a miss and a full plan.

Entries live in the user's cache directory, never in the project: a pickle runs code when
it is loaded, so it must come from no one but the user (a cloned repository could carry a
`.buildgraph/` of someone else's).
"""

from __future__ import annotations

import copyreg
import os
import pickle
import site
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.atomic_write import write_private
from buildgraph.locations import cache_entry
from buildgraph.model.project import is_local_named_context

if TYPE_CHECKING:
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo
    from buildgraph.model.project import Project
    from buildgraph.plan.plan import Plan

# Bumped when what an entry holds changes shape; old entries are then simply misses.
ENTRY_FORMAT = 2
PACKAGE = Path(__file__).resolve().parent.parent  # buildgraph/, every module of it
# A file whose inode changed this close to the start of planning may have changed after it
# was read, within one tick of the filesystem's clock: its plan is not recorded (git's
# "racily clean" rule). ctime, unlike mtime, cannot be set back by tools.
SETTLE_NS = 2_000_000_000


def _read_only(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


# The resolved model is frozen into read-only mappings, which pickle cannot write as such.
copyreg.pickle(MappingProxyType, lambda proxy: (_read_only, (dict(proxy),)))


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
    project_file: Path, names: Iterable[str], mode: str, variables: Mapping[str, str]
) -> str:
    """What tells one build's plan from another's: the command line, and our own code."""
    key = (ENTRY_FORMAT, code_signature(), str(project_file), tuple(names), mode)
    return repr((*key, tuple(sorted(variables.items()))))


def entry_path(key: str) -> Path:
    return cache_entry("plans", key, ".pickle")


def lookup(key: str, environ: Mapping[str, str]) -> CachedPlan | None:
    """The recorded plan, if every input it was made from is unchanged."""
    try:
        with entry_path(key).open("rb") as handle:
            kept_key, inputs, cached = pickle.load(handle)
    except Exception:  # missing, truncated, or written by another version: plan afresh
        return None
    if kept_key != key or not isinstance(inputs, PlanInputs):
        return None
    if not isinstance(cached, CachedPlan) or not inputs.unchanged(environ):
        return None
    return replace(cached, reused=True)


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
        data = pickle.dumps((key, inputs, cached), protocol=pickle.HIGHEST_PROTOCOL)
        write_private(entry_path(key), data)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return False
    return True


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
