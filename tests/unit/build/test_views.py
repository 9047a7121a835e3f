"""build.views: what shows a run. Off a terminal and without --ui, the plain lines (or
JSON) exactly as before, and nothing of the live view or the page is imported."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.build.views import RunViews, ViewRequest
from buildgraph.plan.load import load, plan
from buildgraph.report.events import Event

TOML = """
[target.base]
context = "base"
[target.app]
context = "app"
depends_on = ["base"]
"""
FILES = {f"{c}/Dockerfile": "FROM scratch\n" for c in ("base", "app")}


def test_off_a_terminal_the_lines_are_the_plain_ones(make_project: Callable[..., Path]) -> None:
    from buildgraph.report.events import human_emitter

    the_plan = plan(load(make_project(TOML, FILES), {}, environ={}), [])
    events = [
        Event("queued", "base", detail="image"),
        Event("started", "base", detail="bake run 1"),
        Event("step", "base", status="running", detail="[base 1/1] COPY . /"),
        Event("log", "base", detail="#3 [base 1/1] COPY . /"),
        Event("finished", "base", status="done", seconds=1.0),
    ]
    shown, expected = io.StringIO(), io.StringIO()
    with RunViews(ViewRequest(), the_plan, stream=shown) as views:
        assert not views.live_view and views.board is None
        for event in events:
            views.emit(event)
    plain = human_emitter(expected)
    for event in events:
        plain(event)
    assert shown.getvalue() == expected.getvalue()
    assert "COPY" not in shown.getvalue()  # progress events are not plain lines


def test_json_leaves_the_progress_events_out(
    make_project: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    the_plan = plan(load(make_project(TOML, FILES), {}, environ={}), [])
    with RunViews(ViewRequest(json_events=True), the_plan, stream=io.StringIO()) as views:
        views.emit(Event("step", "base", status="running", detail="[base 1/1] COPY . /"))
        views.emit(Event("finished", "base", status="done", seconds=1.0))
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["event"] for r in records] == ["finished"]


def test_a_plain_build_imports_neither_rich_nor_the_page(
    make_project: Callable[..., Path],
) -> None:
    folder = make_project(TOML, FILES)
    program = (
        "import io, sys\n"
        "from pathlib import Path\n"
        "from buildgraph.build.views import RunViews, ViewRequest\n"
        "from buildgraph.plan.load import load, plan\n"
        "from buildgraph.report.events import Event\n"
        f"p = plan(load(Path({str(folder)!r}), {{}}, environ={{}}), [])\n"
        "with RunViews(ViewRequest(), p, stream=io.StringIO()) as v:\n"
        "    v.emit(Event('started', 'base'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'"
        " or m.startswith(('buildgraph.ui', 'buildgraph.report.board'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
