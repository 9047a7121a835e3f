"""`doctor`'s findings for a person, or as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buildgraph.preflight.doctor import Check, Emulated
    from buildgraph.report.style import Style


def render_doctor(checks: Sequence[Check], lint: Sequence[Emulated], fmt: str, style: Style) -> str:
    if fmt == "json":
        failed = [c for c in checks if not c.ok and c.blocking]
        document = {
            "ok": not failed,
            "checks": [asdict(c) for c in checks],
            "emulated": [asdict(e) for e in lint],
        }
        return json.dumps(document, indent=2) + "\n"
    lines = []
    for check in checks:
        if check.ok:
            lines.append(f"{style('✓', 'green')} {check.name}: {check.detail}")
            continue
        mark = style("✗", "red") if check.blocking else style("!", "yellow")
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix:
            lines.append(f"    fix: {check.fix}")
    if lint:
        lines.append("")
        lines.append(style("emulation lint (not an error):", "bold"))
        for finding in lint:
            runs = ", ".join(str(n) for n in finding.run_lines)
            lines.append(
                f"  {finding.target} for {finding.platform}: RUN at line(s) {runs} run under QEMU"
            )
        lines.append(f"  suggestion: {lint[0].suggestion}")
    return "\n".join(lines) + "\n"
