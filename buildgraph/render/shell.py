"""The plan as a POSIX shell script of `docker buildx build` commands in dependency order."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from buildgraph.locations import OCI_LAYOUTS
from buildgraph.render.buildx_build import build_commands, linked_dependencies
from buildgraph.render.escaping import comment_text
from buildgraph.render.ownership import GENERATED_MARK

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan
    from buildgraph.render.bake_target import Rebaser


def render_shell(plan: Plan, rebaser: Rebaser, source: str) -> str:
    """Every value goes through shlex.quote: a tag like `$(touch x)` stays text; and
    through comment_text where a comment shows it, so a newline cannot end the comment."""
    commands = build_commands(plan, rebaser)
    lines = [
        "#!/bin/sh",
        f"# {GENERATED_MARK} from {comment_text(source)}: edit that file, not this one.",
        f"# Builds {len(commands)} target(s) in dependency order with docker buildx build.",
        "set -eu",
        "# Paths below are relative to this script's directory.",
        'cd "$(dirname "$0")"',
    ]
    if linked_dependencies(plan):
        lines.append(f"mkdir -p {shlex.quote(OCI_LAYOUTS)}")
    for entitlement in rebaser.entitlements:
        lines.append(f"# buildx 0.19+ may ask for: {comment_text(entitlement.flag())}")
    by_name = {c.target: c for c in commands}
    for wave_number, wave in enumerate(plan.waves, start=1):
        lines.append("")
        names = comment_text(", ".join(p.name for p in wave))
        lines.append(f"# wave {wave_number}: {names}")
        for planned in wave:
            command = by_name[planned.name]
            lines.append(f"echo {shlex.quote('==> ' + planned.name + ' (' + planned.reason + ')')}")
            text = shlex.join(command.argv)
            if command.stdin is not None:
                text = f"printf '%s' {shlex.quote(command.stdin)} | {text}"
            lines.append(text)
    return "\n".join(lines) + "\n"
