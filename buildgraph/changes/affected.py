"""`buildgraph affected --since REF`: the targets whose inputs changed since a git ref,
and everything that depends on them: what a monorepo's CI needs to rebuild."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buildgraph.changes.input_index import InputIndex
    from buildgraph.plan.plan import Plan


@dataclass(frozen=True, slots=True)
class Affected:
    name: str
    reason: str  # "changed: <path>", "depends on <target>", "the project file changed"


def affected_targets(plan: Plan, index: InputIndex, changed: Iterable[Path]) -> list[Affected]:
    """In build order. A change to the project file affects every target: what it
    declared before is not compared, so CI errs on the side of building."""
    why: dict[str, str] = {}
    paths = list(changed)
    if any(source in paths for source in plan.project.source_files):
        why = {p.name: "the project file changed" for p in plan.targets}
    for path in paths:
        for name in index.targets_for(path):
            why.setdefault(
                name,
                f"changed: {path.relative_to(plan.project.root)}"
                if path.is_relative_to(plan.project.root)
                else f"changed: {path}",
            )
    for planned in plan.targets:  # build order: a dependency is settled before its dependents
        if planned.name not in why:
            for dep in planned.needs:
                if dep in why:
                    why[planned.name] = f"depends on {dep}"
                    break
    return [Affected(p.name, why[p.name]) for p in plan.targets if p.name in why]


def affected_document(since: str, found: Iterable[Affected]) -> dict[str, object]:
    """`affected --format json`'s document: the ref, and the targets in build order."""
    return {"since": since, "targets": [{"name": a.name, "reason": a.reason} for a in found]}
