"""What `render` tells a person on stderr about using the file it wrote."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.plan.plan import exported_unasked, read_back_note
from buildgraph.render.bake_target import Entitlement, bake_run_group

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def render_notes(
    plan: Plan,
    fmt: str,
    output: Path | None,
    entitlements: Sequence[Entitlement],
    cwd: Path,
) -> Iterator[str]:
    """The command that runs the file (each bake run, in order), with the `--allow` flags
    of the filesystem entitlements it needs: buildx 0.19+ asks for them (0.20+ refuses to
    bake without them), older buildx does not know the flag. Paths are shell-quoted: the
    line is for copying; `cwd` is where the person runs it from."""
    count = len(plan.bake_runs)
    if fmt == "sh" or count == 0:  # a script runs itself; an empty plan has nothing to run
        return
    where = output.parent if output else cwd
    name = shlex.quote(output.name) if output else "<file>"
    cd = "" if where == cwd else f"cd {shlex.quote(os.path.relpath(where))} && "
    allow = "".join(f" {shlex.quote(e.flag())}" for e in entitlements)
    if count == 1:
        yield f"buildgraph: run it with: {cd}docker buildx bake -f {name}{allow}"
    else:
        runs = " && ".join(
            f"docker buildx bake -f {name}{allow} {bake_run_group(n)}"
            for n in range(1, min(count, 3) + 1)
        )
        if count > 3:
            runs += f" && ... through {bake_run_group(count)}"
        yield (
            "buildgraph: some dependencies are invisible to bake; "
            f"run the stages in order: {cd}{runs}"
        )
    if entitlements:
        yield (
            "buildgraph: the --allow flags are the filesystem entitlements buildx 0.19+ asks "
            f"for (paths outside {where}); leave them out for an older buildx, which does not "
            "know them"
        )
    for name, dependents in exported_unasked(plan).items():
        yield f"buildgraph: note: {read_back_note(name, dependents)}"
    written = [e.path for e in entitlements if e.access == "fs.write"]
    if written:
        yield (
            "buildgraph: buildx checks a path that is not there yet against its nearest "
            "existing folder, which fs.write does not grant: make these first (a folder for "
            f"a local output or cache, else a file): {' '.join(shlex.quote(p) for p in written)}"
        )
