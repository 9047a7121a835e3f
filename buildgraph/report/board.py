"""Where every target of a build or watch stands, kept from the run's events: what the live
terminal view (report.live) and the page (buildgraph.ui) both show.

A target of the plan is `idle` until a run includes it (watch builds a part of the plan),
`waiting` once queued or due for a rebuild, `building` from its start (with the step it is
at, from bake's progress), then ends `done`, `reused`, `unneeded`, `failed`, `skipped` or
`cancelled`. The board is fed from several threads (the build's and the progress
readers'); each change bumps `version`, which a view compares to know it must redraw.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from buildgraph.report.events import instruction_position

if TYPE_CHECKING:
    from buildgraph.plan.plan import PlannedTarget
    from buildgraph.report.events import Event

# The states a target ends a run in; `waiting`, `building` and `idle` are the others.
ENDED = frozenset({"done", "reused", "unneeded", "failed", "skipped", "cancelled"})
# What a dependent may build on.
READY = frozenset({"done", "reused", "unneeded"})
TAIL_LINES = 10  # of a target's log, kept on its view: a failure's last lines
LOG_LINES = 5_000  # of a target's log, kept for the page; older lines are dropped


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """A target as the board needs it from the plan."""

    name: str
    wave: int
    needs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetView:
    name: str
    wave: int
    needs: tuple[str, ...]
    state: str = "idle"  # idle, waiting, building, or one of ENDED
    step: str | None = None  # building: the step running; failed: the step that failed
    step_index: int | None = None  # the step's n of n/m, when its name carries them
    step_count: int | None = None
    steps_done: int = 0  # steps of its Dockerfile's instructions completed in this run
    steps_cached: int = 0  # of which BuildKit took from its cache
    started: float | None = None  # time.time() when it started building
    seconds: float | None = None  # its own seconds, once ended
    detail: str | None = None  # why skipped, the error, where a reused image came from
    reason: str | None = None  # why watch rebuilds it
    failed_at: str | None = None  # failed: its failing instruction's FILE:LINE
    log_tail: tuple[str, ...] = ()
    # building: the steps started and not ended, oldest first; `step` is the newest of them
    # (a step two targets share, like "[base] resolving provenance", ends while the
    # target's own step still runs, which is then shown again)
    running: tuple[str, ...] = ()

    @property
    def cached(self) -> bool:
        """Done, every step of it from BuildKit's cache."""
        return self.state == "done" and self.steps_done > 0 and self.steps_cached == self.steps_done


@dataclass(slots=True)
class _Kept:
    view: TargetView
    log: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))


class Board:
    def __init__(self, entries: Iterable[PlanEntry] = ()) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept] = {}
        self.version = 0
        self.replan(entries)

    def replan(self, entries: Iterable[PlanEntry]) -> None:
        """A new plan (watch re-planned): its targets, each keeping what the board knew."""
        with self._lock:
            kept: dict[str, _Kept] = {}
            for entry in entries:
                old = self._kept.get(entry.name)
                if old is None:
                    kept[entry.name] = _Kept(TargetView(entry.name, entry.wave, entry.needs))
                else:
                    old.view = replace(old.view, wave=entry.wave, needs=entry.needs)
                    kept[entry.name] = old
            self._kept = kept
            self.version += 1

    def apply(self, event: Event) -> None:
        """Take one event of the run into account."""
        with self._lock:
            kept = self._kept.get(event.target or "")
            if kept is None:
                return
            if event.event == "log":
                line = event.detail or ""
                kept.log.append(line)
                kept.view = replace(kept.view, log_tail=(*kept.view.log_tail, line)[-TAIL_LINES:])
            else:
                view = _applied(kept.view, event)
                if view is kept.view:
                    return
                if view.state == "building" and kept.view.state != "building":
                    kept.log.clear()
                kept.view = view
            self.version += 1

    def views(self) -> list[TargetView]:
        """Every target, in plan order."""
        with self._lock:
            return [k.view for k in self._kept.values()]

    def view(self, name: str) -> TargetView | None:
        with self._lock:
            kept = self._kept.get(name)
            return kept.view if kept is not None else None

    def log(self, name: str) -> list[str]:
        """The lines of the target's log in its latest build (the last LOG_LINES)."""
        with self._lock:
            kept = self._kept.get(name)
            return list(kept.log) if kept is not None else []

    def waiting_on(self, name: str) -> list[str]:
        """The dependencies a waiting target waits for: those not ready yet."""
        with self._lock:
            kept = self._kept.get(name)
            if kept is None:
                return []
            return [
                need
                for need in kept.view.needs
                if need in self._kept
                and self._kept[need].view.state not in READY
                and self._kept[need].view.state != "idle"
            ]


def entries_of(targets: Sequence[PlannedTarget]) -> list[PlanEntry]:
    """The board's entries of a plan's targets."""
    return [PlanEntry(t.name, t.wave, tuple(t.needs)) for t in targets]


def _applied(view: TargetView, event: Event) -> TargetView:
    kind = event.event
    if kind == "queued":
        return _fresh(view, "waiting")
    if kind == "rebuild":
        return replace(_fresh(view, "waiting"), reason=event.detail)
    if kind == "started":
        return replace(_fresh(view, "building"), started=event.time, reason=view.reason)
    if kind == "step":
        return _stepped(view, event)
    if kind == "skipped":
        return replace(view, state="skipped", detail=event.detail, step=None)
    if kind == "finished":
        state = event.status or "done"
        seconds = event.seconds
        if seconds is None and view.started is not None and state != "reused":
            seconds = max(0.0, event.time - view.started)
        step = view.step if state in ("failed", "cancelled") else None
        # The build's own count, once it ended, of what the step events told one by one.
        done = event.data.get("steps", view.steps_done)
        cached = event.data.get("cached_steps", view.steps_cached)
        return replace(
            view,
            state=state,
            seconds=seconds,
            detail=event.detail,
            step=step,
            steps_done=done,
            steps_cached=cached,
            failed_at=event.data.get("failed_at"),
        )
    return view


def _fresh(view: TargetView, state: str) -> TargetView:
    """A target starting over: nothing of its last build shown."""
    return TargetView(view.name, view.wave, view.needs, state, reason=view.reason)


def _stepped(view: TargetView, event: Event) -> TargetView:
    name = event.detail or ""
    if event.status == "running":
        if view.state in ENDED:
            return view
        return replace(
            view,
            state="building",
            **_step_fields(name),
            running=(*(r for r in view.running if r != name), name),
            started=view.started if view.started is not None else event.time,
        )
    counted = instruction_position(name) is not None
    done = view.steps_done + (counted and event.status in ("done", "cached"))
    cached = view.steps_cached + (counted and event.status == "cached")
    running = tuple(r for r in view.running if r != name)
    if event.status == "failed":
        return replace(
            view, **_step_fields(name), steps_done=done, steps_cached=cached, running=running
        )
    if view.step == name and running:
        return replace(
            view, **_step_fields(running[-1]), steps_done=done, steps_cached=cached, running=running
        )
    return replace(view, steps_done=done, steps_cached=cached, running=running)


def _step_fields(name: str) -> dict[str, Any]:
    """The view's fields that say which step it is at: its name, and n/m when it has them."""
    index, count = instruction_position(name) or (None, None)
    return {"step": name, "step_index": index, "step_count": count}
