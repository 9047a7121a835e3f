"""Where buildgraph keeps things: a state folder (or anything in it) that is a link, or not
the user's, is refused, never followed; the user's cache is 0700, and an entry is trusted
only through folders and a file that are the user's alone and no links."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from buildgraph import locations
from buildgraph.errors import ConfigError
from buildgraph.runner.process import open_log


@pytest.fixture()
def elsewhere(tmp_path: Path) -> Path:
    """A folder outside the project that a committed link could point at."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "precious").write_text("keep me\n")
    return folder


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def refusal(root: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        locations.state_dir(root)
    [problem] = raised.value.problems
    assert problem.hint and "remove it" in problem.hint
    return str(raised.value)


def test_the_state_folder_is_made_and_ignores_itself(root: Path) -> None:
    state = locations.state_dir(root)
    assert state == root / ".buildgraph" and state.is_dir()
    assert (state / ".gitignore").read_text().endswith("*\n")
    (state / "logs").mkdir()
    (state / "logs" / "bake-1.log").write_text("")
    assert locations.state_dir(root) == state  # its own working files are fine


def test_a_state_folder_that_is_a_link_is_refused_not_followed(root: Path, elsewhere: Path) -> None:
    (root / ".buildgraph").symlink_to(elsewhere)
    message = refusal(root)
    assert f"{root / '.buildgraph'}: buildgraph's working folder is a symbolic link" in message
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]  # nothing written


def test_a_state_folder_that_is_a_dangling_link_is_refused(root: Path, tmp_path: Path) -> None:
    (root / ".buildgraph").symlink_to(tmp_path / "nowhere")
    assert "is a symbolic link" in refusal(root)
    assert not (tmp_path / "nowhere").exists()


def test_a_state_folder_that_is_a_file_is_refused(root: Path) -> None:
    (root / ".buildgraph").write_text("")
    assert "is not a directory" in refusal(root)


def test_a_state_folder_of_another_user_is_refused(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / ".buildgraph").mkdir()
    monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 4242)
    assert "belongs to another user" in refusal(root)


@pytest.mark.parametrize(
    "link",
    [
        ".gitignore",  # dangling: .gitignore would be created where it points
        "bake.json",
        "bake-1.metadata.json",
        "logs",
        "logs/bake-1.log",
        "metadata/app.json",
        "oci/app/index.json",
    ],
)
def test_a_committed_link_in_the_state_folder_is_refused(
    root: Path, elsewhere: Path, link: str
) -> None:
    path = root / ".buildgraph" / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(elsewhere / "target")
    message = refusal(root)
    assert f"{path}: a symbolic link in buildgraph's working folder" in message
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]


def test_a_log_is_never_written_through_a_link(root: Path, elsewhere: Path) -> None:
    log = root / "logs" / "bake-1.log"
    log.parent.mkdir()
    log.symlink_to(elsewhere / "precious")
    os.close(open_log(log))
    assert (elsewhere / "precious").read_text() == "keep me\n"
    assert not log.is_symlink() and log.read_text() == ""


def test_a_log_folder_that_is_a_link_is_not_written_into(root: Path, elsewhere: Path) -> None:
    (root / "logs").symlink_to(elsewhere)
    with pytest.raises(OSError):
        open_log(root / "logs" / "bake-1.log")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["precious"]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "buildgraph"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_cache_folders_are_made_0700_and_entries_0600(cache: Path) -> None:
    entry = locations.cache_entry("plans", "key", ".json")
    assert locations.write_private_entry(entry, b"data")
    assert (mode(cache), mode(cache / "plans"), mode(entry)) == (0o700, 0o700, 0o600)
    assert locations.read_private(entry) == b"data"


def test_a_cache_folder_made_wider_by_an_older_version_is_narrowed(cache: Path) -> None:
    (cache / "plans").mkdir(parents=True)
    cache.chmod(0o755)
    entry = locations.cache_entry("plans", "key", ".json")
    assert locations.write_private_entry(entry, b"data")
    assert mode(cache) == 0o700


def test_a_missing_entry_is_none(cache: Path) -> None:
    assert locations.read_private(locations.cache_entry("plans", "key", ".json")) is None


@pytest.mark.parametrize(
    "spoil",
    [
        "entry writable by the group",
        "entry writable by others",
        "folder writable by the group",
        "cache folder writable by others",
        "entry is a link",
        "folder is a link",
        "cache folder is a link",
        "entry is not the user's",
    ],
)
def test_an_entry_not_the_users_alone_is_not_trusted(
    cache: Path, tmp_path: Path, spoil: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = locations.cache_entry("plans", "key", ".json")
    assert locations.write_private_entry(entry, b"data")
    if spoil == "entry writable by the group":
        entry.chmod(0o620)
    elif spoil == "entry writable by others":
        entry.chmod(0o602)
    elif spoil == "folder writable by the group":
        entry.parent.chmod(0o770)
    elif spoil == "cache folder writable by others":
        cache.chmod(0o703)
    elif spoil == "entry is a link":
        real = entry.with_name("real")
        entry.rename(real)
        entry.symlink_to(real)  # to a file of the user's own, even
    elif spoil in ("folder is a link", "cache folder is a link"):
        folder = entry.parent if spoil == "folder is a link" else cache
        moved = tmp_path / "moved"
        folder.rename(moved)
        folder.symlink_to(moved)
    elif spoil == "entry is not the user's":
        monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 4242)
    assert locations.read_private(entry) is None


def test_no_entry_is_written_through_a_linked_cache_folder(cache: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    cache.parent.mkdir()
    cache.symlink_to(target)
    assert not locations.write_private_entry(locations.cache_entry("facts", "k", ".json"), b"x")
    assert list(target.iterdir()) == []


def test_the_project_lock_is_held_across_processes_and_dropped_with_its_holder(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    from buildgraph.errors import EnvironmentProblem
    from buildgraph.locations import ProjectLock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from buildgraph.locations import ProjectLock\n"
            f"lock = ProjectLock(Path({str(tmp_path)!r}))\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(EnvironmentProblem, match=f"process {holder.pid}"):
            ProjectLock(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    ProjectLock(tmp_path).release()  # the system dropped the dead holder's lock


def test_the_project_lock_file_is_never_a_link(tmp_path: Path) -> None:
    from buildgraph.locations import BUILD_LOCK, ProjectLock, state_dir

    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("keep")
    (state_dir(tmp_path) / BUILD_LOCK).symlink_to(elsewhere)
    with pytest.raises(ConfigError):
        ProjectLock(tmp_path)
    assert elsewhere.read_text() == "keep"


def test_pickles_of_older_versions_and_the_oldest_entries_beyond_the_limit_go(
    cache: Path, tmp_path: Path
) -> None:
    entries = [locations.cache_entry("plans", f"key{i}", ".json") for i in range(5)]
    for age, entry in enumerate(entries):
        assert locations.write_private_entry(entry, b"data")
        os.utime(entry, ns=(age * 10**9, age * 10**9))  # entries[4] the newest
    pickle = cache / "plans" / "0123456789abcdef.pickle"
    pickle.write_bytes(b"never unpickled")
    outside = tmp_path / "precious"
    outside.write_text("mine")
    link = cache / "plans" / "fedcba9876543210.json"
    link.symlink_to(outside)
    (cache / "plans" / "notes.txt").write_text("not an entry")
    locations.prune_entries("plans", keep=3)
    assert sorted(p.name for p in (cache / "plans").iterdir()) == sorted(
        [e.name for e in entries[2:]] + ["notes.txt"]
    )
    assert outside.read_text() == "mine"  # the link went, never what it points at


def test_a_cache_folder_not_the_users_is_left_alone(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "0123456789abcdef.pickle").write_text("x")
    cache.mkdir(parents=True)
    (cache / "plans").symlink_to(elsewhere)
    locations.prune_entries("plans", keep=0)
    assert (elsewhere / "0123456789abcdef.pickle").exists()
