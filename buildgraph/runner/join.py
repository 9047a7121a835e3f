"""`buildgraph join`: each target's tags made from the digests every CI runner pushed of
its platforms (`build --platform P --digests-out FILE`), by `docker buildx imagetools
create`: the merge job of docker's "distribute build across multiple runners" pattern.

plan.digests reads and merges the files (pure); this module finds them on disk and runs
one `imagetools create` a target, a few at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError
from buildgraph.plan.digests import Join, TargetDigests, decode, joins
from buildgraph.report.events import Event, TargetResult
from buildgraph.runner.process import REAL_STARTER
from buildgraph.runner.split import join_digests

if TYPE_CHECKING:
    from buildgraph.report.events import Emit
    from buildgraph.runner.process import ProcessStarter

JOINS_AT_ONCE = 4  # registry round trips, not CPU: a few at once, as buildx pushes


def digest_files(paths: Iterable[Path]) -> list[Path]:
    """The files named: each path a file, or a folder searched for `*.json` files (what
    actions/download-artifact leaves), in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise ConfigError.one(f"{path}: no such file or folder", hint="pass digests files")
    if not found:
        raise ConfigError.one(
            "no digests file found",
            hint="pass the files or folders `build --platform P --digests-out FILE` wrote",
        )
    return found


def read_digests(paths: Iterable[Path]) -> dict[Path, dict[str, TargetDigests]]:
    read: dict[Path, dict[str, TargetDigests]] = {}
    for path in digest_files(paths):
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError.one(f"{path}: cannot be read ({error})") from None
        read[path] = decode(text, path)
    return read


def run_join(
    paths: Iterable[Path], emit: Emit, starter: ProcessStarter = REAL_STARTER
) -> list[TargetResult]:
    """Join every target the files name; a target some platform of which no file has is
    failed, its tags untouched (a tag never points at fewer platforms than declared)."""
    done, incomplete = joins(read_digests(paths))
    results = [
        TargetResult(
            i.target,
            (),
            "failed",
            detail=f"no runner pushed {', '.join(i.missing)}: its tags were not made",
        )
        for i in incomplete
    ]
    with ThreadPoolExecutor(max_workers=JOINS_AT_ONCE) as pool:
        results += pool.map(lambda j: joined(j, starter), done)
    for result in results:
        emit(
            Event(
                "finished",
                result.name,
                status=result.status,
                seconds=result.seconds,
                detail=result.detail if result.status != "done" else result.digest,
                data={"digest": result.digest} if result.digest else {},
            )
        )
    return results


def joined(join: Join, starter: ProcessStarter) -> TargetResult:
    started = time.monotonic()
    code, output, digest = join_digests(starter, join.tags, join.sources)
    seconds = time.monotonic() - started
    if code != 0:
        return TargetResult(join.target, join.platforms, "failed", seconds, None, output[-300:])
    return TargetResult(join.target, join.platforms, "done", seconds, digest)
