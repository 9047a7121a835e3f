"""Writing files atomically: readers see the old file or the new one, never half of it.

The new text goes to a temporary file beside the target, renamed over it when whole. The
temporary file's name says which process writes it (`.<name>.<pid>-<random>.tmp-bg`),
so one a killed process left behind is removed by the next write into that folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp-bg"
# Enough of the target's name to tell whose temporary file it is, short enough that the
# temporary name fits a file system's 255 bytes whatever the target's name is.
_NAME_PART = 40


def write_atomic(path: Path, text: str, executable: bool = False, durable: bool = True) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never half; and,
    `durable`, on disk before it replaces the old one (a crash leaves one of the two).

    A file replaced keeps its mode; a new one is 0644, or 0755 when `executable`. Only a
    regular file (or a symbolic link, itself, never what it points to) is replaced: a
    folder, device, FIFO or socket at `path` raises OSError. Text that cannot be UTF-8
    (a lone surrogate) raises UnicodeEncodeError before anything is written."""
    write_atomic_bytes(path, text.encode("utf-8"), executable, durable)


def write_atomic_bytes(
    path: Path, data: bytes, executable: bool = False, durable: bool = True
) -> None:
    """`write_atomic` of bytes (a picture)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_to_keep(path)
    if mode is None:
        mode = 0o755 if executable else 0o644
    _write_replacing(path, data, mode, durable)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` atomically, readable by the owner alone (the user's cache entries).
    Folders it makes are the owner's alone too: mkdir's `mode` applies to the last one
    only, so each missing one is made in turn."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    _write_replacing(path, data, None, durable=False)


def _write_replacing(path: Path, data: bytes, mode: int | None, durable: bool) -> None:
    remove_stale_temporaries(path.parent)
    fd, temporary = tempfile.mkstemp(
        prefix=f".{path.name[:_NAME_PART]}.{os.getpid()}-",
        suffix=TEMPORARY_SUFFIX,
        dir=path.parent,
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        _mode_to_keep(path)  # again, just before: nothing else may have taken its place
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_to_keep(path: Path) -> int | None:
    """The mode of the regular file at `path`; None when there is none (or a link)."""
    try:
        found = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(found):
        return stat.S_IMODE(found)
    if stat.S_ISLNK(found):
        return None
    if stat.S_ISDIR(found):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    raise OSError(errno.EEXIST, "exists and is not a regular file", str(path))


def remove_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files of writes whose process is gone (killed mid-write).
    One listing of the folder; a file is removed only if its name is of our form and the
    process it names no longer runs."""
    try:
        names = [n for n in os.listdir(folder) if n.endswith(TEMPORARY_SUFFIX)]
    except OSError:
        return
    for name in names:
        pid = _writer(name)
        if pid is not None and pid != os.getpid() and not _running(pid):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def _writer(name: str) -> int | None:
    """The pid in a temporary file's name `.<name>.<pid>-<random>.tmp-bg`, or None."""
    if not name.startswith("."):
        return None
    stem = name[: -len(TEMPORARY_SUFFIX)]
    head, dot, tail = stem.rpartition(".")
    pid, dash, _ = tail.partition("-")
    if not (head and dot and dash and pid.isdigit() and pid.isascii()):
        return None
    return int(pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's, or not a pid we can ask about: leave its file
    return True
