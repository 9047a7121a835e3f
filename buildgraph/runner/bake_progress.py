"""bake's `--progress rawjson` stream, read as it comes: each target's own start and finish,
and a readable log in the form of buildx's plain progress.

BuildKit stamps every step (a vertex) with when it started and completed. With several
targets, bake labels each step with its target (`[app 2/3] RUN ...`, `[app] exporting to
image`); a step two targets share is reported under each. A target's span runs from the
first start to the last completion among its steps; a bake of one target labels nothing,
so all its steps are that target's.

buildx 0.29 writes one JSON object a line, 0.13 indents them over many lines; what is not
JSON (bake's own error report) is kept as it is. The readable log holds what buildx's plain
progress would show of the same steps (`#N name`, `#N DONE 0.3s`, `#N ERROR: ...`, and
` > name:` for a failed step), which is what `bake_log` reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from buildgraph.model.names import TARGET_NAME_CHARACTERS
from buildgraph.report.events import Emit, Event, instruction_position

_LABEL = re.compile(rf"\[({TARGET_NAME_CHARACTERS})[\] ]")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")
# An object still open after this many lines is no progress event: shown as text.
_MOST_LINES_PER_EVENT = 100_000
_CANCELLED = ("context canceled", "canceled")


@dataclass
class _Step:
    number: int
    name: str
    started: float | None = None
    completed: float | None = None
    running: bool = False  # started again (or first) and not completed since
    failed: bool = False  # it ended with an error, or cut short
    cached: bool = False  # it ended taken from BuildKit's cache
    shown_started: bool = False
    shown_completed: float | None = None

    @property
    def clean(self) -> bool:
        """It completed, and neither failed nor was cut short nor started again since."""
        return self.completed is not None and not self.running and not self.failed


@dataclass
class BakeProgress:
    """Fed bake's output a line at a time (`feed`), it writes the readable log through
    `write` and keeps each step's times. `targets` are the targets of this bake run.

    Given `emit`, it also tells as they come each step's start and end (`step` events) and
    each line of the readable log (`log` events), under the target the step is of."""

    targets: Collection[str]
    write: Callable[[str], None]
    emit: Emit | None = None
    _steps: dict[tuple[str, str], _Step] = field(default_factory=dict)
    _latest: dict[str, _Step] = field(default_factory=dict)  # by digest: logs, statuses
    _pending: list[str] = field(default_factory=list)
    _statuses_done: set[tuple[str, str]] = field(default_factory=set)

    def feed(self, line: str) -> None:
        if not self._pending:
            if not line.startswith("{"):
                self.write(line)
                return
            self._pending.append(line)
            if line.rstrip().endswith("}"):
                self._decode()
            return
        self._pending.append(line)
        if line.rstrip("\r\n") == "}":
            self._decode()  # an indented object closes at column 0
        elif len(self._pending) > _MOST_LINES_PER_EVENT:
            self._flush_as_text()

    def close(self) -> None:
        """The stream ended: what is left unfinished is text."""
        self._flush_as_text()

    def spans(self, until: float | None = None) -> dict[str, tuple[float, float]]:
        """Each target's (first start, last end) of its steps, in seconds since the epoch.
        A step still running when the stream stopped ends at `until` (when the bake was
        found ended), or is left out without it."""
        spans: dict[str, tuple[float, float]] = {}
        for step in self._steps.values():
            target = self.target_of(step.name)
            end = until if step.running and until is not None else step.completed
            if target is None or step.started is None or end is None:
                continue
            end = max(end, step.started)
            first, last = spans.get(target, (step.started, end))
            spans[target] = (min(first, step.started), max(last, end))
        return spans

    def seconds(self, until: float | None = None) -> dict[str, float]:
        """Each target's own seconds, from its first step's start to its last one's end
        (`until`, for a step the stream left running)."""
        return {n: max(0.0, end - start) for n, (start, end) in self.spans(until).items()}

    def finished(self) -> set[str]:
        """The targets each of whose steps completed, none failed or cut short: a target
        that exports nothing (cacheonly) has no export step to tell it is done."""
        ended: dict[str, bool] = {}
        for step in self._steps.values():
            target = self.target_of(step.name)
            if target is not None:
                ended[target] = ended.get(target, True) and step.clean
        return {target for target, clean in ended.items() if clean}

    def instruction_steps(
        self, needs: Mapping[str, Collection[str]] | None = None
    ) -> dict[str, tuple[int, int]]:
        """Each target's steps of Dockerfile instructions that completed cleanly, and how
        many of those BuildKit took from its cache. bake reports a dependency's steps (a
        `target:` context) under each dependent too: a step also reported under one of
        the target's `needs` is that dependency's alone."""
        labelled: dict[str, set[str]] = {}
        for digest, name in self._steps:
            labelled.setdefault(digest, set()).add(self.target_of(name) or "")
        counts: dict[str, tuple[int, int]] = {}
        for (digest, _), step in self._steps.items():
            target = self.target_of(step.name)
            if target is None or not step.clean or instruction_position(step.name) is None:
                continue
            if needs and labelled[digest].intersection(needs.get(target, ())):
                continue
            done, cached = counts.get(target, (0, 0))
            counts[target] = (done + 1, cached + step.cached)
        return counts

    def target_of(self, step_name: str) -> str | None:
        if len(self.targets) == 1:
            return next(iter(self.targets))
        label = _LABEL.match(step_name)
        return label.group(1) if label and label.group(1) in self.targets else None

    def _decode(self) -> None:
        text = "".join(self._pending)
        try:
            event = json.loads(text)
        except ValueError:
            self._flush_as_text()
            return
        self._pending = []
        if isinstance(event, dict):
            self._event(event)
        else:
            self.write(text)

    def _flush_as_text(self) -> None:
        pending, self._pending = self._pending, []
        for line in pending:
            self.write(line)

    def _event(self, event: dict[str, object]) -> None:
        for vertex in _dicts(event.get("vertexes")):
            self._vertex(vertex)
        for status in _dicts(event.get("statuses")):
            self._status(status)
        for entry in _dicts(event.get("logs")):
            self._log(entry)
        for warning in _dicts(event.get("warnings")):
            short = _decoded(warning.get("short"))
            if short:
                self.write(f"WARNING: {short.strip()}\n")

    def _vertex(self, vertex: dict[str, object]) -> None:
        digest, name = vertex.get("digest"), vertex.get("name")
        if not isinstance(digest, str) or not isinstance(name, str):
            return
        step = self._steps.get((digest, name))
        if step is None:
            step = _Step(len(self._steps) + 1, name)
            self._steps[(digest, name)] = step
        self._latest[digest] = step
        started, completed = _time(vertex.get("started")), _time(vertex.get("completed"))
        if started is not None:
            step.started = started if step.started is None else min(step.started, started)
            if not step.shown_started:
                step.shown_started = True
                self._tell(step, "running")
                self._say(step, f"#{step.number} {_one_line(name)}\n")
        step.running = completed is None
        if completed is None or completed == step.shown_completed:
            return
        step.completed = completed if step.completed is None else max(step.completed, completed)
        step.shown_completed = completed
        error = vertex.get("error")
        took = max(completed - started, 0.0) if started is not None else 0.0
        if isinstance(error, str) and error:
            step.failed = True
            if error.endswith(_CANCELLED):
                self._tell(step, "cancelled", took)
                self._say(step, f"#{step.number} CANCELED\n")
            else:
                self._tell(step, "failed", took)
                self._say(step, f"#{step.number} ERROR: {_one_line(error)}\n")
                self._say(step, f"------\n > {_one_line(name)}:\n------\n")
        elif vertex.get("cached"):
            step.cached = True
            self._tell(step, "cached", took)
            self._say(step, f"#{step.number} CACHED\n")
        else:
            self._tell(step, "done", took)
            self._say(step, f"#{step.number} DONE {took:.1f}s\n")

    def _tell(self, step: _Step, status: str, seconds: float | None = None) -> None:
        target = self.target_of(step.name) if self.emit is not None else None
        if self.emit is not None and target is not None:
            self.emit(Event("step", target, status=status, seconds=seconds, detail=step.name))

    def _say(self, step: _Step, text: str) -> None:
        """Write `text` (whole lines) to the readable log, and tell it as the step's."""
        self.write(text)
        target = self.target_of(step.name) if self.emit is not None else None
        if self.emit is not None and target is not None:
            for line in text.splitlines():
                self.emit(Event("log", target, detail=line))

    def _status(self, status: dict[str, object]) -> None:
        step = self._latest.get(str(status.get("vertex")))
        ident = status.get("id")
        if step is None or not isinstance(ident, str) or status.get("completed") is None:
            return
        if (step.name, ident) not in self._statuses_done:
            self._statuses_done.add((step.name, ident))
            self._say(step, f"#{step.number} {_one_line(ident)} done\n")

    def _log(self, entry: dict[str, object]) -> None:
        step = self._latest.get(str(entry.get("vertex")))
        text = _decoded(entry.get("data"))
        if step is None or text is None:
            return
        self._say(step, "".join(f"#{step.number} {line}\n" for line in text.splitlines()))


def _dicts(value: object) -> list[dict[str, object]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _decoded(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


def _time(value: object) -> float | None:
    """An RFC 3339 time with up to nanoseconds, in seconds since the epoch. Go's zero time
    (year 1) and anything unreadable are None."""
    if not isinstance(value, str):
        return None
    found = _STAMP.fullmatch(value)
    if found is None or found.group(1).startswith("0001"):
        return None
    whole, fraction, zone = found.groups()
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)
