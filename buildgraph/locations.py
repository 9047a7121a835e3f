"""Where buildgraph keeps things: the state folder beside the project file, and the
user's cache folder, and what each must be before anything in it is trusted.

- `.buildgraph/` beside the project file holds the working files of builds: the bake file
  a build runs, logs, metadata, the OCI layouts that hand a dependency's result to its
  dependents. It ignores itself in git, and watch mode ignores it. A cloned repository can
  carry one, symbolic links included: a link there would have a build write wherever it
  points (the bake file over `~/.bashrc`). So the folder must be a real directory of the
  user's, and nothing buildgraph or buildx writes into it may be a link (`state_dir`
  refuses, naming the path).
- The user's cache (`$XDG_CACHE_HOME/buildgraph`, else `~/.cache/buildgraph`) holds what
  must come from no one but the user: recorded plans and kept builder facts. Its folders
  are made 0700; an entry is read only through folders and a file that are the user's, not
  links, and writable by no one else (`read_private`), anything else being a miss. Never
  the project's folder, for the reason above.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zlib
from pathlib import Path

from buildgraph.atomic_write import write_private
from buildgraph.errors import ConfigError, EnvironmentProblem

STATE_DIR_NAME = ".buildgraph"
# The OCI layouts of linked dependencies, as written into rendered scripts and commands
# (relative to the folder they run in).
OCI_LAYOUTS = f"{STATE_DIR_NAME}/oci"
# How deep below .buildgraph/ links are looked for: the layouts' own folders
# (oci/<name>/blobs/sha256) are the deepest buildx writes into by name; the blobs in them
# are renamed into place, which replaces a link rather than following it.
STATE_DEPTH = 3
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SHARED = stat.S_IWGRP | stat.S_IWOTH


def state_dir(project_root: Path) -> Path:
    """.buildgraph/ beside the project file, made on first use, ignoring itself in git.

    Refused (ConfigError, naming the path) when it is a link, not a directory, not the
    user's, or holds a link where buildgraph or buildx writes."""
    folder = project_root / STATE_DIR_NAME
    try:
        folder.mkdir()
    except FileExistsError:
        check_state_dir(folder)
    ignore = folder / ".gitignore"
    if not ignore.exists():  # not a link: check_state_dir refused those
        ignore.write_text("# buildgraph's working files\n*\n")
    return folder


def check_state_dir(folder: Path) -> None:
    """Refuse a state folder that is not the user's own real directory, or that holds a
    symbolic link (to the depth buildgraph and buildx write at)."""
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise _refused(
            folder,
            "buildgraph's working folder is a symbolic link",
            "buildgraph never follows one here",
        )
    if not stat.S_ISDIR(info.st_mode):
        raise _refused(
            folder,
            "buildgraph's working folder is not a directory",
            "buildgraph keeps its working files here",
        )
    if info.st_uid != os.getuid():
        raise _refused(
            folder,
            f"buildgraph's working folder belongs to another user (uid {info.st_uid})",
            "buildgraph writes only into a folder of its user's",
        )
    _refuse_links(folder, folder, STATE_DEPTH)


def _refuse_links(state: Path, folder: Path, depth: int) -> None:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_symlink():
                raise _refused(
                    Path(entry.path),
                    "a symbolic link in buildgraph's working folder",
                    "buildgraph never writes through one",
                    state,
                )
            if depth > 1 and entry.is_dir(follow_symlinks=False):
                _refuse_links(state, Path(entry.path), depth - 1)


def _refused(path: Path, what: str, why: str, state: Path | None = None) -> ConfigError:
    return ConfigError.one(
        what,
        file=path,
        hint=f"{why}: remove it ({state or path} holds only working files, made again by the "
        "next build), and keep .buildgraph/ out of version control",
    )


BUILD_LOCK = "build.lock"


class ProjectLock:
    """One build or watch at a time in a project: both write the same working files
    (.buildgraph/bake.json, logs, metadata), so a second one is refused at once, never
    left to mix its state with the first's. An advisory `flock` on .buildgraph/build.lock:
    the system drops it when the process ends, however it ends."""

    def __init__(self, project_root: Path) -> None:
        import fcntl

        path = state_dir(project_root) / BUILD_LOCK
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self.fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise EnvironmentProblem(
                f"another buildgraph build or watch is running in {project_root} "
                f"(process {holder}): one at a time per project\n"
                "  fix: wait for it to end, or stop it"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1


def user_cache_dir() -> Path:
    """buildgraph's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "buildgraph"


def cache_entry(folder: str, key: str, suffix: str) -> Path:
    """The file in the user's cache for `key`. A short name (zlib's checksums: no hashlib,
    whose OpenSSL start-up costs every run 6 ms), so each entry must hold its whole key:
    two keys sharing a name then only take each other's place."""
    data = key.encode()
    return user_cache_dir() / folder / f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{suffix}"


def _private_folders(path: Path) -> list[Path]:
    """The folders an entry is trusted through: from the user's cache folder down to the
    entry's own (only its own, for an entry elsewhere)."""
    folder, base = path.parent, user_cache_dir()
    if folder != base and base not in folder.parents:
        return [folder]
    folders = [base]
    for part in folder.relative_to(base).parts:
        folders.append(folders[-1] / part)
    return folders


def _trusted(info: os.stat_result, kind: int) -> bool:
    return (
        stat.S_IFMT(info.st_mode) == kind
        and info.st_uid == os.getuid()
        and not info.st_mode & _SHARED
    )


def read_private(path: Path) -> bytes | None:
    """An entry of the user's cache, or None when it is missing or not to be trusted: it,
    or a folder it is read through, is a link, is not the user's, or is writable by the
    group or others. Each is opened without following links and checked once open."""
    opened: list[int] = []
    try:
        parent: int | None = None
        for folder in _private_folders(path):
            name = folder if parent is None else folder.name
            opened.append(os.open(name, _DIRECTORY, dir_fd=parent))
            parent = opened[-1]
            if not _trusted(os.fstat(parent), stat.S_IFDIR):
                return None
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        opened.append(os.open(path.name, flags, dir_fd=parent))
        info = os.fstat(opened[-1])
        if not _trusted(info, stat.S_IFREG):
            return None
        with os.fdopen(opened.pop(), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        for descriptor in opened:
            os.close(descriptor)


def write_private_entry(path: Path, data: bytes) -> bool:
    """Write an entry of the user's cache, readable by the user alone, making its folders
    0700 (and taking back group and other access to folders of the user's made wider by
    older versions). False, and nothing written, when a folder is a link or not the
    user's."""
    try:
        folders = _private_folders(path)
        folders[0].parent.mkdir(parents=True, exist_ok=True)  # $XDG_CACHE_HOME, ~/.cache
        for folder in folders:
            try:
                folder.mkdir(mode=0o700)
                folder.chmod(0o700)  # whatever the umask
            except FileExistsError:
                info = os.lstat(folder)
                if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                    return False
                if stat.S_IMODE(info.st_mode) & 0o077:
                    folder.chmod(0o700)
        write_private(path, data)
    except OSError:
        return False
    return True


# Entries kept per cache folder: one per project and command line, and a plan of a large
# project is large. The least recently written go first.
MOST_ENTRIES = 128
_ENTRY_NAME = re.compile(r"[0-9a-f]{16}\.(json|pickle)")  # cache_entry's names, ours and older


def prune_entries(folder: str, keep: int = MOST_ENTRIES) -> None:
    """Remove from the user's cache folder `folder` the entries older versions wrote (as
    pickles, which are never read again) and the oldest beyond `keep`. Only files named
    as entries, of the user's own, in a folder of the user's own; links are removed as
    links, never followed."""
    base = user_cache_dir() / folder
    try:
        info = os.lstat(base)
        if not _trusted(info, stat.S_IFDIR):
            return
        entries = []
        with os.scandir(base) as found:
            for entry in found:
                if not _ENTRY_NAME.fullmatch(entry.name):
                    continue
                meta = entry.stat(follow_symlinks=False)
                if meta.st_uid != os.getuid():
                    continue
                if entry.name.endswith(".pickle") or not stat.S_ISREG(meta.st_mode):
                    _remove(Path(entry.path))
                else:
                    entries.append((meta.st_mtime_ns, entry.path))
    except OSError:
        return
    entries.sort(reverse=True)
    for _, path in entries[keep:]:
        _remove(Path(path))


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
