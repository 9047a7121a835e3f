"""Running a plan against the current buildx builder: `run_plan` picks the way of running.

- `--via bake` (the default): `runner.bake`, one `docker buildx bake` per bake run.
- `--via commands`: `runner.per_target`, one `docker buildx build` per target.
- `--split-platforms`: `runner.split`, one build per platform of each target, joined.

Either way a failed target skips its dependents, with --keep-going the independent targets
go on, and Ctrl-C (or the cancel event) stops every build started and raises Interrupted.
This module imports the runners and none of them imports it; `BuildOptions` and
`Interrupted` are in `runner.options`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buildgraph.runner.bake import EarlyBake, run_bakes
from buildgraph.runner.process import REAL_STARTER

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan
    from buildgraph.report.events import Emit, TargetResult
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter


def run_plan(
    plan: Plan,
    options: BuildOptions,
    emit: Emit,
    early: EarlyBake | None = None,
    starter: ProcessStarter = REAL_STARTER,
) -> list[TargetResult]:
    """Build `plan` as `options` say; results in plan order. `early` is a bake started
    before planning (bake runs only); `starter` starts every process (a test's fake)."""
    # The other ways are imported when asked for: a bake build does not pay for them.
    if options.split_platforms:
        from buildgraph.runner.split import run_split

        return run_split(plan, options, emit, starter)
    if options.via == "bake":
        return run_bakes(plan, options, emit, early, starter)
    from buildgraph.runner.per_target import run_per_target

    return run_per_target(plan, options, emit, starter)
