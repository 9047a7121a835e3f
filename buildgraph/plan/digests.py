"""The digests file of `build --platform P --digests-out FILE`, and what `buildgraph join`
makes of several: each target's tags from the digests every runner pushed.

One file a runner:

    {"buildgraph": "digests", "version": 1, "platforms": ["linux/arm64"],
     "targets": {"app": {"repository": "localhost:5000/acme/app",
                         "tags": ["localhost:5000/acme/app:1"],
                         "platforms": ["linux/amd64", "linux/arm64"],
                         "digests": {"linux/arm64": "sha256:..."}}}}

`platforms` of a target is every platform it declares (`["local"]` for one declaring
none), so that the join can tell a target whose runners all reported from one that one
runner left out. Pure: files in, `Join`s out; runner.join runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildgraph.errors import ConfigError, Problem

KIND = "digests"
VERSION = 1
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class TargetDigests:
    """What one runner pushed of one target: the digest of each platform it built."""

    repository: str  # where the digests are: the repository of the first tag
    tags: tuple[str, ...]
    platforms: tuple[str, ...]  # every platform the target declares
    digests: Mapping[str, str]  # platform -> digest, of those this runner built


@dataclass(frozen=True, slots=True)
class Join:
    """One `imagetools create`: the target's tags over one digest a platform."""

    target: str
    tags: tuple[str, ...]
    sources: tuple[str, ...]  # repository@digest, in the target's platform order
    platforms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Incomplete:
    """A target some of whose platforms no runner reported: its tags are not made."""

    target: str
    missing: tuple[str, ...]


def encode(platforms: Iterable[str], targets: Mapping[str, TargetDigests]) -> str:
    """A runner's digests file."""
    document = {
        "buildgraph": KIND,
        "version": VERSION,
        "platforms": list(platforms),
        "targets": {
            name: {
                "repository": t.repository,
                "tags": list(t.tags),
                "platforms": list(t.platforms),
                "digests": dict(t.digests),
            }
            for name, t in targets.items()
        },
    }
    return json.dumps(document, indent=2) + "\n"


def decode(text: str, source: Path) -> dict[str, TargetDigests]:
    """The targets of one digests file; anything else is exit 2, naming the file."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _bad(source, f"not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("buildgraph") != KIND:
        raise _bad(source, "not a digests file of `buildgraph build --digests-out`")
    if document.get("version") != VERSION:
        raise _bad(source, f"version {document.get('version')!r}, this buildgraph reads {VERSION}")
    targets = document.get("targets")
    if not isinstance(targets, dict):
        raise _bad(source, "no `targets` table")
    return {str(name): _target(entry, source, str(name)) for name, entry in targets.items()}


def _target(entry: Any, source: Path, name: str) -> TargetDigests:
    if not isinstance(entry, dict):
        raise _bad(source, f"target {name!r} is not a table")
    repository, tags = entry.get("repository"), entry.get("tags")
    platforms, digests = entry.get("platforms"), entry.get("digests")
    if not (
        isinstance(repository, str)
        and _strings(tags)
        and tags
        and _strings(platforms)
        and isinstance(digests, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items())
    ):
        raise _bad(source, f"target {name!r} lacks repository, tags, platforms or digests")
    for platform, digest in digests.items():
        if not DIGEST.match(digest):
            raise _bad(source, f"target {name!r}, {platform}: {digest!r} is not a sha256 digest")
    return TargetDigests(repository, tuple(tags or ()), tuple(platforms or ()), dict(digests))


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _bad(source: Path, why: str) -> ConfigError:
    return ConfigError(
        Problem(
            f"{why}",
            file=source,
            hint="pass the files `buildgraph build --platform P --digests-out FILE` wrote",
        )
    )


def joins(files: Mapping[Path, Mapping[str, TargetDigests]]) -> tuple[list[Join], list[Incomplete]]:
    """Each target's join, from every runner's file (in the order given); a target whose
    files disagree (other tags, another digest for one platform: two runners that did not
    build the same plan) is exit 2, a target lacking a platform is `Incomplete`."""
    merged: dict[str, TargetDigests] = {}
    first_in: dict[str, Path] = {}
    problems: list[Problem] = []
    for source, targets in files.items():
        for name, theirs in targets.items():
            mine = merged.get(name)
            if mine is None:
                merged[name], first_in[name] = theirs, source
                continue
            clash = _clash(mine, theirs)
            if clash:
                problems.append(
                    Problem(
                        f"target {name!r}: {clash} in {first_in[name]} and {source}",
                        file=source,
                        target=name,
                        hint="every runner must build the same plan (same commit, "
                        "variables and --since); build them again",
                    )
                )
                continue
            merged[name] = TargetDigests(
                mine.repository,
                mine.tags,
                mine.platforms,
                {**mine.digests, **theirs.digests},
            )
    if problems:
        raise ConfigError(*problems)
    done: list[Join] = []
    incomplete: list[Incomplete] = []
    for name, target in merged.items():
        missing = tuple(p for p in target.platforms if p not in target.digests)
        if missing:
            incomplete.append(Incomplete(name, missing))
            continue
        sources = tuple(f"{target.repository}@{target.digests[p]}" for p in target.platforms)
        done.append(Join(name, target.tags, sources, target.platforms))
    return done, incomplete


def _clash(mine: TargetDigests, theirs: TargetDigests) -> str | None:
    if (mine.repository, mine.tags, mine.platforms) != (
        theirs.repository,
        theirs.tags,
        theirs.platforms,
    ):
        return "other tags or platforms"
    for platform, digest in theirs.digests.items():
        if mine.digests.get(platform, digest) != digest:
            return f"two digests of {platform}"
    return None
