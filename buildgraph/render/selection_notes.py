"""What `--since` and `--shard` narrowed a plan to, for `plan`'s text and JSON: which
shard this is, what it holds, and what the ref affected."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.render.plan_json import plan_document

if TYPE_CHECKING:
    from buildgraph.plan.load import SelectedPlan


def selection_facts(selected: SelectedPlan) -> dict[str, Any]:
    """The `selection` member of `plan --format json` (empty without --since/--shard)."""
    facts: dict[str, Any] = {}
    if selected.since is not None:
        facts["since"] = selected.since
        facts["affected"] = list(selected.affected or ())
    shard = selected.shard
    if shard is not None:
        facts["shard"] = {
            "index": shard.spec.index,
            "count": shard.spec.count,
            "targets": list(shard.targets),
            "families": [list(f) for f in shard.families],
            "weight": shard.weight,
            "selected": shard.selected,
        }
    return facts


def selection_lines(selected: SelectedPlan) -> list[str]:
    """The lines `plan` prints above the waves: one for --since, one for --shard."""
    lines = []
    if selected.since is not None:
        count = len(selected.affected or ())
        lines.append(f"since {selected.since}: {count} target(s) affected")
    shard = selected.shard
    if shard is not None:
        held = ", ".join(shard.targets) or "nothing"
        lines.append(
            f"shard {shard.spec}: {len(shard.targets)} of {shard.selected} selected "
            f"target(s), in {len(shard.families)} famil{'y' if len(shard.families) == 1 else 'ies'}"
            f": {held}"
        )
    return lines


def render_selected_plan_json(
    selected: SelectedPlan, fingerprints: Mapping[str, str] | None = None
) -> str:
    """`plan --format json` with its `selection` member."""
    document = plan_document(selected.plan, fingerprints)
    document["selection"] = selection_facts(selected)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
