"""The DAG of a plan as Graphviz dot."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def _quote(text: str) -> str:
    return json.dumps(text)  # dot's quoted IDs take JSON-style escapes


def render_dot(plan: Plan) -> str:
    lines = ["digraph buildgraph {", "  rankdir=LR;", "  node [shape=box];"]
    for planned in plan.targets:
        lines_of_label = [planned.name]
        if planned.target.platforms:
            lines_of_label.append(", ".join(planned.target.platforms))
        label = "\\n".join(_quote(part)[1:-1] for part in lines_of_label)
        style = "" if planned.requested else ", style=dashed"
        lines.append(f'  {_quote(planned.name)} [label="{label}"{style}];')
    for planned in plan.targets:
        for dep in planned.needs:
            linked = any(d == dep for d in planned.links.values())
            attr = "" if linked else " [style=dashed]"
            lines.append(f"  {_quote(dep)} -> {_quote(planned.name)}{attr};")
    lines.append("}")
    return "\n".join(lines) + "\n"
