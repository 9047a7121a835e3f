"""What `buildgraph import` decided: every construct translated approximately or not at
all, every path rebased, every default kept; as text (the `.buildgraph-import` file) or
JSON (`--format json`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

# Kinds of decision, the first two being what a user must look at.
UNTRANSLATABLE = "untranslatable"  # left out of the output: exit 2 unless --allow-partial
APPROXIMATE = "approximate"  # translated, but resolves otherwise in a case it names
REBASED = "rebased"  # a path rewritten to hold from the output's folder
DEFAULT = "default"  # something bake does by default, written out or kept
MERGED = "merged"  # blocks of one name (in one file or several) merged as bake merges them
RENAMED = "renamed"  # a name bake allows and buildgraph does not, written otherwise everywhere
KINDS = (UNTRANSLATABLE, APPROXIMATE, REBASED, DEFAULT, MERGED, RENAMED)

REPORT_NAME = ".buildgraph-import"


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str
    construct: str
    detail: str
    file: Path | None = None
    line: int | None = None
    where: str | None = None  # "target 'app', key 'tags'", "variable 'TAG'"

    def location(self, base: Path) -> str:
        if self.file is None:
            return "-"
        shown = os.path.relpath(self.file, base) if self.file.is_absolute() else str(self.file)
        return f"{shown}:{self.line}" if self.line else shown


def report_text(decisions: tuple[Decision, ...], sources: tuple[Path, ...], output: Path) -> str:
    base = output.parent
    lines = [
        "# buildgraph import: what was decided translating "
        + ", ".join(os.path.relpath(s, base) for s in sources)
        + f" into {output.name}",
        "# " + summary(decisions),
    ]
    for kind in KINDS:
        found = [d for d in decisions if d.kind == kind]
        if not found:
            continue
        lines.append("")
        lines.append(f"[{kind}]")
        for d in found:
            where = f" ({d.where})" if d.where else ""
            lines.append(f"{d.location(base)}: {d.construct}{where}: {d.detail}")
    return "\n".join(lines) + "\n"


def report_json(
    decisions: tuple[Decision, ...], sources: tuple[Path, ...], output: Path | None, written: bool
) -> str:
    return json.dumps(
        {
            "sources": [str(s) for s in sources],
            "output": str(output) if output else None,
            "written": written,
            "counts": {k: sum(d.kind == k for d in decisions) for k in KINDS},
            "decisions": [
                {
                    "kind": d.kind,
                    "file": str(d.file) if d.file else None,
                    "line": d.line,
                    "where": d.where,
                    "construct": d.construct,
                    "detail": d.detail,
                }
                for d in decisions
            ],
        },
        indent=1,
    )


def summary(decisions: tuple[Decision, ...]) -> str:
    counts = [f"{sum(d.kind == k for d in decisions)} {k}" for k in KINDS]
    return ", ".join(counts)
