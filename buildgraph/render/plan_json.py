"""The plan as JSON: the same facts `plan` shows a person, for programs.

Each target's `fingerprint` (`changes.fingerprints`, full) is given by the caller, which
reads the disk for it; null when it was not computed. `registry` (with `plan --push`):
whether the registry holds an image of that fingerprint, as `build.command.registry_states`
found (`held`, `ref`, `problem`); null when it was not looked up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.model.project import thaw
from buildgraph.plan.plan import exported_unasked, read_back_note
from buildgraph.preflight.facts import Facts, is_native

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget


def planned_facts(
    planned: PlannedTarget,
    facts: Facts | None = None,
    fingerprint: str | None = None,
    registry: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    target = planned.target
    facts = facts or Facts()
    return {
        "name": planned.name,
        "wave": planned.wave,
        "bake_run": planned.bake_run,
        "reason": planned.reason,
        "requested": planned.requested,
        "platforms": list(target.platforms),
        "emulated": [p for p in target.platforms if not is_native(p, facts)],
        "tags": list(target.tags),
        "output": planned.output,
        "outputs": thaw(planned.outputs),
        "needs": list(planned.needs),
        "needed_by": list(planned.needed_by),
        "links": dict(planned.links),
        "declared_as": target.declared_as,
        "matrix": thaw(target.matrix_values),
        "fingerprint": fingerprint,
        "registry": None if registry is None else dict(registry),
    }


def plan_document(
    plan: Plan,
    fingerprints: Mapping[str, str] | None = None,
    registry: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    prints, held = fingerprints or {}, registry or {}
    return {
        "project": str(plan.project.file),
        "names": list(plan.names),
        "mode": plan.mode.value,
        "bake_runs": len(plan.bake_runs),
        "waves": [
            [
                planned_facts(p, fingerprint=prints.get(p.name), registry=held.get(p.name))
                for p in wave
            ]
            for wave in plan.waves
        ],
        "notes": [read_back_note(name, by) for name, by in exported_unasked(plan).items()],
    }


def render_plan_json(
    plan: Plan,
    fingerprints: Mapping[str, str] | None = None,
    registry: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    document = plan_document(plan, fingerprints, registry)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
