"""What shows a run of `build` or `watch` as it goes, chosen once per command:

- the events as plain lines (report.events.human_emitter) or JSON lines (`--format json`);
- on a terminal, instead of the plain lines, the live view (report.live), redrawn;
- with `--ui`, besides either, the page (buildgraph.ui), served on loopback.

The live view and the page show one `report.board.Board`, fed every event first. A run
with neither never imports rich, the board or the page's server.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from buildgraph.report.events import Emit, Event, fan_out, human_emitter, json_emitter

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan
    from buildgraph.report.board import Board
    from buildgraph.report.live import LiveView
    from buildgraph.ui.server import UiServer

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class UiRequest:
    """`--ui`: where the page is served (`--ui-host`, `--ui-port`; 0 is a free port), and
    whether a host other than loopback may be (`--ui-allow-remote`)."""

    host: str = LOOPBACK
    port: int = 0
    allow_remote: bool = False


@dataclass(frozen=True, slots=True)
class ViewRequest:
    json_events: bool = False
    progress: str | None = None  # --progress: buildx's own output is shown, not the live view
    ui: UiRequest | None = None


class RunViews:
    """The views of one command's runs; `emit` takes every event. Close it (or use it as
    a context manager) before anything else is printed: the live view's last frame stays,
    the page's server stops."""

    def __init__(
        self,
        request: ViewRequest,
        the_plan: Plan,
        rebuild: Callable[[str], str | None] | None = None,
        stream: TextIO = sys.stderr,
    ) -> None:
        from buildgraph.report.live import live_view_wanted

        self.board: Board | None = None
        self.live: LiveView | None = None
        self.server: UiServer | None = None
        self.stream = stream
        live = live_view_wanted(stream, request.progress, request.json_events)
        lines = json_emitter(sys.stdout) if request.json_events else human_emitter(stream)
        self._lines = lines
        self._emit: Emit = lines
        if not live and request.ui is None:
            return
        from buildgraph.report.board import Board, entries_of

        board = self.board = Board(entries_of(the_plan.targets))
        emits: list[Emit] = [board.apply]
        try:
            if request.ui is not None:
                self.server = _served(request.ui, board, the_plan, rebuild, lines)
                print(f"ui: {self.server.url}", file=stream, flush=True)
                emits.append(self.server.publish)
            if live:
                from buildgraph.report.live import LiveView

                self.live = LiveView(board, stream)
                self.live.start()
        except BaseException:
            self.close()
            raise
        emits.append(self.live if self.live is not None else lines)
        self._emit = fan_out(*emits)

    def emit(self, event: Event) -> None:
        """Show `event`: in the views while they are open, as lines once closed."""
        self._emit(event)

    @property
    def live_view(self) -> bool:
        return self.live is not None

    def replan(self, the_plan: Plan) -> None:
        """Watch re-planned: the views show the new plan's targets."""
        if self.board is None:
            return
        from buildgraph.report.board import entries_of

        self.board.replan(entries_of(the_plan.targets))
        if self.server is not None:
            self.server.replan(picture_of_plan(the_plan, self.emit))

    def close(self) -> None:
        self._emit = self._lines
        live, self.live = self.live, None
        server, self.server = self.server, None
        if live is not None:
            live.stop()
        if server is not None:
            server.stop()

    def __enter__(self) -> RunViews:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _served(
    ui: UiRequest,
    board: Board,
    the_plan: Plan,
    rebuild: Callable[[str], str | None] | None,
    emit: Emit,
) -> UiServer:
    from buildgraph.ui.server import UiServer

    server = UiServer(
        board,
        picture_of_plan(the_plan, emit),
        host=ui.host,
        port=ui.port,
        allow_remote=ui.allow_remote,
        rebuild=rebuild,
    )
    server.start()
    return server


def picture_of_plan(the_plan: Plan, emit: Emit) -> str | None:
    """The plan's DAG drawn as SVG by Graphviz, or None (with a note) when dot cannot:
    the page then lists the targets by wave."""
    from buildgraph.errors import EnvironmentProblem
    from buildgraph.render.dot import render_dot
    from buildgraph.runner.graphviz import picture_of

    try:
        return picture_of(render_dot(the_plan), "svg").decode("utf-8", errors="replace")
    except EnvironmentProblem as problem:
        emit(Event("note", detail=f"the page lists the targets without their graph: {problem}"))
        return None
