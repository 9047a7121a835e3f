"""Where each target of one run got to, kept and announced in one place.

Bake runs and the scheduler (per-target builds, split platforms) settle targets the same
way: which targets this run builds (`only`), which are settled, why one cannot start (a
dependency that did not succeed, or an earlier failure without --keep-going), and the
events that say so. Results come back in plan order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from buildgraph.report.events import Emit, Event, TargetResult

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.runner.options import BuildOptions


class RunResults:
    """Each target's `TargetResult`, recorded once, and the events of the run."""

    def __init__(self, plan: Plan, options: BuildOptions, emit: Emit) -> None:
        self.plan = plan
        self.only = options.only
        self.keep_going = options.keep_going
        self.emit = emit
        self.by_name: dict[str, TargetResult] = {}
        self.failed = False

    def selected(self, planned: PlannedTarget) -> bool:
        """Whether this run builds `planned` (watch builds a subset of the plan)."""
        return self.only is None or planned.name in self.only

    def settled(self, name: str) -> bool:
        """Built (or failed) in this run, or not part of it: built before."""
        return name in self.by_name or (self.only is not None and name not in self.only)

    def get(self, name: str) -> TargetResult | None:
        return self.by_name.get(name)

    def blocked(self, planned: PlannedTarget) -> str | None:
        """Why a target cannot start, if it cannot: a dependency that did not succeed."""
        for dep in planned.needs:
            result = self.by_name.get(dep)
            if result is not None and result.status != "done":
                was = "was " if result.status == "skipped" else ""
                return f"needs {dep}, which {was}{result.status}"
        if self.failed and not self.keep_going:
            return "stopped after a failure (--keep-going builds what does not depend on it)"
        return None

    def started(self, planned: PlannedTarget, detail: str | None) -> None:
        self.emit(Event("started", planned.name, detail=detail))

    def skip(self, planned: PlannedTarget, why: str) -> None:
        self.by_name[planned.name] = TargetResult(
            planned.name, planned.target.platforms, "skipped", detail=why
        )
        self.emit(Event("skipped", planned.name, status="skipped", detail=why))

    def finish(self, planned: PlannedTarget, result: TargetResult) -> None:
        self.by_name[planned.name] = result
        self.failed |= result.status == "failed"
        self.emit(
            Event(
                "finished",
                planned.name,
                status=result.status,
                seconds=result.seconds,
                detail=result.detail if result.status != "done" else result.digest,
                data=finished_data(result),
            )
        )

    def cancel(self, planned: PlannedTarget, seconds: float, log: str | None) -> None:
        """A build stopped by Ctrl-C: recorded for the summary, with no event of its own
        (the interrupted run's summary is what reports it)."""
        self.by_name[planned.name] = TargetResult(
            planned.name, planned.target.platforms, "cancelled", seconds, log=log
        )

    def ordered(self) -> list[TargetResult]:
        return [self.by_name[p.name] for p in self.plan.targets if p.name in self.by_name]


def finished_data(result: TargetResult) -> dict[str, object]:
    """What a `finished` event tells beyond its status: the digest, the steps of the
    target's instructions and how many came from the cache, where a failure is."""
    data: dict[str, object] = {}
    if result.digest:
        data["digest"] = result.digest
    if result.steps:
        data["steps"], data["cached_steps"] = result.steps, result.cached_steps
    if result.failed_at:
        data["failed_at"] = result.failed_at
    return data
