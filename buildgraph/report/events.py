"""What `build` and `watch` report as they go: one event each time something happens,
shown to people as status lines, to programs as one JSON object a line."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from buildgraph.report.style import Style

if TYPE_CHECKING:
    from buildgraph.graph.critical_path import CriticalPath


@dataclass(frozen=True, slots=True)
class Event:
    event: str  # queued, started, finished, skipped, summary, change, rebuild, plan, batch, note,
    # error; and the progress events (PROGRESS_EVENTS): step, log
    target: str | None = None
    # finished: done, reused, unneeded, failed, cancelled; step: running, done, cached,
    # failed, cancelled
    status: str | None = None
    seconds: float | None = None
    detail: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)


Emit = Callable[[Event], None]

# Events of a target's steps and log lines, from bake's progress stream, as they come: for
# the live views (report.live, buildgraph.ui). The plain lines and the JSON stream leave
# them out: they are what CI logs and programs have always read, and a build's log is in
# its log file.
#   step: detail is the step's name ("[app 2/3] RUN make"); seconds, once it ended
#   log:  detail is one line of the target's readable log, as buildx's plain progress
PROGRESS_EVENTS = frozenset({"step", "log"})
# A step of a Dockerfile's instructions carries its place in its stage: "[app 2/3] RUN make",
# "[app base 1/2] COPY ..."; the others are BuildKit's own ("[app internal] load ...",
# "[app] exporting to image").
_INSTRUCTION_STEP = re.compile(r"\[(?:[^\]]* )?(\d+)/(\d+)\]")


def instruction_position(step_name: str) -> tuple[int, int] | None:
    """(n, m) of a step that runs the n-th of its stage's m instructions, else None."""
    found = _INSTRUCTION_STEP.match(step_name)
    return (int(found[1]), int(found[2])) if found else None


def fan_out(*emits: Emit) -> Emit:
    """One emit that hands each event to every one of `emits`, in order."""

    def emit(event: Event) -> None:
        for each in emits:
            each(event)

    return emit


@dataclass(frozen=True, slots=True)
class TargetResult:
    name: str
    platforms: tuple[str, ...]
    status: str  # done, reused, unneeded, failed, skipped, cancelled
    seconds: float = 0.0
    digest: str | None = None
    detail: str | None = None
    log: str | None = None
    steps: int = 0  # its Dockerfile instructions' steps completed in this build
    cached_steps: int = 0  # of which BuildKit took from its cache
    failed_at: str | None = None  # failed: the failing instruction's FILE:LINE, as buildx says


def json_emitter(stream: TextIO = sys.stdout) -> Emit:
    def emit(event: Event) -> None:
        if event.event in PROGRESS_EVENTS:
            return
        record = {k: v for k, v in asdict(event).items() if v not in (None, {})}
        stream.write(json.dumps(record) + "\n")
        stream.flush()

    return emit


_MARKS = {
    "done": ("✓", "green"),
    "reused": ("✓", "green"),  # the registry held this target's fingerprint
    "unneeded": ("-", "dim"),  # a dependency every dependent of which was reused
    "failed": ("✗", "red"),
    "cancelled": ("✗", "yellow"),
}
# Statuses of a target that is where it should be after the build.
SUCCEEDED = frozenset({"done", "reused", "unneeded"})


def human_emitter(stream: TextIO = sys.stderr) -> Emit:
    style = Style.for_stream(stream)

    def emit(event: Event) -> None:
        line = _human_line(event, style)
        if line is not None:
            stream.write(line + "\n")
            stream.flush()

    return emit


def _human_line(event: Event, style: Style) -> str | None:
    name = style(event.target or "", "bold")
    if event.event == "started":
        return f"{style('▶', 'cyan')} {name} building{_suffix(event.detail)}"
    if event.event == "finished":
        mark, colour = _MARKS.get(event.status or "", ("?", "yellow"))
        seconds = f" in {event.seconds:.1f}s" if event.seconds is not None else ""
        return f"{style(mark, colour)} {name} {event.status}{seconds}{_suffix(event.detail)}"
    if event.event == "skipped":
        return f"{style('-', 'dim')} {name} skipped: {event.detail}"
    if event.event == "rebuild":
        return f"{style('buildgraph:', 'dim')} {name}: {event.detail}"
    if event.event == "queued":
        return f"  {name} queued{_suffix(event.detail)}"
    if event.event in ("change", "note", "plan"):
        return f"{style('buildgraph:', 'dim')} {event.detail}"
    if event.event == "error":
        return f"{style('buildgraph: error:', 'red')} {event.detail}"
    if event.event == "batch":
        seconds = f" in {event.seconds:.1f}s" if event.seconds is not None else ""
        colour = "green" if event.status == "done" else "red"
        return style(f"buildgraph: build {event.status}{seconds}; watching", colour)
    return None


def _suffix(detail: str | None) -> str:
    return f" ({detail})" if detail else ""


def summary_table(
    results: Sequence[TargetResult], style: Style, critical: CriticalPath | None = None
) -> str:
    """A table a person reads after the build: target, platforms, status, its own time, its
    steps from the cache (of its instructions' steps), digest; then the critical path of
    what was built, when it holds more than one target, and each failure with its place."""
    rows = [("target", "platforms", "status", "seconds", "cached", "digest")]
    for r in results:
        rows.append(
            (
                r.name,
                ", ".join(r.platforms) or "-",
                r.status,
                f"{r.seconds:.1f}" if r.status in ("done", "failed", "cancelled") else "-",
                f"{r.cached_steps}/{r.steps}" if r.steps else "-",
                (r.digest or "-")[:19],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        text = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        if index == 0:
            text = style(text, "bold")
        elif row[2] not in SUCCEEDED:
            text = style(text, "red" if row[2] == "failed" else "yellow")
        lines.append(text)
    if critical is not None and len(critical.targets) > 1:
        chain = " -> ".join(critical.targets)
        lines.append(f"critical path: {chain} ({critical.seconds:.1f}s)")
    failures = [r for r in results if r.status == "failed" and r.detail]
    for r in failures:
        lines.append(style(f"{r.name}: {r.detail}", "red"))
        if r.failed_at:
            lines.append(f"  at {r.failed_at}")
        if r.log:
            lines.append(f"  full log: {r.log}")
    return "\n".join(lines)
