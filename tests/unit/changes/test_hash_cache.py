"""changes.hash_cache: a kept hash is used only for the file as it was, never for one that
changed too recently to be trusted, and never from an entry that is not ours."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from buildgraph.build.uptodate import SETTLE_NS
from buildgraph.changes.hash_cache import CACHE_FORMAT, HASHES, FileHash, HashCache
from buildgraph.locations import cache_entry

KEY = "fingerprints /somewhere/buildgraph.toml"
HASHED = FileHash("ab" * 32, (("user.note", "78"),))


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def settled() -> int:
    """A run's start far enough after the files were written for them to be trusted."""
    return time.time_ns() + 2 * SETTLE_NS


def a_file(tmp_path: Path, text: str = "x") -> tuple[str, os.stat_result]:
    path = tmp_path / "file"
    path.write_text(text)
    return str(path), os.lstat(path)


def test_a_hash_kept_is_found_again_for_the_same_file(tmp_path: Path) -> None:
    path, info = a_file(tmp_path)
    cache = HashCache(KEY, started_ns=settled())
    cache.put(path, info, HASHED)
    assert cache.save()
    again = HashCache.load(KEY, settled())
    assert again.get(path, info) == HASHED
    assert (again.hits, again.misses) == (1, 0)
    assert not again.save()  # nothing new: nothing written


def test_a_file_changed_since_is_a_miss(tmp_path: Path) -> None:
    path, info = a_file(tmp_path)
    cache = HashCache(KEY, started_ns=settled())
    cache.put(path, info, HASHED)
    cache.save()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    assert HashCache.load(KEY, settled()).get(path, os.lstat(path)) is None


def test_a_racily_clean_file_is_hashed_but_never_kept(tmp_path: Path) -> None:
    path, info = a_file(tmp_path)
    cache = HashCache(KEY)  # starts now: the file was written within SETTLE_NS
    cache.put(path, info, HASHED)
    assert not cache.fresh and not cache.save()
    assert HashCache.load(KEY).get(path, info) is None


def _write_entry(value: object) -> Path:
    entry = cache_entry(HASHES, KEY, ".json")
    entry.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    entry.parent.parent.chmod(0o700)
    entry.write_text(json.dumps(value))
    entry.chmod(0o600)
    return entry


def _record(info: os.stat_result) -> list[object]:
    key = [info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev, info.st_ctime_ns]
    return [*key, "ab" * 32, []]


def test_an_entry_written_by_hand_as_ours_is_read(tmp_path: Path) -> None:
    path, info = a_file(tmp_path)
    _write_entry([CACHE_FORMAT, KEY, {path: _record(info)}])
    assert HashCache.load(KEY).get(path, info) == FileHash("ab" * 32)


@pytest.mark.parametrize(
    "what",
    [
        "another key",
        "another format",
        "a boolean format",
        "not JSON",
        "a record of bad shape",
        "an xattr of bad shape",
        "not a list",
    ],
)
def test_a_foreign_or_corrupt_entry_is_a_miss(tmp_path: Path, what: str) -> None:
    path, info = a_file(tmp_path)
    record = _record(info)
    values: dict[str, object] = {
        "another key": [CACHE_FORMAT, "fingerprints /elsewhere", {path: record}],
        "another format": [CACHE_FORMAT + 1, KEY, {path: record}],
        "a boolean format": [True, KEY, {path: record}],
        "a record of bad shape": [CACHE_FORMAT, KEY, {path: [*record[:5], 7, []]}],
        "an xattr of bad shape": [CACHE_FORMAT, KEY, {path: [*record[:6], [["a"]]]}],
        "not a list": {"format": CACHE_FORMAT},
    }
    if what == "not JSON":
        entry = _write_entry([])
        entry.write_bytes(b"\x80[not json")
    else:
        _write_entry(values[what])
    assert HashCache.load(KEY).get(path, info) is None


def test_an_entry_others_may_write_is_not_trusted(tmp_path: Path) -> None:
    path, info = a_file(tmp_path)
    entry = _write_entry([CACHE_FORMAT, KEY, {path: _record(info)}])
    entry.chmod(0o666)
    assert HashCache.load(KEY).get(path, info) is None


def test_hashes_of_files_this_run_did_not_look_at_are_kept(tmp_path: Path) -> None:
    """A plan of some targets must not evict the hashes of the others'."""
    path, info = a_file(tmp_path)
    first = HashCache(KEY, started_ns=settled())
    first.put(path, info, HASHED)
    first.save()
    other = tmp_path / "other"
    other.write_text("y")
    second = HashCache.load(KEY, settled())
    second.put(str(other), os.lstat(other), FileHash("cd" * 32))
    second.save()
    assert HashCache.load(KEY, settled()).get(path, info) == HASHED
