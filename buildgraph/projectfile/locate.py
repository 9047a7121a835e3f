"""Where the project is defined: a buildgraph.toml (named by -f, or the nearest one
upwards from the working directory, as git finds .git), or bake's own definition files
(HCL, JSON or Compose, named by -f, or those bake itself picks up in the working folder).

Apart from reading it (loader): a build that reuses its plan needs the path alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from buildgraph.errors import ConfigError

PROJECT_FILE = "buildgraph.toml"
# What `docker buildx bake` reads with no -f, in its order (all found are merged).
BAKE_DEFAULT_FILES = (
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "docker-bake.json",
    "docker-bake.override.json",
    "docker-bake.hcl",
    "docker-bake.override.hcl",
)
FileArgument = Path | Sequence[Path] | None  # what -f gave: nothing, one path, or several
PROJECT_SUFFIXES = (".toml",)  # anything else -f names is bake's (HCL, JSON, Compose YAML)


@dataclass(frozen=True, slots=True)
class Definition:
    """Where a project is defined: one buildgraph.toml, or bake definition files (later
    ones override earlier ones, as in bake) read in `folder`, where bake runs."""

    files: tuple[Path, ...]  # absolute
    folder: Path
    of_bake: bool

    @property
    def file(self) -> Path:
        """The first file: the one messages name, the one a plan is recorded under."""
        return self.files[0]


def files_named(file: FileArgument) -> tuple[Path, ...]:
    """What -f gave: nothing, one path, or several (repeated -f)."""
    if file is None:
        return ()
    return (file,) if isinstance(file, Path) else tuple(file)


def locate_definition(file: FileArgument, cwd: Path | None = None) -> Definition:
    """The definition -f names, or with no -f the nearest buildgraph.toml, else the files
    bake would read in the working folder."""
    named = files_named(file)
    if not named:
        try:
            found = project_file_path(None, cwd)
        except ConfigError as missing:
            folder = cwd or working_directory()
            defaults = tuple(folder / n for n in BAKE_DEFAULT_FILES if (folder / n).is_file())
            if not defaults:
                raise ConfigError.one(
                    f"no {PROJECT_FILE} in {folder.resolve()} or any parent directory, and no "
                    f"bake or Compose file ({', '.join(BAKE_DEFAULT_FILES)}) in it",
                    hint="create a buildgraph.toml, or name a file with -f FILE",
                ) from missing
            return Definition(tuple(p.resolve() for p in defaults), folder.resolve(), True)
        return Definition((found,), found.parent, False)
    paths = tuple(project_file_path(p, cwd) for p in named)
    projects = [p for p in paths if p.suffix in PROJECT_SUFFIXES]
    if not projects:  # bake runs where the user is, and its relative paths start there
        return Definition(paths, (cwd or working_directory()).resolve(), True)
    if len(paths) > 1:
        raise ConfigError.one(
            "a buildgraph.toml is read alone: -f names it with other files",
            file=projects[0],
            hint="give one -f FILE.toml, or only bake and Compose files",
        )
    return Definition(paths, paths[0].parent, False)


def working_directory() -> Path:
    """The working directory, or a problem when it no longer exists (removed under us)."""
    try:
        return Path.cwd()
    except OSError as exc:
        raise ConfigError.one(
            f"cannot read the working directory: {exc.strerror or exc}",
            hint="cd to an existing directory, or name the project file with -f ABSOLUTE_PATH",
        ) from None


def find_project_file(start: Path) -> Path:
    """The nearest buildgraph.toml in `start` or its parents, as git finds .git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    raise ConfigError.one(
        f"no {PROJECT_FILE} in {start} or any parent directory",
        hint="create one, or name it with -f FILE (see `buildgraph schema` for its format)",
    )


def project_file_path(path: Path | None, cwd: Path | None = None) -> Path:
    """The absolute path of the project file `-f` names, or of the one found from cwd."""
    # An absolute -f needs no working directory (which may have been removed).
    absolute = path is not None and path.is_absolute()
    start = Path("/") if absolute else (cwd or working_directory())
    if path is None:
        return find_project_file(start).resolve()
    if "\0" in str(path):
        raise ConfigError.one(
            "the path given to -f holds a NUL byte", hint="check the path given to -f"
        )
    try:
        return (start / path).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a name too long
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = reason.split(" from '")[0]  # RuntimeError's "Symlink loop from '<path>'"
        raise ConfigError.one(
            f"cannot resolve the path given to -f: {reason}",
            file=start / path,
            hint="check the path given to -f",
        ) from None
