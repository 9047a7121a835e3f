"""What `render` tells a person on stderr about using the file it wrote."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.render.bake_target import Entitlement, bake_run_group

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def render_notes(
    plan: Plan, fmt: str, output: Path | None, entitlements: Sequence[Entitlement]
) -> Iterator[str]:
    if fmt == "sh":
        return
    where = output.parent if output else Path.cwd()
    name = output.name if output else "<file>"
    cd = "" if where == Path.cwd() else f"cd {os.path.relpath(where)} && "
    count = len(plan.bake_runs)
    if count == 1:
        yield f"buildgraph: run it with: {cd}docker buildx bake -f {name}"
    else:
        runs = " && ".join(
            f"docker buildx bake -f {name} {bake_run_group(n)}" for n in range(1, min(count, 3) + 1)
        )
        if count > 3:
            runs += f" && ... through {bake_run_group(count)}"
        yield (
            "buildgraph: some dependencies are invisible to bake; "
            f"run the stages in order: {cd}{runs}"
        )
    if entitlements:
        flags = " ".join(e.flag() for e in entitlements)
        yield f"buildgraph: buildx 0.19+ needs these filesystem entitlements: {flags}"
