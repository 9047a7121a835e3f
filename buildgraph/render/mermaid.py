"""The DAG of a plan as a Mermaid flowchart."""

from __future__ import annotations

from buildgraph.planner import Plan


def _node_id(name: str) -> str:
    # Mermaid IDs may not hold '-' reliably next to arrows; names are [a-zA-Z0-9_-]+.
    return "t_" + name.replace("-", "__")


def _label(text: str) -> str:
    return text.replace('"', "#quot;")


def render_mermaid(plan: Plan) -> str:
    lines = ["flowchart LR"]
    for planned in plan.targets:
        label = planned.name
        if planned.target.platforms:
            label += "<br/>" + ", ".join(planned.target.platforms)
        lines.append(f'  {_node_id(planned.name)}["{_label(label)}"]')
    for planned in plan.targets:
        for dep in planned.needs:
            arrow = "-->" if dep in planned.links.values() else "-.->"
            lines.append(f"  {_node_id(dep)} {arrow} {_node_id(planned.name)}")
    return "\n".join(lines) + "\n"
