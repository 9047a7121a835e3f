"""The user's cache of file hashes, so that fingerprints of an unchanged tree read no file.

A file's hash is kept under its absolute path with what `lstat` says of it: size, mtime,
inode, device and ctime. A later run trusts it only when all five are the same (a change of
contents moves mtime and ctime; an extended attribute set or removed moves ctime, and the
attributes are kept beside the hash for that reason). Git's "racily clean" rule, which
`build.uptodate` applies to plans, applies here: a file whose ctime or mtime is within
`SETTLE_NS` of the run's start may change again within one tick of the filesystem's clock
without either moving, so it is hashed every time until it settles, never kept.

One entry per project file, in the user's cache (never the project's folder: a cloned
repository could carry any hash it likes), read only through `locations.read_private`,
as JSON, which runs no code when read. Anything unexpected, a whole entry of another
format or key or a single record of the wrong shape, is a miss: the file is hashed again.
The absolute paths kept here never reach a fingerprint.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

from buildgraph.build.uptodate import SETTLE_NS
from buildgraph.locations import cache_entry, prune_entries, read_private, write_private_entry

CACHE_FORMAT = 1  # bumped when a record changes shape: older entries are then misses
HASHES = "hashes"  # the folder of the user's cache the entries live in
# Records kept of files this run did not look at (a plan of some targets must not evict
# the hashes of the others); past this many, only this run's are kept.
MOST_RECORDS = 200_000

Xattrs = tuple[tuple[str, str], ...]  # name -> value (hex), sorted by name


@dataclass(frozen=True, slots=True)
class FileHash:
    """What BuildKit's cache key takes of a regular file besides its path and mode."""

    digest: str  # sha256 of the contents, hex
    xattrs: Xattrs = ()


def stat_key(info: os.stat_result) -> list[int]:
    """The facts a kept hash must match: size, mtime, inode, device, ctime."""
    return [info.st_size, info.st_mtime_ns, info.st_ino, info.st_dev, info.st_ctime_ns]


class HashCache:
    """The kept hashes of one project's files, for one run."""

    def __init__(
        self, key: str, kept: dict[str, Any] | None = None, started_ns: int | None = None
    ) -> None:
        self.key = key
        self.kept: dict[str, Any] = kept or {}
        self.started_ns = time.time_ns() if started_ns is None else started_ns
        self.fresh: dict[str, list[Any]] = {}  # records made this run
        self.hits = 0
        self.misses = 0

    @classmethod
    def load(cls, key: str, started_ns: int | None = None) -> HashCache:
        """The cache kept for `key`; an empty one when there is none to trust."""
        return cls(key, _decoded(read_private(cache_entry(HASHES, key, ".json")), key), started_ns)

    def get(self, path: str, info: os.stat_result) -> FileHash | None:
        """The kept hash of the file at `path` as `info` describes it, or None."""
        record = self.kept.get(path)
        if not (  # field by field: an unchanged re-run makes this test once per file
            type(record) is list
            and len(record) == 7
            and record[0] == info.st_size
            and record[1] == info.st_mtime_ns
            and record[2] == info.st_ino
            and record[3] == info.st_dev
            and record[4] == info.st_ctime_ns
            and type(record[5]) is str
            and type(record[6]) is list
        ):
            self.misses += 1
            return None
        xattrs = record[6]
        if xattrs and not all(_is_xattr(pair) for pair in xattrs):
            self.misses += 1
            return None
        self.hits += 1
        return FileHash(record[5], tuple((name, value) for name, value in xattrs))

    def put(self, path: str, info: os.stat_result, hashed: FileHash) -> None:
        """Keep a hash just made, unless the file changed too recently to be trusted."""
        settled = self.started_ns - SETTLE_NS
        if info.st_ctime_ns >= settled or info.st_mtime_ns >= settled:
            return
        self.fresh[path] = [*stat_key(info), hashed.digest, [list(p) for p in hashed.xattrs]]

    def save(self) -> bool:
        """Write the entry back when this run hashed something worth keeping. A cache
        that cannot be written only costs time."""
        if not self.fresh:
            return False
        kept = self.kept if len(self.kept) + len(self.fresh) <= MOST_RECORDS else {}
        records = {**kept, **self.fresh}
        data = json.dumps([CACHE_FORMAT, self.key, records], separators=(",", ":"))
        written = write_private_entry(cache_entry(HASHES, self.key, ".json"), data.encode())
        if written:
            prune_entries(HASHES)
        return written


def _is_xattr(pair: object) -> bool:
    return type(pair) is list and len(pair) == 2 and all(type(p) is str for p in pair)


def _decoded(data: bytes | None, key: str) -> dict[str, Any]:
    """The records of an entry written for `key`; none for anything else."""
    if data is None:
        return {}
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    if (
        type(value) is not list
        or len(value) != 3
        or type(value[0]) is not int
        or value[0] != CACHE_FORMAT
        or value[1] != key
        or type(value[2]) is not dict
    ):
        return {}
    return value[2]
