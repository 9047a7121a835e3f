"""The live terminal view: each state as its row says it, frames that fit the terminal, when
the view is wanted, and the view itself on a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import pytest
from rich.console import Console

from buildgraph.report.board import Board, PlanEntry
from buildgraph.report.events import Event, fan_out, human_emitter
from buildgraph.report.live import (
    BAR_WIDTH_MOST,
    TAIL_SHOWN,
    LiveView,
    board_lines,
    board_renderable,
    live_view_wanted,
)

T0 = 1_000_000.0


def screen(
    board: Board,
    now: float = T0,
    width: int = 100,
    height: int = 40,
    since: float | None = None,
) -> list[str]:
    """The frame as a terminal of `width` x `height` shows it, one string a line."""
    console = Console(
        file=io.StringIO(), width=width, height=height, force_terminal=True, record=True
    )
    console.print(board_renderable(board.views(), board.waiting_on, now, width, height, since))
    return console.export_text().splitlines()


def row_of(lines: list[str], name: str) -> str:
    [row] = [line for line in lines if line.split()[1:2] == [name]]
    return row


def fed(entries: list[PlanEntry], *events: Event) -> Board:
    board = Board(entries)
    for event in events:
        board.apply(event)
    return board


CHAIN = [
    PlanEntry("base", 1, ()),
    PlanEntry("tools", 1, ()),
    PlanEntry("app", 2, ("base", "tools")),
    PlanEntry("broken", 2, ("base",)),
    PlanEntry("after-broken", 3, ("broken",)),
]


def queued(*names: str) -> list[Event]:
    return [Event("queued", n, time=T0) for n in names]


def test_a_waiting_target_says_which_dependencies_it_waits_on() -> None:
    board = fed(
        CHAIN,
        *queued("base", "tools", "app"),
        Event("started", "base", time=T0),
        Event("finished", "tools", status="done", seconds=1.0, time=T0),
    )
    lines = screen(board)
    assert row_of(lines, "app").split()[2:] == ["waiting", "on", "base"]
    assert lines[0].startswith("wave 1:")
    assert "wave 2:  1 waiting" in lines


def test_a_building_target_shows_its_step_n_of_m_and_its_seconds_so_far() -> None:
    board = fed(
        CHAIN,
        *queued("base"),
        Event("started", "base", time=T0),
        Event("step", "base", status="running", detail="[base 2/3] RUN make all", time=T0 + 1),
    )
    row = row_of(screen(board, now=T0 + 12.4), "base")
    assert row.split()[2:] == ["building", "12s", "2/3", "RUN", "make", "all"]


def test_a_step_that_ends_while_the_target_s_own_step_runs_gives_way_to_it() -> None:
    """As bake tells it (tests/engine/test_live_terminal.py saw it): a step of the base,
    shared, starts after slow's own long step and ends at once; slow's step is shown."""
    own = '[slow 1/3] RUN echo "slow starts" && sleep 6'
    shared = "[base] resolving provenance for metadata file"
    board = fed(
        CHAIN,
        *queued("base"),
        Event("started", "base", time=T0),
        Event("step", "base", status="running", detail=own, time=T0),
        Event("step", "base", status="running", detail=shared, time=T0),
        Event("step", "base", status="done", detail=shared, seconds=0.0, time=T0),
    )
    row = row_of(screen(board, now=T0 + 3), "base")
    assert row.split()[2:5] == ["building", "3s", "1/3"]
    assert row.endswith('RUN echo "slow starts" && sleep 6')


def test_a_step_without_n_of_m_is_shown_as_bake_names_it() -> None:
    board = fed(
        CHAIN,
        *queued("base"),
        Event("started", "base", time=T0),
        Event("step", "base", status="running", detail="[internal] load metadata", time=T0),
    )
    assert row_of(screen(board), "base").split()[2:] == [
        "building",
        "0s",
        "[internal]",
        "load",
        "metadata",
    ]


def test_done_shows_its_own_seconds_and_whether_it_all_came_from_the_cache() -> None:
    steps = [("[base 1/2] COPY . /", "cached"), ("[base 2/2] RUN make", "cached")]
    board = fed(
        CHAIN,
        *queued("base", "tools"),
        Event("started", "base", time=T0),
        *(Event("step", "base", status=s, detail=d, time=T0) for d, s in steps),
        Event("finished", "base", status="done", seconds=0.42, time=T0),
        Event("started", "tools", time=T0),
        Event("step", "tools", status="cached", detail="[tools 1/2] COPY . /", time=T0),
        Event("step", "tools", status="done", detail="[tools 2/2] RUN make", time=T0),
        Event("finished", "tools", status="done", seconds=3.25, time=T0),
    )
    lines = screen(board)
    assert row_of(lines, "base").split()[2:] == ["done", "0.4s", "(cached)"]
    assert row_of(lines, "tools").split()[2:] == ["done", "3.2s"]
    assert lines[0] == "wave 1:  2 done (1 cached)"


def test_reused_says_where_from_and_unneeded_says_so() -> None:
    board = fed(
        CHAIN,
        *queued("base", "tools"),
        Event("finished", "base", status="unneeded", time=T0),
        Event("finished", "tools", status="reused", detail="localhost:5000/x/tools", time=T0),
    )
    lines = screen(board)
    assert row_of(lines, "base").split()[2:] == ["unneeded"]
    assert row_of(lines, "tools").split()[2:] == ["reused", "(localhost:5000/x/tools)"]


def broken_board(log_lines: int) -> Board:
    return fed(
        CHAIN,
        *queued("base", "broken", "after-broken"),
        Event("finished", "base", status="done", seconds=1.0, time=T0),
        Event("started", "broken", time=T0),
        Event("step", "broken", status="running", detail="[broken 2/2] RUN exit 3", time=T0),
        *(Event("log", "broken", detail=f"#7 0.{i} line {i}", time=T0) for i in range(log_lines)),
        Event("step", "broken", status="failed", detail="[broken 2/2] RUN exit 3", time=T0),
        Event("finished", "broken", status="failed", seconds=1.5, detail="exit code 3", time=T0),
        Event("skipped", "after-broken", detail="broken failed", time=T0),
    )


def test_a_failure_shows_the_failing_step_and_the_last_lines_of_its_log() -> None:
    lines = screen(broken_board(log_lines=8))
    row = row_of(lines, "broken")
    assert row.split()[2:] == ["failed", "1.5s", "at", "RUN", "exit", "3"]
    under = lines[lines.index(row) + 1 : lines.index(row) + 1 + TAIL_SHOWN]
    assert [line.split("│ ")[1] for line in under] == [f"#7 0.{i} line {i}" for i in range(3, 8)]
    assert not any("line 2" in line for line in lines)


def test_a_failure_says_which_line_of_which_dockerfile_failed() -> None:
    board = broken_board(log_lines=1)
    board.apply(
        Event(
            "finished",
            "broken",
            status="failed",
            seconds=1.5,
            data={"failed_at": "broken/Dockerfile:4", "steps": 1, "cached_steps": 0},
            time=T0,
        )
    )
    row = row_of(screen(board), "broken")
    assert row.split()[2:] == ["failed", "1.5s", "at", "broken/Dockerfile:4:", "RUN", "exit", "3"]


def test_the_dashes_buildx_frames_a_failure_with_take_no_line() -> None:
    board = broken_board(log_lines=2)
    for line in ("------", " > [broken 2/2] RUN exit 3:", "#7 0.1 line 1", "------"):
        board.apply(Event("log", "broken", detail=line, time=T0))
    lines = screen(board)
    row = row_of(lines, "broken")
    under = [line.split("│ ")[1] for line in lines[lines.index(row) + 1 :] if "│" in line]
    assert under == [
        "#7 0.0 line 0",
        "#7 0.1 line 1",
        " > [broken 2/2] RUN exit 3:",
        "#7 0.1 line 1",
    ]


def test_a_failure_without_a_log_shows_the_error_it_ended_with() -> None:
    lines = screen(broken_board(log_lines=0))
    row = row_of(lines, "broken")
    assert lines[lines.index(row) + 1].split("│ ")[1] == "exit code 3"


def test_a_skipped_target_says_because_of_which_failure() -> None:
    lines = screen(broken_board(log_lines=1))
    assert row_of(lines, "after-broken").split()[2:] == ["skipped:", "broken", "failed"]


def test_targets_the_run_leaves_out_are_not_shown() -> None:
    lines = screen(fed(CHAIN, *queued("base")))
    assert [line.split()[1] for line in lines if line.startswith("  ")] == ["base"]
    assert lines[-1].split()[1] == "0/1"


def test_the_bar_counts_what_ended_of_the_run_and_the_time_since_it_started() -> None:
    lines = screen(broken_board(log_lines=1), now=T0 + 75, since=T0)
    bar = lines[-1]
    assert bar.startswith("━" * min(BAR_WIDTH_MOST, 100 // 3) + " 3/3")
    assert bar.split()[2:] == ["1:15", "·", "1", "failed", "·", "1", "skipped", "·", "1", "done"]


def test_the_bar_is_coloured_in_proportion_to_how_the_targets_stand() -> None:
    board = fed(
        [PlanEntry(f"t{i}", 1, ()) for i in range(4)],
        *queued("t0", "t1", "t2", "t3"),
        Event("finished", "t0", status="done", seconds=1.0, time=T0),
        Event("finished", "t1", status="failed", seconds=1.0, time=T0),
    )
    [bar] = board_lines(board.views(), board.waiting_on, T0, 120, 1)
    cells = {
        str(span.style): span.end - span.start
        for span in bar.spans
        if set(bar.plain[span.start : span.end]) == {"━"}
    }
    assert cells == {"green": 10, "red": 10, "grey30": 20}


def big_board(waves: int, per_wave: int) -> Board:
    """A run of waves x per_wave targets: the first third done, then a wave building with
    eight targets and three failures, the rest waiting."""
    names = [[f"w{w:03d}-t{t:03d}" for t in range(per_wave)] for w in range(waves)]
    entries = [
        PlanEntry(n, w + 1, (names[w - 1][t],) if w else ())
        for w in range(waves)
        for t, n in enumerate(names[w])
    ]
    events = [Event("queued", e.name, time=T0) for e in entries]
    current = waves // 3
    for w in range(current):
        events += [Event("finished", n, status="done", seconds=1.0, time=T0) for n in names[w]]
    for n in names[current][:8]:
        events += [
            Event("started", n, time=T0),
            Event("step", n, status="running", detail=f"[{n} 1/2] RUN make", time=T0),
        ]
    for n in names[current][8:11]:
        events += [Event("started", n, time=T0)]
        events += [Event("log", n, detail=f"error {i}", time=T0) for i in range(10)]
        events += [Event("finished", n, status="failed", seconds=2.0, time=T0)]
    return fed(entries, *events)


def building_and_failed(board: Board) -> tuple[list[str], list[str]]:
    views = board.views()
    return (
        [v.name for v in views if v.state == "building"],
        [v.name for v in views if v.state == "failed"],
    )


def test_a_thousand_targets_fit_forty_lines_by_wave_building_and_failed_shown() -> None:
    board = big_board(waves=10, per_wave=100)
    lines = screen(board, width=100, height=40)
    assert len(lines) <= 40
    building, failed = building_and_failed(board)
    for name in building + failed:
        row_of(lines, name)
    assert "wave 1:  100 done" in lines  # a finished wave is its counts
    assert "wave 4:  8 building · 89 waiting · 3 failed" in lines
    assert "wave 10:  100 waiting" in lines
    assert lines.count("      │ error 9") == 3  # each failure's last log line


def test_more_waves_than_lines_show_the_building_then_the_failed_then_how_many_more() -> None:
    board = big_board(waves=300, per_wave=12)
    lines = screen(board, width=100, height=12)
    assert len(lines) == 12
    building, failed = building_and_failed(board)
    assert lines[0].startswith("waves 1-300:  8 building")
    assert [line.split()[1] for line in lines[1:10]] == [*building, failed[0]]
    assert lines[10] == f"… {300 * 12 - 9} more"


@pytest.mark.parametrize("height", [1, 2, 3, 5, 17, 40])
def test_no_frame_is_taller_or_wider_than_the_terminal(height: int) -> None:
    board = big_board(waves=30, per_wave=30)
    board.apply(Event("started", "w000-t000", time=T0))
    board.apply(Event("step", "w000-t000", status="running", detail="[x 1/2] " + "R" * 300))
    for width in (20, 41, 100):
        lines = screen(board, width=width, height=height)
        assert 1 <= len(lines) <= height
        assert max(len(line) for line in lines) <= width


def test_finished_waves_give_way_before_the_rows_of_the_wave_being_built() -> None:
    board = big_board(waves=3, per_wave=12)
    full = screen(board, height=200)
    assert len(full) == 3 + 36 + 3 * TAIL_SHOWN + 1
    fitted = screen(board, height=len(full) - 1)
    assert "wave 1:  12 done" in fitted
    assert not any(line.split()[1:2] == ["w000-t000"] for line in fitted if line.strip())
    assert row_of(fitted, "w002-t000").split()[2:] == ["waiting", "on", "w001-t000"]


def test_what_a_log_line_holds_never_moves_the_cursor_or_breaks_the_row() -> None:
    board = fed(
        CHAIN,
        *queued("base"),
        Event("started", "base", time=T0),
        Event("log", "base", detail="\x1b[2J\x1b[Hcleared\rred\tx\x07", time=T0),
        Event("finished", "base", status="failed", seconds=1.0, time=T0),
    )
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    with console.capture() as captured:
        console.print(board_renderable(board.views(), board.waiting_on, T0, 80, 10))
    assert "\x1b[2J" not in captured.get() and "\x07" not in captured.get()
    assert "      │ clearedred  x" in screen(board)


# --- when the view is wanted ------------------------------------------------------------


@contextmanager
def terminal(columns: int = 80, rows: int = 24) -> Iterator[tuple[TextIO, list[bytes]]]:
    """A real pseudo-terminal of `columns` x `rows`: the stream to write on, and what
    reached the other end (filled by a reader thread, complete once the block ends)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    attributes = termios.tcgetattr(slave)
    attributes[1] &= ~termios.ONLCR  # what was written, \n as \n
    termios.tcsetattr(slave, termios.TCSANOW, attributes)
    received: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stream = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115
    try:
        yield stream, received
    finally:
        stream.flush()
        time.sleep(0.1)  # the reader drains what is in flight
        stream.close()
        reader.join(timeout=5)
        os.close(master)


def test_the_view_is_wanted_on_a_terminal_only_without_no_color_dumb_progress_or_json() -> None:
    with terminal() as (tty, _):
        assert live_view_wanted(tty, None, False, {"TERM": "xterm-256color"})
        assert live_view_wanted(tty, None, False, {"NO_COLOR": ""})
        assert not live_view_wanted(tty, None, False, {"NO_COLOR": "1"})
        assert not live_view_wanted(tty, None, False, {"TERM": "dumb"})
        for progress in ("plain", "tty", "auto"):
            assert not live_view_wanted(tty, progress, False, {})
        assert not live_view_wanted(tty, None, True, {})
    assert not live_view_wanted(io.StringIO(), None, False, {})
    with open(os.devnull, "w") as devnull:
        assert not live_view_wanted(devnull, None, False, {})


def test_importing_the_view_imports_no_rich() -> None:
    code = "import sys, buildgraph.report.live; print(any(m.split('.')[0] == 'rich' for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- the view on a terminal -------------------------------------------------------------


def test_the_view_draws_the_run_prints_notes_above_and_leaves_the_last_frame() -> None:
    board = Board(CHAIN[:3])
    with terminal(columns=70, rows=20) as (tty, received):
        view = LiveView(board, tty)
        emit = fan_out(board.apply, view)
        emit(Event("note", detail="before the view"))
        with view:
            for event in queued("base", "tools", "app"):
                emit(event)
            emit(Event("started", "base"))
            emit(Event("step", "base", status="running", detail="[base 1/2] RUN make"))
            time.sleep(0.5)
            emit(Event("note", detail="a note while building"))
            emit(Event("finished", "base", status="done", seconds=0.5))
            emit(Event("finished", "tools", status="reused"))
            emit(Event("skipped", "app", detail="base failed"))
        view.stop()  # twice is once
        emit(Event("note", detail="after the view"))
    out = b"".join(received).decode()
    assert "▶ base   building 0s  1/2  RUN make" in text_of(out)  # a frame while it ran
    assert text_of(out).count("buildgraph: a note while building\n") == 1
    last = out.rsplit("\x1b[2K", 1)[1]  # what follows the last erase: the final frame
    assert "✓ base   done 0.5s" in text_of(last)
    assert "- app    skipped: base failed" in text_of(last)
    assert " 3/3 " in text_of(last)
    assert last.endswith("\x1b[?25h" + human_emitter_line(Event("note", detail="after the view")))
    assert out.startswith(human_emitter_line(Event("note", detail="before the view")))


def text_of(written: str) -> str:
    """What was written, without its colours and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", written)


def human_emitter_line(event: Event) -> str:
    """The plain line `human_emitter` writes for `event` on a terminal."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    written = Tty()
    human_emitter(written)(event)
    return written.getvalue()


def test_the_view_changes_no_board_and_prints_no_target_event() -> None:
    board = Board(CHAIN)
    with terminal() as (tty, received), LiveView(board, tty) as view:
        version = board.version
        for event in [*queued("base"), Event("started", "base"), Event("log", "base", detail="x")]:
            view(event)
        assert board.version == version
    assert "building" not in b"".join(received).decode()


def test_a_screen_that_does_not_change_is_not_redrawn() -> None:
    board = fed(CHAIN, *queued("base", "tools"))
    with terminal() as (tty, received), LiveView(board, tty):
        time.sleep(1.6)  # 12 ticks; the clock under the bar changes once or twice
    frames = text_of(b"".join(received).decode()).count("wave 1:")
    assert 2 <= frames <= 4


def test_events_from_many_threads_end_in_the_right_final_frame() -> None:
    entries = [PlanEntry(f"t{i:02d}", 1, ()) for i in range(40)]
    board = Board(entries)
    with terminal(columns=80, rows=60) as (tty, received):
        view = LiveView(board, tty)
        emit = fan_out(board.apply, view)

        def run(name: str) -> None:
            emit(Event("queued", name))
            emit(Event("started", name))
            for step in range(1, 4):
                emit(Event("step", name, status="running", detail=f"[{name} {step}/3] RUN x"))
                emit(Event("log", name, detail=f"line {step}"))
                emit(Event("note", detail=f"{name} {step}"))
                emit(Event("step", name, status="done", detail=f"[{name} {step}/3] RUN x"))
            emit(Event("finished", name, status="done", seconds=0.1))

        with view:
            threads = [threading.Thread(target=run, args=(e.name,)) for e in entries]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    out = b"".join(received).decode()
    last = text_of(out.rsplit("\x1b[2K", 1)[1])
    assert "wave 1:  40 done" in last and " 40/40" in last
    for name in (e.name for e in entries):
        assert text_of(out).count(f"buildgraph: {name} 2\n") == 1
