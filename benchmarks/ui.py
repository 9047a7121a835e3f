"""The live page's server (buildgraph.ui) with 1,000 targets: how many of a run's events a
second reach a page through its event stream, and how long Chromium takes to show the page
of 1,000 nodes; each beside an anchor measured in the same run. No engine needed: the
events are those of a build, made up; Graphviz's dot and Debian's chromium are
(.ci/provision-browser.sh).

    .venv/bin/python benchmarks/ui.py [--targets 1000] [--loads 5]

- events: for every target of the generated project (benchmarks/generate.py), queued,
  started, 5 steps each running then done with 4 log lines between, finished: 33 events a
  target. They go through `fan_out(board.apply, server.publish)` as fast as one thread can
  emit them, while a client reads the stream over loopback (http.client); the clock stops
  when the client has read the last one (a note sent after them). Anchor: the same events
  through `fan_out(board.apply, json_emitter(/dev/null))`, what `build --format json`
  does (it writes no step or log events, so the anchor does less than the page);
- page load: from navigation start to the page's `data-ready` (picture fetched, parsed,
  every node coloured from the snapshot), by the page's own clock (performance.now()),
  in headless Chromium, fresh loads, the median of --loads. Anchor: dot's own time to
  draw that SVG (`runner.graphviz.picture_of`), which every `--ui` run pays once.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate
from buildgraph.plan.load import load, plan
from buildgraph.render.dot import render_dot
from buildgraph.report.board import Board, entries_of
from buildgraph.report.events import Event, fan_out, json_emitter
from buildgraph.runner.graphviz import picture_of
from buildgraph.ui.server import UiServer

OUT = Path(__file__).parent / "out" / "ui"
STEPS, LINES = 5, 4
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,900",
)


def run_events(names: list[str]) -> list[Event]:
    """What a build of `names` emits, one target after another."""
    events = [Event("queued", name) for name in names]
    for name in names:
        events.append(Event("started", name))
        for step in range(1, STEPS + 1):
            label = f"[{name} {step}/{STEPS}] RUN make step{step}"
            events.append(Event("step", name, status="running", detail=label))
            events.extend(
                Event("log", name, detail=f"#{step} {0.1 * n:.3f} compiling part {n} of {name}")
                for n in range(LINES)
            )
            events.append(Event("step", name, status="done", detail=label))
        events.append(Event("finished", name, status="done", seconds=1.0))
    return events


def through_the_page(board: Board, server: UiServer, events: list[Event]) -> tuple[float, int]:
    """Seconds until a stream client has read the last of `events`; messages it read."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=60)
    connection.request("GET", parts.path + "events")
    answer = connection.getresponse()
    assert answer.readline().startswith(b"retry:")
    read = {"messages": 0, "snapshots": 0}
    done = threading.Event()
    first = threading.Event()

    def reader() -> None:
        kind = ""
        for line in answer.fp:
            if line.startswith(b"event: "):
                kind = line[7:].strip().decode()
            elif line.startswith(b"data: "):
                read["messages"] += 1
                if kind == "snapshot":
                    read["snapshots"] += 1
                    first.set()
                elif kind == "note" and b'"end of run"' in line:
                    done.set()
                    return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    first.wait(10)
    emit = fan_out(board.apply, server.publish)
    began = time.perf_counter()
    for event in events:
        emit(event)
    emit(Event("note", detail="end of run"))
    published = time.perf_counter() - began
    assert done.wait(120), "the stream never delivered the last event"
    took = time.perf_counter() - began
    connection.close()
    print(f"  (published in {published:.2f} s; {read['snapshots']} snapshot(s) read)")
    return took, read["messages"]


def through_json(board: Board, events: list[Event]) -> float:
    with open(os.devnull, "w") as null:
        emit = fan_out(board.apply, json_emitter(null))
        began = time.perf_counter()
        for event in events:
            emit(event)
        return time.perf_counter() - began


def page_loads(url: str, loads: int, expected: int) -> list[float]:
    os.environ["SE_OFFLINE"] = "1"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    times = []
    for _ in range(loads):
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in FLAGS:
            options.add_argument(flag)
        profile = tempfile.mkdtemp(prefix="bg-ui-chromium-")
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(
            service=Service(executable_path="/usr/bin/chromedriver"), options=options
        )
        try:
            driver.get(url)
            deadline = time.monotonic() + 120
            while not driver.execute_script("return document.body.dataset.readyMs"):
                assert time.monotonic() < deadline, "the page never got ready"
                time.sleep(0.02)
            times.append(float(driver.execute_script("return document.body.dataset.readyMs")))
            nodes = driver.execute_script(
                "return document.querySelectorAll('#graph g.node[data-target]').length"
            )
            assert nodes == expected, f"{nodes} nodes on the page, {expected} targets"
        finally:
            driver.quit()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()

    folder = OUT / str(args.targets)
    count = generate(args.targets, folder)
    the_plan = plan(load(folder / "buildgraph.toml", {}), ["all"])
    names = [t.name for t in the_plan.targets]
    print(f"{len(names)} targets ({count} generated), {len(the_plan.waves)} waves")

    began = time.perf_counter()
    svg = picture_of(render_dot(the_plan), "svg").decode()
    dot_seconds = time.perf_counter() - began
    events = run_events(names)

    board = Board(entries_of(the_plan.targets))
    server = UiServer(board, svg)
    server.start()
    try:
        page_seconds, messages = through_the_page(board, server, events)
        anchor_seconds = through_json(Board(entries_of(the_plan.targets)), events)
        loads = page_loads(server.url, args.loads, len(names))
    finally:
        server.stop()

    n = len(events)
    print()
    print(f"| {len(names):,} targets | the page | anchor |")
    print("| --- | ---: | ---: |")
    print(
        f"| events/s, {n:,} events | {n / page_seconds:,.0f} (SSE client read them all;"
        f" {messages:,} messages) | {n / anchor_seconds:,.0f} (board + JSON emitter to /dev/null) |"
    )
    print(
        f"| page load, {len(names):,} nodes | {statistics.median(loads):,.0f} ms (median of"
        f" {len(loads)}: {', '.join(f'{t:.0f}' for t in loads)}) | dot draws the SVG:"
        f" {dot_seconds * 1000:,.0f} ms ({len(svg) / 1e6:.1f} MB) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
