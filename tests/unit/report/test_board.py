"""report.board: each target's state, kept from the run's events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.report.board import LOG_LINES, TAIL_LINES, Board, PlanEntry
from buildgraph.report.events import Event

ENTRIES = [PlanEntry("base", 1, ()), PlanEntry("lib", 1, ()), PlanEntry("app", 2, ("base", "lib"))]


def fed(*events: Event) -> Board:
    board = Board(ENTRIES)
    for event in events:
        board.apply(event)
    return board


def test_targets_not_in_the_run_stay_idle_and_queued_ones_wait() -> None:
    board = fed(Event("queued", "app"), Event("queued", "base"))
    assert [(v.name, v.state) for v in board.views()] == [
        ("base", "waiting"),
        ("lib", "idle"),
        ("app", "waiting"),
    ]
    # lib is not part of this run: app waits for base only.
    assert board.waiting_on("app") == ["base"]


def test_a_building_target_shows_its_step_and_n_of_m() -> None:
    board = fed(
        Event("queued", "app"),
        Event("started", "app", time=100.0),
        Event("step", "app", status="running", detail="[app 2/3] RUN make", time=101.0),
    )
    view = board.view("app")
    assert view is not None
    assert (view.state, view.step, view.step_index, view.step_count, view.started) == (
        "building",
        "[app 2/3] RUN make",
        2,
        3,
        100.0,
    )


def test_done_with_every_step_cached_is_cached_and_keeps_its_seconds() -> None:
    board = fed(
        Event("started", "base", time=10.0),
        Event("step", "base", status="running", detail="[base 1/1] COPY x /"),
        Event("step", "base", status="cached", detail="[base 1/1] COPY x /", seconds=0.0),
        Event("finished", "base", status="done", seconds=1.5),
        Event("started", "lib", time=10.0),
        Event("step", "lib", status="running", detail="[lib 1/1] RUN true"),
        Event("step", "lib", status="done", detail="[lib 1/1] RUN true", seconds=0.3),
        Event("finished", "lib", status="done", seconds=0.4),
    )
    base, lib = board.view("base"), board.view("lib")
    assert base is not None and lib is not None
    assert base.cached and base.seconds == 1.5 and base.step is None
    assert not lib.cached and lib.steps_done == 1


def test_a_failure_keeps_the_step_that_failed_and_the_last_log_lines() -> None:
    lines = [f"#7 line {i}" for i in range(TAIL_LINES + 5)]
    board = fed(
        Event("started", "app"),
        Event("step", "app", status="running", detail="[app 3/3] RUN false"),
        *(Event("log", "app", detail=line) for line in lines),
        Event("step", "app", status="failed", detail="[app 3/3] RUN false", seconds=0.1),
        Event("finished", "app", status="failed", seconds=2.0, detail="exit code: 1"),
        Event("skipped", "lib", detail="needs app, which failed"),
    )
    app, lib = board.view("app"), board.view("lib")
    assert app is not None and lib is not None
    assert (app.state, app.step, app.detail) == ("failed", "[app 3/3] RUN false", "exit code: 1")
    assert app.log_tail == tuple(lines[-TAIL_LINES:])
    assert board.log("app") == lines
    assert (lib.state, lib.detail) == ("skipped", "needs app, which failed")


def test_a_rebuild_starts_over_and_keeps_its_reason() -> None:
    board = fed(
        Event("started", "base"),
        Event("log", "base", detail="old"),
        Event("finished", "base", status="failed", seconds=1.0),
        Event("rebuild", "base", detail="base/a.txt changed"),
        Event("started", "base"),
    )
    view = board.view("base")
    assert view is not None
    assert (view.state, view.reason, view.log_tail, view.seconds) == (
        "building",
        "base/a.txt changed",
        (),
        None,
    )
    assert board.log("base") == []


def test_replan_keeps_what_it_knew_of_the_targets_kept() -> None:
    board = fed(Event("finished", "base", status="done", seconds=1.0))
    board.replan([PlanEntry("base", 1, ()), PlanEntry("new", 2, ("base",))])
    assert [(v.name, v.state) for v in board.views()] == [("base", "done"), ("new", "idle")]


def test_events_of_other_targets_and_other_kinds_change_nothing() -> None:
    board = fed()
    before = board.version
    board.apply(Event("finished", "nobody", status="done"))
    board.apply(Event("note", detail="hello"))
    assert board.version == before


# Up to 5,050 lines an example: on a loaded machine (CI's engine tests beside it) one
# example can take longer than hypothesis's 200 ms deadline; the work is what it is.
@settings(deadline=None, max_examples=40)
@given(st.integers(min_value=0, max_value=LOG_LINES + 50))
def test_the_log_kept_is_bounded(count: int) -> None:
    board = Board([PlanEntry("a", 1, ())])
    board.apply(Event("started", "a"))
    for i in range(count):
        board.apply(Event("log", "a", detail=str(i)))
    kept = board.log("a")
    assert len(kept) == min(count, LOG_LINES)
    assert kept == [str(i) for i in range(max(0, count - LOG_LINES), count)]


def test_only_instruction_steps_are_counted_and_the_build_s_count_wins_at_its_end() -> None:
    board = Board([PlanEntry("a", 1, ())])
    board.apply(Event("started", "a"))
    for name, status in [
        ("[a internal] load build definition from Dockerfile", "done"),
        ("[a 1/2] COPY x /x", "cached"),
        ("[a 2/2] RUN make", "done"),
        ("[a] exporting to image", "done"),
    ]:
        board.apply(Event("step", "a", status=status, detail=name))
    view = board.view("a")
    assert view is not None and (view.steps_done, view.steps_cached) == (2, 1)
    board.apply(Event("finished", "a", status="done", data={"steps": 4, "cached_steps": 4}))
    view = board.view("a")
    assert view is not None and (view.steps_done, view.steps_cached, view.cached) == (4, 4, True)


def test_a_failure_keeps_its_step_and_its_place_until_it_builds_again() -> None:
    board = Board([PlanEntry("a", 1, ())])
    board.apply(Event("started", "a"))
    board.apply(Event("step", "a", status="running", detail="[a 1/1] RUN exit 3"))
    board.apply(Event("step", "a", status="failed", detail="[a 1/1] RUN exit 3"))
    board.apply(Event("finished", "a", status="failed", data={"failed_at": "a/Dockerfile:2"}))
    view = board.view("a")
    assert view is not None
    assert (view.state, view.step, view.failed_at) == (
        "failed",
        "[a 1/1] RUN exit 3",
        "a/Dockerfile:2",
    )
    board.apply(Event("started", "a"))
    view = board.view("a")
    assert view is not None and (view.step, view.failed_at) == (None, None)
