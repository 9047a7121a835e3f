"""The plan for a person: waves in build order, each target with what it is and why."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buildgraph.changes.fingerprints import short_fingerprint
from buildgraph.plan.plan import exported_unasked, read_back_note
from buildgraph.preflight.doctor import emulation_lint
from buildgraph.preflight.facts import Facts, is_native

if TYPE_CHECKING:
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.report.style import Style


def _platforms(planned: PlannedTarget, facts: Facts) -> str:
    if not planned.target.platforms:
        return "builder's platform"
    return ", ".join(
        p if is_native(p, facts) else f"{p} (emulated)" for p in planned.target.platforms
    )


def _most_common_output(plan: Plan) -> str | None:
    counts = Counter(p.output for p in plan.targets)
    if not counts:
        return None
    output, count = counts.most_common(1)[0]
    return output if count > 1 else None


def _registry_line(state: Mapping[str, Any] | None) -> str:
    """What `build --push` will do with a target, by what its registry holds."""
    if state is None:
        return "not looked up: it pushes nowhere, or is built regardless (no-cache)"
    if state.get("problem"):
        return f"unknown ({state['problem']}): build --push will build it"
    if state.get("held"):
        return f"holds this fingerprint ({state['ref']}): build --push reuses it"
    return "lacks this fingerprint: build --push builds it"


def render_plan_text(
    plan: Plan,
    style: Style,
    cwd: Path,
    dockerfiles: Mapping[str, DockerfileInfo] | None = None,
    facts: Facts | None = None,
    fingerprints: Mapping[str, str] | None = None,
    registry: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """`facts` default to this machine: its architecture says what is native.
    `fingerprints` (`changes.fingerprints`), when given, are shown short, one line each;
    `registry` (`plan --push`: `build.command.registry_states`) beside them."""
    facts = facts or Facts()
    emulated = {(e.target, e.platform): e for e in emulation_lint(plan, facts, dockerfiles or {})}
    waves = plan.waves
    runs = len(plan.bake_runs)
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
            platforms = _platforms(planned, facts)
            lines.append(f"  {style(planned.name.ljust(width), 'bold')}  {platforms}  {reason}")
            if fingerprints and planned.name in fingerprints:
                lines.append(f"    fingerprint: {short_fingerprint(fingerprints[planned.name])}")
            if registry is not None:
                lines.append(f"    registry: {_registry_line(registry.get(planned.name))}")
            if planned.target.tags:
                lines.append(f"    tags:    {', '.join(planned.target.tags)}")
            if planned.output != common:
                lines.append(f"    output:  {planned.output}")
            for platform in planned.target.platforms:
                finding = emulated.get((planned.name, platform))
                if finding:
                    at_lines = ", ".join(map(str, finding.run_lines))
                    lines.append(
                        style(
                            f"    lint:    RUN at line(s) {at_lines} runs under QEMU for "
                            f"{platform}; cross-compiling avoids it (see doctor)",
                            "yellow",
                        )
                    )
            if planned.links:
                wired = ", ".join(f"{ref} = target:{dep}" for ref, dep in planned.links.items())
                lines.append(f"    context: {wired}")
    notes = [read_back_note(name, by) for name, by in exported_unasked(plan).items()]
    if runs > 1:
        notes.insert(
            0,
            f"{runs} bake runs: some dependencies are not visible to bake "
            "(no FROM or target: link), so each run waits for the one before",
        )
    if notes:
        lines.append("")
        lines.extend(style(f"note: {note}", "yellow") for note in notes)
    return "\n".join(lines) + "\n"
