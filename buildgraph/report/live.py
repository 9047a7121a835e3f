"""The live terminal view of `buildgraph build`: the board (report.board) drawn by wave and
redrawn as the run goes, with a bar for the whole run under it.

Each target shows where it stands: waiting (on which dependencies), building (the step it
is at, n/m, seconds so far), done (its own seconds, cached or not), reused, unneeded,
failed (the step that failed and the last lines of its log), skipped (why), cancelled.
What is about no one target (notes, errors, watch's changes) is printed above the view, as
the plain lines say it.

A frame never holds more lines than the terminal has: when the run does not fit, rows give
way to the counts in their wave's heading, the settled first (finished waves, then every
done, reused and unneeded target), then the skipped and the waiting, then the failures' log
lines; a run still too tall is shown as its building and failed targets, then "… N more".

`rich` is imported only when a view starts or a frame is drawn: a build off a terminal
(plain lines, JSON) never imports it, and importing this module costs nothing.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from buildgraph.report.events import human_emitter

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.text import Text

    from buildgraph.report.board import Board, TargetView
    from buildgraph.report.events import Event

REFRESH_PER_SECOND = 8
# Events about no one target's state: printed above the view, as the plain lines say them.
PRINTED_EVENTS = frozenset({"note", "error", "plan", "change", "rebuild", "batch"})
SETTLED = frozenset({"done", "reused", "unneeded"})
TAIL_SHOWN = 5  # of a failed target's last log lines, when the run fits
NAME_WIDTH_MOST = 32
BAR_WIDTH_MOST = 40

# mark, colour of each state
_MARKS: Mapping[str, tuple[str, str]] = {
    "waiting": ("·", "dim"),
    "building": ("▶", "cyan"),
    "done": ("✓", "green"),
    "reused": ("✓", "green"),
    "unneeded": ("-", "dim"),
    "failed": ("✗", "red"),
    "skipped": ("-", "yellow"),
    "cancelled": ("✗", "yellow"),
}
# The order states are counted in a wave's heading and under the bar.
_COUNTED = ("building", "waiting", "failed", "cancelled", "skipped", "done", "reused", "unneeded")
# Colours and cursor moves (CSI sequences), then any other control character but a tab.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0a-\x1f\x7f]")


def live_view_wanted(
    stream: TextIO,
    progress: str | None,
    json_events: bool,
    environ: Mapping[str, str] = os.environ,
) -> bool:
    """Whether `build` draws the live view on `stream`, rather than the plain lines: only
    on a terminal that takes colour and cursor moves, when neither buildx's own progress
    (--progress) nor events for programs (--format json) were asked for."""
    if json_events or progress is not None:
        return False
    # https://no-color.org: any non-empty NO_COLOR; a dumb terminal cannot move the cursor.
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


# --- the frame: a pure function of the board's views -------------------------------------


@dataclass(frozen=True, slots=True)
class _Detail:
    """How much of the run a frame shows: one rung of the ladder `board_lines` climbs down
    until the frame fits."""

    hidden: frozenset[str]  # states whose rows are left to their wave's counts
    settled_waves_only: bool  # hide those rows only in waves whose every target settled
    tail: int  # log lines under a failed target


_LADDER = (
    _Detail(frozenset(), False, TAIL_SHOWN),
    _Detail(SETTLED, True, TAIL_SHOWN),
    _Detail(SETTLED, False, TAIL_SHOWN),
    _Detail(SETTLED | {"skipped"}, False, TAIL_SHOWN),
    _Detail(SETTLED | {"skipped", "waiting"}, False, TAIL_SHOWN),
    _Detail(SETTLED | {"skipped", "waiting"}, False, 2),
    _Detail(SETTLED | {"skipped", "waiting", "cancelled"}, False, 0),
)


def board_renderable(
    views: Sequence[TargetView],
    waiting_on: Callable[[str], Sequence[str]],
    now: float,
    width: int,
    height: int,
    since: float | None = None,
) -> RenderableType:
    """The frame for `views` (a board's, in plan order) on a terminal of `width` x
    `height`: at most `height` lines, none wider than `width`. `since` is when the run
    started, for the time under the bar."""
    from rich.console import Group

    return Group(*board_lines(views, waiting_on, now, width, height, since))


def board_lines(
    views: Sequence[TargetView],
    waiting_on: Callable[[str], Sequence[str]],
    now: float,
    width: int,
    height: int,
    since: float | None = None,
) -> list[Text]:
    """The lines of the frame `board_renderable` draws."""
    if height <= 0 or width <= 0:
        return []
    in_run = [v for v in views if v.state != "idle"]  # watch builds a part of the plan
    bar = _bar_line(in_run, now, width, since)
    room = height - 1
    if room <= 0:
        return [bar]
    waves = _by_wave(in_run)
    names = _name_width(in_run, width)
    for detail in _LADDER:
        if _lines_needed(waves, detail) <= room:
            return [*_wave_lines(waves, detail, waiting_on, now, width, names), bar]
    return [*_busiest_lines(in_run, waiting_on, now, width, names, room), bar]


def _by_wave(views: Sequence[TargetView]) -> dict[int, list[TargetView]]:
    waves: dict[int, list[TargetView]] = {}
    for view in views:
        waves.setdefault(view.wave, []).append(view)
    return dict(sorted(waves.items()))


def _name_width(views: Sequence[TargetView], width: int) -> int:
    longest = max((len(v.name) for v in views), default=0)
    return max(1, min(longest, NAME_WIDTH_MOST, width // 3))


def _shown_rows(wave: Sequence[TargetView], detail: _Detail) -> list[TargetView]:
    """The targets of a wave that get a row of their own at this detail."""
    if detail.settled_waves_only and not all(v.state in SETTLED for v in wave):
        hidden: frozenset[str] = frozenset()
    else:
        hidden = detail.hidden
    return [v for v in wave if v.state not in hidden]


def _tail_of(view: TargetView, lines: int) -> list[str]:
    """The lines shown under a failed target: its log's last, else the error it ended with."""
    if view.state != "failed" or lines <= 0:
        return []
    # buildx frames a failed step's output between lines of dashes: they would take the
    # room of what the step said.
    said = [line for line in view.log_tail if line.strip().strip("-")]
    if said:
        return said[-lines:]
    return [view.detail] if view.detail else []


def _lines_needed(waves: Mapping[int, Sequence[TargetView]], detail: _Detail) -> int:
    needed = 0
    for wave in waves.values():
        rows = _shown_rows(wave, detail)
        needed += 1 + len(rows) + sum(len(_tail_of(v, detail.tail)) for v in rows)
    return needed


def _wave_lines(
    waves: Mapping[int, Sequence[TargetView]],
    detail: _Detail,
    waiting_on: Callable[[str], Sequence[str]],
    now: float,
    width: int,
    names: int,
) -> list[Text]:
    lines = []
    for number, wave in waves.items():
        lines.append(_heading(f"wave {number}", wave, width))
        for view in _shown_rows(wave, detail):
            lines.append(_row(view, waiting_on, now, width, names))
            lines.extend(_log_line(text, width) for text in _tail_of(view, detail.tail))
    return lines


def _busiest_lines(
    views: Sequence[TargetView],
    waiting_on: Callable[[str], Sequence[str]],
    now: float,
    width: int,
    names: int,
    room: int,
) -> list[Text]:
    """A run too tall for its waves: its counts, then the building and failed targets, as
    many as fit, and how many more there are."""
    first, last = min(v.wave for v in views), max(v.wave for v in views)
    lines = [_heading(f"waves {first}-{last}", views, width)]
    busy = [v for v in views if v.state == "building"] + [v for v in views if v.state == "failed"]
    rows = room - 1  # under the heading
    if len(busy) + (len(busy) < len(views)) > rows:
        busy = busy[: max(0, rows - 1)]  # and a line to say how many more
    lines.extend(_row(v, waiting_on, now, width, names) for v in busy)
    left = len(views) - len(busy)
    if left and len(lines) < room:
        lines.append(_fitted(f"… {left} more", "dim", width))
    return lines[:room]


def _counts(views: Sequence[TargetView]) -> list[tuple[str, int]]:
    found = dict.fromkeys(_COUNTED, 0)
    for view in views:
        if view.state in found:
            found[view.state] += 1
    return [(state, n) for state, n in found.items() if n]


def _heading(title: str, views: Sequence[TargetView], width: int) -> Text:
    from rich.text import Text

    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(title, style="bold")
    cached = sum(1 for v in views if v.cached)
    for index, (state, n) in enumerate(_counts(views)):
        line.append(":  " if index == 0 else " · ", style="dim")
        line.append(f"{n} {state}", style=_MARKS[state][1])
        if state == "done" and cached:
            line.append(f" ({cached} cached)", style="dim")
    line.truncate(width, overflow="ellipsis")
    return line


def _row(
    view: TargetView,
    waiting_on: Callable[[str], Sequence[str]],
    now: float,
    width: int,
    names: int,
) -> Text:
    from rich.text import Text

    mark, colour = _MARKS.get(view.state, ("?", "yellow"))
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"  {mark} ", style=colour)
    line.append(_clipped(view.name, names).ljust(names), style="bold")
    line.append("  ")
    line.append_text(_state_text(view, waiting_on, now))
    line.truncate(width, overflow="ellipsis")
    return line


def _state_text(view: TargetView, waiting_on: Callable[[str], Sequence[str]], now: float) -> Text:
    """What a row says after the target's name."""
    from rich.text import Text

    state = view.state
    colour = _MARKS.get(state, ("?", "yellow"))[1]
    text = Text()
    if state == "waiting":
        on = waiting_on(view.name)
        text.append(f"waiting on {', '.join(on)}" if on else "waiting", style="dim")
    elif state == "building":
        elapsed = f"{max(0.0, now - view.started):.0f}s" if view.started is not None else ""
        text.append(f"building {elapsed}".rstrip(), style=colour)
        if view.step_index is not None and view.step_count is not None:
            text.append(f"  {view.step_index}/{view.step_count}", style="bold")
        if view.step:
            text.append(f"  {_step_shown(view.step, view.name)}")
    elif state == "done":
        text.append(f"done{_seconds(view.seconds)}", style=colour)
        if view.cached:
            text.append(" (cached)", style="dim")
    elif state in ("failed", "cancelled"):
        text.append(f"{state}{_seconds(view.seconds)}", style=colour)
        # Where it failed first, the Dockerfile's line: a long step is cut at the right.
        where = [_plain(view.failed_at)] if view.failed_at else []
        where += [_step_shown(view.step, view.name)] if view.step else []
        if where:
            text.append(f"  at {': '.join(where)}")
        elif view.detail and state == "cancelled":
            text.append(f": {_plain(view.detail)}")
    elif state == "skipped":
        text.append(f"skipped: {_plain(view.detail or '')}".rstrip(": "), style=colour)
    else:  # reused, unneeded
        text.append(state, style=colour)
        if view.detail:
            text.append(f" ({_plain(view.detail)})", style="dim")
    return text


def _log_line(text: str, width: int) -> Text:
    return _fitted(f"      │ {_plain(text)}", "dim", width)


def _fitted(text: str, style: str, width: int) -> Text:
    from rich.text import Text

    line = Text(text, style=style, no_wrap=True, overflow="ellipsis")
    line.truncate(width, overflow="ellipsis")
    return line


def _bar_line(views: Sequence[TargetView], now: float, width: int, since: float | None) -> Text:
    """The whole run: a bar of its targets by how they stand, ended of all, and the time."""
    from rich.text import Text

    ended = sum(1 for v in views if v.state in SETTLED | {"failed", "skipped", "cancelled"})
    total = len(views)
    # The time and the counts after the bar, the time first: the counts are also in the
    # waves' headings, so they are what a narrow terminal cuts.
    label = Text(f" {ended}/{total}", style="bold")
    if since is not None:
        label.append(f"  {_clock(now - since)}", style="dim")
    for state, n in _counts(views):
        if state != "waiting":
            label.append(f" · {n} {state}", style=_MARKS[state][1])
    room = max(0, min(BAR_WIDTH_MOST, width // 3))
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append_text(_bar(views, room))
    line.append_text(label)
    line.truncate(width, overflow="ellipsis")
    return line


def _bar(views: Sequence[TargetView], room: int) -> Text:
    """`room` cells, coloured in proportion to the targets' states (ended ones first)."""
    from rich.text import Text

    bar = Text()
    if room <= 0:
        return bar
    total = max(1, len(views))
    used = 0
    for state in ("done", "reused", "unneeded", "failed", "cancelled", "skipped", "building"):
        n = sum(1 for v in views if v.state == state)
        cells = round(room * n / total) if n else 0
        cells = min(cells, room - used)
        bar.append("━" * cells, style=_MARKS[state][1])
        used += cells
    bar.append("━" * (room - used), style="grey30")
    return bar


def _step_shown(step: str, name: str) -> str:
    """A step's name without the label bake puts first ("[app 2/3] RUN make" -> "RUN
    make"), the row says the target and n/m already; "[internal] ..." keeps its label."""
    label = re.match(rf"\[(?:{re.escape(name)})?\s*(?:\d+/\d+)?\]\s*", step)
    shown = step[label.end() :] if label and label.group().strip("[] ") else step
    return _plain(shown)


def _seconds(seconds: float | None) -> str:
    return f" {seconds:.1f}s" if seconds is not None else ""


def _clock(seconds: float) -> str:
    whole = int(max(0.0, seconds))
    minutes, secs = divmod(whole, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs}s"


def _clipped(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _plain(text: str) -> str:
    """One line of text as it can be drawn in a row: no cursor moves, colours or breaks."""
    return _CONTROL.sub("", text.replace("\n", " ")).expandtabs(4)


# --- the view on the terminal ------------------------------------------------------------


class _Catcher(io.StringIO):
    """Where the plain lines of a printed event are written, as for a terminal (colours
    included, unless NO_COLOR), to be printed above the view."""

    def isatty(self) -> bool:
        return True


class LiveView:
    """The board drawn live on `stream` (a terminal) from `start` to `stop`.

    Called with each event of the run (an Emit), it never changes the board (whoever feeds
    the board does: `fan_out(board.apply, view)`); it prints the events about no one target
    above the view, and a frame is drawn only when the board changed, the terminal was
    resized, or a timer on screen ticks, at most REFRESH_PER_SECOND times a second.
    Events come from several threads; one thread draws."""

    def __init__(self, board: Board, stream: TextIO = sys.stderr) -> None:
        self._board = board
        self._stream = stream
        self._lock = threading.Lock()  # start, stop, and the printed lines
        self._live: Live | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._since = time.time()
        self._drawn: tuple[object, ...] | None = None
        self._views: tuple[int, list[TargetView]] = (-1, [])
        self._caught = _Catcher()
        self._plain_line = human_emitter(self._caught)

    def start(self) -> None:
        from rich.console import Console
        from rich.live import Live

        with self._lock:
            if self._live is not None or self._stopping.is_set():
                return
            console = Console(file=self._stream)
            self._since = time.time()
            # Our own ticker draws (auto_refresh off): rich's would rebuild the frame at every
            # tick, changed or not. stdout is left alone: it may be a pipe, and is for events.
            live = Live(
                console=console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=self._stream is sys.stderr,
                vertical_overflow="crop",
            )
            live.start()
            self._live = live
            self._draw(force=True)
            self._ticker = threading.Thread(target=self._tick, name="live-view", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        """The last frame drawn and left on screen, the cursor shown again; twice is once."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._live is not None:
                self._draw(force=True)
                self._live.stop()

    def __enter__(self) -> LiveView:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, event: Event) -> None:
        if event.event not in PRINTED_EVENTS:
            return  # a target's state: the board has it, the ticker draws it
        with self._lock:
            self._plain_line(event)
            text = self._caught.getvalue().rstrip("\n")
            self._caught.seek(0)
            self._caught.truncate()
            if not text:
                return
            if self._live is None or not self._live.is_started:
                self._stream.write(text + "\n")  # no view (yet, or any more): a plain line
                self._stream.flush()
                return
            from rich.text import Text

            self._live.console.print(Text.from_ansi(text), soft_wrap=True)

    def _tick(self) -> None:
        while not self._stopping.wait(1 / REFRESH_PER_SECOND):
            self._draw(force=False)

    def _draw(self, force: bool) -> None:
        """Draw a frame, unless nothing on screen would change."""
        live = self._live
        if live is None:
            return
        version = self._board.version
        if self._views[0] != version:
            # Read before the version would be newer: a change after it is drawn next tick.
            self._views = (version, self._board.views())
        views = self._views[1]
        now = time.time()
        width, height = self._terminal_size(live.console)
        timers = tuple(int(now - v.started) for v in views if v.state == "building" and v.started)
        key = (version, width, height, timers, int(now - self._since))
        if not force and key == self._drawn:
            return
        self._drawn = key
        live.console.size = (width, height)
        # One line short of the terminal: the cursor rests on the line under the frame.
        frame = board_renderable(
            views, self._board.waiting_on, now, width, height - 1, since=self._since
        )
        live.update(frame, refresh=True)

    def _terminal_size(self, console: Console) -> tuple[int, int]:
        """The size of the terminal the view is drawn on (rich asks the standard streams)."""
        try:
            size = os.get_terminal_size(self._stream.fileno())
        except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
            return console.size.width, console.size.height
        return size.columns or 80, size.lines or 24
