"""The plan for a person: waves in build order, each target with what it is and why."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from buildgraph.console import Style
from buildgraph.planner import Plan, PlannedTarget


def _platforms(planned: PlannedTarget) -> str:
    return ", ".join(planned.target.platforms) or "builder's platform"


def _most_common_output(plan: Plan) -> str | None:
    counts = Counter(p.output for p in plan.targets)
    if not counts:
        return None
    output, count = counts.most_common(1)[0]
    return output if count > 1 else None


def render_plan_text(plan: Plan, style: Style, cwd: Path) -> str:
    waves = plan.waves
    runs = len(plan.stages)
    file = os.path.relpath(plan.project.file, cwd)
    head = f"{len(plan.targets)} target(s) in {len(waves)} wave(s), {runs} bake run(s), from {file}"
    lines = [style(head, "bold")]
    common = _most_common_output(plan)
    if common:
        lines.append(f"output of every target unless said: {common}")
    width = max((len(p.name) for p in plan.targets), default=0)
    for number, wave in enumerate(waves, start=1):
        lines.append("")
        lines.append(style(f"wave {number}", "cyan", "bold"))
        for planned in wave:
            reason = style(planned.reason, "dim" if not planned.requested else "green")
            lines.append(
                f"  {style(planned.name.ljust(width), 'bold')}  {_platforms(planned)}  {reason}"
            )
            if planned.target.tags:
                lines.append(f"    tags:    {', '.join(planned.target.tags)}")
            if planned.output != common:
                lines.append(f"    output:  {planned.output}")
            if planned.links:
                wired = ", ".join(f"{ref} = target:{dep}" for ref, dep in planned.links.items())
                lines.append(f"    context: {wired}")
    if runs > 1:
        lines.append("")
        lines.append(
            style(
                f"note: {runs} bake runs: some dependencies are not visible to bake "
                "(no FROM or target: link), so each run waits for the one before",
                "yellow",
            )
        )
    return "\n".join(lines) + "\n"
