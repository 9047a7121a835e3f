"""`build --platform P`: the share of a plan one native runner builds.

On a CI runner of platform P, only platform P of each selected target is built and pushed
by digest, with no tag (`buildgraph join` makes the tags later, from every runner's
digests: docker's "distribute build across multiple runners" pattern). A target that
lacks P is not built there, unless a target built there needs it: then it is built for
that dependent only, as a dependency nobody asked for always is (never pushed), for the
platform the dependent reads of it.

Pure: from the plan and the platforms asked for, which targets build which platforms
here and which of them push. runner.split runs the share; plan.digests records it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError
from buildgraph.model.entries import pushes_to_registry
from buildgraph.projectfile.schema import PLATFORM_PATTERN

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget

# The unit of a target that declares no platforms: the builder's own (bake's `local`).
LOCAL = "local"


@dataclass(frozen=True, slots=True)
class PlatformShare:
    """What one runner builds: `builds` maps each target built here to the platforms
    built here (`local` for a target declaring none), `pushes` the targets pushed by digest
    here, `left_out` the planned targets other runners build."""

    platforms: tuple[str, ...]
    builds: Mapping[str, tuple[str, ...]]
    pushes: frozenset[str]
    left_out: tuple[str, ...]

    def recorded(self, name: str) -> tuple[str, ...]:
        """The platforms of `name` this runner's digests file records: its own share."""
        if name not in self.pushes:
            return ()
        return tuple(p for p in self.builds[name] if p in self.platforms)


def units_of(planned: PlannedTarget) -> tuple[str, ...]:
    """Every platform a target builds: its own, or the builder's when it declares none."""
    return planned.target.platforms or (LOCAL,)


def pushed_under_tags(planned: PlannedTarget) -> bool:
    """Whether the target goes to the registry under its tags: not an untagged one, nor a
    dependency nobody asked for (built cache-only), which its dependents get through
    per-platform layouts instead."""
    return bool(planned.target.tags) and pushes_to_registry(planned.outputs)


def platform_read(dependency: PlannedTarget, platform: str) -> str:
    """The platform of `dependency` that the `platform` build of a dependent reads: the
    same one, else its only (first) platform, which serves every platform of ours."""
    theirs = units_of(dependency)
    return platform if platform in theirs else theirs[0]


def check_platforms(platforms: Sequence[str]) -> tuple[str, ...]:
    """--platform's values, each os/arch[/variant] or `local`, duplicates dropped."""
    bad = [p for p in platforms if p != LOCAL and not re.match(PLATFORM_PATTERN, p)]
    if bad:
        raise ConfigError.one(
            f"--platform {bad[0]!r} is not a platform",
            hint="write os/arch or os/arch/variant (linux/amd64, linux/arm/v7), or local "
            "for the targets that declare no platforms",
        )
    return tuple(dict.fromkeys(platforms))


def platform_share(plan: Plan, platforms: Iterable[str]) -> PlatformShare:
    """The share of `plan` a runner building `platforms` builds (see the module's doc)."""
    asked = check_platforms(tuple(platforms))
    builds: dict[str, dict[str, None]] = {}
    pushes: set[str] = set()
    # Dependents come after their dependencies in plan order: walked backwards, every
    # dependent has said what it reads before its dependency is looked at.
    for planned in reversed(plan.targets):
        wanted = builds.setdefault(planned.name, {})
        own = [p for p in units_of(planned) if p in asked]
        if own and pushed_under_tags(planned):
            pushes.add(planned.name)
            wanted.update(dict.fromkeys(own))
        if not wanted:
            continue
        for dep in planned.needs:
            read = builds.setdefault(dep, {})
            for platform in wanted:
                read[platform_read(plan[dep], platform)] = None
    ordered = {
        p.name: tuple(u for u in units_of(p) if u in builds[p.name])
        for p in plan.targets
        if builds.get(p.name)
    }
    return PlatformShare(
        asked,
        MappingProxyType(ordered),
        frozenset(pushes),
        tuple(p.name for p in plan.targets if p.name not in ordered),
    )
