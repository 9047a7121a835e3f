from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from buildgraph import atomic_write
from buildgraph.atomic_write import TEMPORARY_SUFFIX, remove_stale_temporaries, write_atomic


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    return int(child.stdout)


def test_a_replaced_file_keeps_its_mode_a_new_one_gets_the_default(tmp_path: Path) -> None:
    kept = tmp_path / "kept.sh"
    kept.write_text("old")
    kept.chmod(0o640)
    write_atomic(kept, "new", executable=True)
    assert kept.read_text() == "new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    fresh = tmp_path / "fresh.sh"
    write_atomic(fresh, "x", executable=True)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o755
    write_atomic(tmp_path / "plain", "x")
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o644


def test_temporaries_of_a_killed_write_are_removed_by_the_next(tmp_path: Path) -> None:
    stale = tmp_path / f".out.json.{dead_pid()}-abc123{TEMPORARY_SUFFIX}"
    alive = tmp_path / f".out.json.{os.getppid()}-def456{TEMPORARY_SUFFIX}"
    theirs = tmp_path / ".out.json.12-notours.tmp"
    for path in (stale, alive, theirs):
        path.write_text("half")
    write_atomic(tmp_path / "out.json", "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out.json", alive.name, theirs.name]
    )


def test_an_interrupted_write_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic_write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "out.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_long_name_gets_a_temporary_name_that_fits(tmp_path: Path) -> None:
    path = tmp_path / ("n" * 250)
    write_atomic(path, "x")  # the temporary file's name is longer than 255 bytes otherwise
    assert path.read_text() == "x"


def test_only_regular_files_are_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (folder, fifo):
        with pytest.raises(OSError):
            write_atomic(path, "x")
    assert folder.is_dir() and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder"]


def test_text_no_file_can_hold_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "bad \udc80 byte")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_stale_sweep_ignores_a_folder_it_cannot_read(tmp_path: Path) -> None:
    remove_stale_temporaries(tmp_path / "missing")


def test_write_private_makes_every_missing_folder_the_owners_alone(tmp_path: Path) -> None:
    import os
    import stat

    from buildgraph.atomic_write import write_private

    os.umask(0o022)
    entry = tmp_path / "a" / "b" / "c" / "entry.json"
    write_private(entry, b"{}")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
