"""Where the project file is: named by -f, or the nearest buildgraph.toml upwards from
the working directory, as git finds .git.

Apart from reading it (loader): a build that reuses its plan needs the path alone.
"""

from __future__ import annotations

from pathlib import Path

from buildgraph.errors import ConfigError

PROJECT_FILE = "buildgraph.toml"


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
