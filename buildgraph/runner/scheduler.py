"""Which build starts when, for the ways of running that start one process per unit of
work: per-target builds (a unit is a target) and split platforms (a unit is one platform
of a target).

The scheduler starts a target once its dependencies are settled, a -j slot is free and no
running build pushes to a repository it pushes to; skips the dependents of a failure (and,
without --keep-going, everything not started yet); builds only the `only` subset; and on
Ctrl-C or the cancel event stops every build started. What each unit runs is the `Way`'s
business: the scheduler gets `Launch`es and hands them to the `ProcessStarter` it was
given, so a test's fake starter sees every process and no docker argv is known here.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from buildgraph.model.entries import pushes_to_registry
from buildgraph.model.image_refs import repository
from buildgraph.runner.options import Interrupted, Stop

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.report.events import TargetResult
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter, StartedProcess
    from buildgraph.runner.results import RunResults

POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Launch:
    """One process a unit runs: its command line, its log, what it reads on stdin."""

    argv: tuple[str, ...]
    log: Path
    stdin: str | None = None
    echo: Callable[[str], None] | None = None  # buildx's output shown as it comes
    readable: Path | None = None  # the log a person reads, when `log` is buildx's rawjson


class Way(Protocol):
    """A way of running, as the scheduler sees it."""

    def describe(self, planned: PlannedTarget) -> str | None:
        """The detail of the target's "started" event."""
        ...

    def launches(self, planned: PlannedTarget) -> dict[str, Launch]:
        """The units that build `planned` (unit name -> its process), once it may start."""
        ...

    def unit_ended(self, planned: PlannedTarget, unit: str, code: int, log: Path) -> Launch | None:
        """A unit's process exited with `code`: a Launch to run the unit again, or None."""
        ...

    def outcome(self, planned: PlannedTarget, started: float) -> TargetResult:
        """What became of `planned` once every unit of it ended (`started`: when it
        started, by time.monotonic())."""
        ...


def pushed_repositories(planned: PlannedTarget) -> set[str]:
    """The repositories a target's build pushes to."""
    if not pushes_to_registry(planned.outputs):
        return set()
    return {repository(tag) for tag in planned.target.tags}


def pushes_clash(planned: PlannedTarget, running: Iterable[PlannedTarget]) -> bool:
    """Whether a running build pushes to a repository this one pushes to: a registry
    that writes tag links non-atomically (distribution's filesystem storage) answers
    concurrent pushes to one repository with 500s, so those wait for each other."""
    mine = pushed_repositories(planned)
    return bool(mine) and any(mine & pushed_repositories(other) for other in running)


@dataclass(slots=True)
class _Unit:
    planned: PlannedTarget
    name: str
    process: StartedProcess
    log: Path  # the one a person reads


class Scheduler:
    """One run of `plan` through `way`, kept in `results`; `run()` returns the results in
    plan order."""

    def __init__(
        self,
        plan: Plan,
        options: BuildOptions,
        results: RunResults,
        way: Way,
        starter: ProcessStarter,
    ) -> None:
        self.plan = plan
        self.jobs = max(1, options.jobs)
        self.cancel = options.cancel
        self.way = way
        self.starter = starter
        self.root = plan.project.root
        self.results = results
        self.running: dict[tuple[str, str], _Unit] = {}  # (target, unit) -> its process
        self.units_left: dict[str, set[str]] = {}  # target -> units not ended yet
        self.started_at: dict[str, float] = {}
        self.ended: queue.Queue[tuple[str, str]] = queue.Queue()

    def run(self) -> list[TargetResult]:
        pending = [p for p in self.plan.targets if self.results.selected(p)]
        try:
            while pending or self.running:
                pending = self.start_ready(pending)
                if self.running:
                    self.collect(self.next_ended())
        except (KeyboardInterrupt, Stop):
            self.stop_all()
            raise Interrupted(self.results.ordered()) from None
        return self.results.ordered()

    def start_ready(self, pending: list[PlannedTarget]) -> list[PlannedTarget]:
        """Start (or skip) what may go now, in plan order; returns what must wait."""
        left = []
        for planned in pending:
            waiting = any(not self.results.settled(d) for d in planned.needs)
            full = len(self.running) >= self.jobs
            running = (unit.planned for unit in self.running.values())
            if waiting or full or pushes_clash(planned, running):
                left.append(planned)
                continue
            why = self.results.blocked(planned)
            if why:
                self.results.skip(planned, why)
            else:
                self.start(planned)
        return left

    def start(self, planned: PlannedTarget) -> None:
        launches = self.way.launches(planned)
        self.results.started(planned, self.way.describe(planned))
        self.started_at[planned.name] = time.monotonic()
        self.units_left[planned.name] = set(launches)
        for unit, launch in launches.items():
            self.launch(planned, unit, launch)

    def launch(self, planned: PlannedTarget, unit: str, launch: Launch) -> None:
        process = self.starter.start(
            launch.argv, self.root, launch.log, stdin_text=launch.stdin, echo=launch.echo
        )
        key = (planned.name, unit)
        self.running[key] = _Unit(planned, unit, process, launch.readable or launch.log)
        threading.Thread(target=self._wait, args=(key, process), daemon=True).start()

    def _wait(self, key: tuple[str, str], process: StartedProcess) -> None:
        process.wait()
        self.ended.put(key)

    def next_ended(self) -> tuple[str, str]:
        # A short timeout keeps the main thread where Ctrl-C (or a cancel) can reach it.
        while True:
            if self.cancel is not None and self.cancel.is_set():
                raise Stop
            try:
                return self.ended.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue

    def collect(self, key: tuple[str, str]) -> None:
        unit = self.running.pop(key)
        code = unit.process.wait()
        again = self.way.unit_ended(unit.planned, unit.name, code, unit.process.log)
        if again is not None:
            self.launch(unit.planned, unit.name, again)
            return
        left = self.units_left[unit.planned.name]
        left.discard(unit.name)
        if not left:
            del self.units_left[unit.planned.name]
            outcome = self.way.outcome(unit.planned, self.started_at[unit.planned.name])
            self.results.finish(unit.planned, outcome)

    def stop_all(self) -> None:
        """Stop every process started; each target not finished is cancelled."""
        logs: dict[str, str] = {}
        for unit in self.running.values():
            unit.process.stop()
            logs.setdefault(unit.planned.name, str(unit.log))
        for unit in self.running.values():
            name = unit.planned.name
            if name in self.units_left and self.results.get(name) is None:
                seconds = time.monotonic() - self.started_at[name]
                self.results.cancel(unit.planned, seconds, logs[name])
        self.running.clear()
        self.units_left.clear()


def schedule(
    plan: Plan, options: BuildOptions, results: RunResults, way: Way, starter: ProcessStarter
) -> list[TargetResult]:
    """Run `plan` through `way`, results in plan order (Interrupted on Ctrl-C or cancel).
    The caller makes `results` (and so the events): this module stays free of reporting."""
    return Scheduler(plan, options, results, way, starter).run()
