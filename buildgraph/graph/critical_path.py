"""The critical path of a build: the chain of dependent targets whose measured seconds
add up to the most. However many builds run at once, the run takes at least that long,
so it is what to split (or cache better) to make the whole build faster.

The plan lists its targets in build order (every dependency before its dependents), so
one pass over it finds the longest chain, linear in targets and edges: networkx's
`dag_longest_path` would give the same, at the cost of its import after every build."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CriticalPath:
    targets: tuple[str, ...]  # dependencies first
    seconds: float  # the sum of their own seconds


def critical_path(
    build_order: Iterable[tuple[str, tuple[str, ...]]], seconds: Mapping[str, float]
) -> CriticalPath:
    """The longest chain by `seconds` (a target missing there counts 0) through
    `build_order`: (target, its direct dependencies) pairs, dependencies first. Ties go
    to the chain met first in build order, so the answer is the same on every run."""
    longest: dict[str, float] = {}
    came_from: dict[str, str | None] = {}
    best: str | None = None
    for name, needs in build_order:
        before = None
        for dependency in needs:
            if dependency in longest and (before is None or longest[dependency] > longest[before]):
                before = dependency
        longest[name] = seconds.get(name, 0.0) + (longest[before] if before else 0.0)
        came_from[name] = before
        if best is None or longest[name] > longest[best]:
            best = name
    chain = []
    while best is not None:
        chain.append(best)
        best = came_from[best]
    return CriticalPath(tuple(reversed(chain)), sum(seconds.get(n, 0.0) for n in chain))
