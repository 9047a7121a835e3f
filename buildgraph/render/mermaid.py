"""The DAG of a plan as a Mermaid flowchart."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def render_mermaid(plan: Plan) -> str:
    # Node IDs by position: target names may hold '-', which Mermaid reads next to arrows,
    # and any rewriting of names could make two of them collide.
    ids = {planned.name: f"t{i}" for i, planned in enumerate(plan.targets)}
    lines = ["flowchart LR"]
    for planned in plan.targets:
        label = planned.name
        if planned.target.platforms:
            label += "<br/>" + ", ".join(planned.target.platforms)
        lines.append(f'  {ids[planned.name]}["{_label(label)}"]')
    for planned in plan.targets:
        for dep in planned.needs:
            arrow = "-->" if dep in planned.links.values() else "-.->"
            lines.append(f"  {ids[dep]} {arrow} {ids[planned.name]}")
    return "\n".join(lines) + "\n"
