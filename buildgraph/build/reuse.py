"""Reusing what the registry already holds: which targets `build` need not build, and the
plan of what is left.

A target that pushes to a registry is looked up by its content fingerprint
(changes.fingerprints): the tag `<repo>:bg-<fingerprint hex>` on the repository of its
first pushed reference, which buildgraph writes only after a push of that target
succeeded. When the tag is there, the target is not built: its references are pointed
at that manifest, and its dependents built here get it as `docker-image://repo@digest`
instead of `target:NAME`: the digest whose inputs equal the current ones, never a stale
base. The decisions are pure (`decide`, `reduced_plan`); the requests are runner.registry's.

- Reused only when every input is covered: that is the fingerprint's rule, so a changed
  base changes every dependent's fingerprint (its hash is in theirs) and rebuilds them.
- A registry that is down, refuses the lookup or answers oddly means "build", never
  "skip" (the caller notes why).
- Forced builds: `--rebuild` (all, or named targets) and `no-cache = true` build, and
  so do their dependents in the plan: what a forced build makes may differ from the image
  the registry holds (a base image's tag moved, a `RUN apt-get update`), so images built
  on it are built again.
- A target that pushes nowhere (no tags with --push, an `output` that is not a registry,
  or a registry output with options beyond its names, whose image could differ from the
  one reused) is never looked up: it is built, unless nobody asked for it and every
  dependent of it in the plan is reused, when it is not built at all (`unneeded`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from buildgraph.model.entries import entry_fields
from buildgraph.model.image_refs import repository
from buildgraph.plan.plan import Plan, PlannedTarget

TAG_PREFIX = "bg-"
_LONGEST_TAG = 128  # distribution's rule for a tag
# What a registry output may say and its image still be the one any other push of the
# same inputs made: its type and where it goes.
_PLAIN_OUTPUT_KEYS = frozenset({"type", "name", "push"})


def fingerprint_tag(fingerprint: str) -> str:
    """`bg-<hex>`: the tag a target's fingerprint is kept under (67 characters, within a
    tag's 128; cut to fit should the digest ever be longer)."""
    hex_digits = fingerprint.partition(":")[2] or fingerprint
    return (TAG_PREFIX + hex_digits)[:_LONGEST_TAG]


def pushed_refs(planned: PlannedTarget) -> tuple[str, ...]:
    """The references a target's build pushes, when each of its outputs is a plain push
    to a registry; () when it pushes nowhere, or with options that could change the
    image (compression, media types, ...): such a target is never reused."""
    if not planned.outputs:
        return ()
    refs: list[str] = []
    for entry in planned.outputs:
        fields = entry_fields(entry)
        kind = fields.get("type")
        pushes = kind == "registry" or (kind == "image" and fields.get("push") == "true")
        if not pushes or not set(fields) <= _PLAIN_OUTPUT_KEYS:
            return ()
        names = [n.strip() for n in fields.get("name", "").split(",") if n.strip()]
        refs.extend(names or planned.target.tags)
    return tuple(dict.fromkeys(refs))


def tag_of(ref: str) -> str:
    """The tag of a reference (`latest` when it has none)."""
    name = ref.partition("@")[0]
    return name[len(repository(name)) + 1 :] or "latest"


@dataclass(frozen=True, slots=True)
class Lookup:
    """Where a target's fingerprint is looked for: `repo:tag`."""

    name: str
    repo: str
    tag: str
    refs: tuple[str, ...]  # every reference its build pushes, pointed at a reused image


def no_cache(planned: PlannedTarget) -> bool:
    value = planned.target.attrs.get("no-cache")
    return value is True or str(value).lower() == "true"


def forced_builds(plan: Plan, rebuild: frozenset[str] | None) -> frozenset[str]:
    """The targets built whatever the registry holds: `rebuild` (None: all), `no-cache`
    ones, and every dependent of either in the plan."""
    if rebuild is None:
        return frozenset(p.name for p in plan.targets)
    forced: set[str] = set()
    for planned in plan.targets:  # build order: dependencies first
        if (
            planned.name in rebuild
            or no_cache(planned)
            or any(dep in forced for dep in planned.needs)
        ):
            forced.add(planned.name)
    return frozenset(forced)


def lookups(
    plan: Plan, fingerprints: Mapping[str, str], forced: frozenset[str]
) -> dict[str, Lookup]:
    """The look-ups a build makes: one per target that pushes and is not forced."""
    found = {}
    for planned in plan.targets:
        refs = pushed_refs(planned)
        if planned.name in forced or not refs or planned.name not in fingerprints:
            continue
        found[planned.name] = Lookup(
            planned.name, repository(refs[0]), fingerprint_tag(fingerprints[planned.name]), refs
        )
    return found


@dataclass(frozen=True, slots=True)
class Decision:
    reused: Mapping[str, str]  # target -> `repo@digest` it reuses
    unneeded: frozenset[str]  # dependencies nobody asked for whose dependents are all reused

    @property
    def dropped(self) -> frozenset[str]:
        return frozenset(self.reused) | self.unneeded


def decide(plan: Plan, found: Mapping[str, str], wanted: Mapping[str, Lookup]) -> Decision:
    """What is reused (`found`: target -> digest the registry holds under its fingerprint
    tag) and which unasked dependencies are then not needed at all."""
    reused = {
        name: f"{wanted[name].repo}@{digest}" for name, digest in found.items() if name in wanted
    }
    unneeded: set[str] = set()
    for planned in reversed(plan.targets):  # dependents first
        if planned.requested or planned.name in reused or not planned.needed_by:
            continue
        if all(d in reused or d in unneeded for d in planned.needed_by):
            unneeded.add(planned.name)
    return Decision(MappingProxyType(reused), frozenset(unneeded))


def reduced_plan(plan: Plan, decision: Decision) -> Plan:
    """The plan without what is reused or unneeded, each remaining dependent of a reused
    target wired to the reused digest (`docker-image://repo@sha256:...`)."""
    dropped = decision.dropped
    kept = tuple(
        _rewired(p, decision.reused, dropped) for p in plan.targets if p.name not in dropped
    )
    names = tuple(p.name for p in kept if p.requested)
    return Plan(plan.project, names or plan.names, kept, plan.mode)


def _rewired(planned: PlannedTarget, reused: Mapping[str, str], dropped: Iterable[str]) -> Any:
    gone = set(dropped)
    if gone.isdisjoint(planned.needs) and gone.isdisjoint(planned.needed_by):
        return planned
    contexts = dict(planned.target.contexts)
    links = {}
    for ref, dep in planned.links.items():
        if dep in reused:
            contexts[ref] = f"docker-image://{reused[dep]}"
        else:
            links[ref] = dep
    target = planned.target
    if contexts != dict(target.contexts):
        target = replace(target, attrs=MappingProxyType({**target.attrs, "contexts": contexts}))
    return replace(
        planned,
        target=target,
        needs=tuple(d for d in planned.needs if d not in gone),
        needed_by=tuple(d for d in planned.needed_by if d not in gone),
        links=MappingProxyType(links),
        wired=MappingProxyType({r: d for r, d in planned.wired.items() if r in links}),
    )
