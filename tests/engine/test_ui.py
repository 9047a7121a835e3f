"""The live page (buildgraph.ui) in headless Chromium, against the engine: first its server
fed the events of a real build run in this process, then through the real commands,
`buildgraph build --ui` and `buildgraph watch --ui`, read from their `ui: URL` line.

Debian's chromium and chromedriver (.ci/provision-browser.sh) are driven by Selenium,
told where they are so that it downloads nothing. Screenshots are kept in a folder each
test prints (pytest -s shows it)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.render.dot import render_dot
from buildgraph.report.board import Board, entries_of
from buildgraph.report.events import Event, fan_out
from buildgraph.runner.graphviz import picture_of
from tests.conftest import FIXTURES, engine_part_missing, stage_busybox

pytestmark = pytest.mark.engine

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,860",
)
HOSTILE = "<script>alert(1)</script>"
PROJECT = """
[project]
platforms = ["linux/amd64"]

[variables]
NS = "bgui"
MARK = "1"

[target._ns]
args = { NS = "{{ NS }}", MARK = "{{ MARK }}" }

[target.base]
context = "base"
tags = ["localhost:5000/{{ NS }}/base:dev"]

[target.slow]
inherits = ["_ns"]
context = "slow"
tags = ["localhost:5000/{{ NS }}/slow:dev"]

[target.broken]
inherits = ["_ns"]
context = "broken"
tags = ["localhost:5000/{{ NS }}/broken:dev"]

[target.after-broken]
inherits = ["_ns"]
context = "after-broken"
tags = ["localhost:5000/{{ NS }}/after-broken:dev"]

[group.default]
targets = ["slow", "after-broken"]
"""
# MARK is in the slow and broken steps: a run with a new MARK builds them again. The
# slow step prints a script element, which the page must show as text.
DOCKERFILES = {
    "slow/Dockerfile": (
        "ARG NS\nFROM localhost:5000/${NS}/base:dev\nARG MARK\n"
        f"RUN echo '{HOSTILE}' && echo \"slow starts $MARK\" && sleep 8\n"
        'RUN echo "slow ends"\n'
    ),
    "broken/Dockerfile": (
        "ARG NS\nFROM localhost:5000/${NS}/base:dev\nARG MARK\n"
        'RUN echo "this step fails on purpose $MARK" && exit 3\n'
    ),
    "after-broken/Dockerfile": "ARG NS\nFROM localhost:5000/${NS}/broken:dev\nRUN true\n",
}
# Every node's state on the page, and each change of one recorded as it happens (a
# MutationObserver: a state held for less than a poll is seen too).
STATES_JS = """
return Object.fromEntries([...document.querySelectorAll('#graph [data-target]')]
  .map((el) => [el.dataset.target, el.dataset.state]));
"""
RECORD_JS = """
window.__seen = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const el = change.target;
    if (el.dataset && el.dataset.target && change.attributeName === 'data-state') {
      const seen = window.__seen, last = seen.findLast((s) => s[0] === el.dataset.target);
      if (!last || last[1] !== el.dataset.state) seen.push([el.dataset.target, el.dataset.state]);
    }
  }
}).observe(document.getElementById('graph'),
  {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
"""


class Page:
    """Headless Chromium on one page of the UI."""

    def __init__(self, folder: Path) -> None:
        if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
            engine_part_missing(
                "chromium or chromedriver is not installed (.ci/provision-browser.sh)"
            )
        os.environ["SE_OFFLINE"] = "1"  # Selenium Manager: never download a browser or driver
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={folder / 'chromium-profile'}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
        self.shots = folder / "screenshots"
        self.shots.mkdir(exist_ok=True)
        print(f"\nscreenshots of the page: {self.shots}")

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.until(lambda: self.script("return document.body.dataset.ready === 'true'"), "drawn")
        self.script(RECORD_JS)

    def script(self, code: str, *args: Any) -> Any:
        return self.driver.execute_script(code, *args)

    def states(self) -> dict[str, str]:
        states: dict[str, str] = self.script(STATES_JS)
        return states

    def seen(self, name: str) -> list[str]:
        """The states `name` showed since the page was opened, in order."""
        return [state for target, state in self.script("return window.__seen") if target == name]

    def until(self, check: Callable[[], Any], what: str, timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                self.shot("timed-out")
                raise AssertionError(f"timed out waiting for {what}; states {self.states()}")
            time.sleep(0.05)

    def click(self, name: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, f'#graph [data-target="{name}"]').click()
        self.until(
            lambda: (
                self.text("d-name") == name
                and self.script("return document.getElementById('d-log').dataset.loaded") == "true"
            ),
            f"{name}'s details and log",
        )

    def text(self, element_id: str) -> str:
        text: str = self.script(f"return document.getElementById('{element_id}').textContent")
        return text

    def fact(self, term: str) -> str | None:
        found: str | None = self.script(
            "const dd = document.querySelector(`#d-facts dd[data-fact='${arguments[0]}']`);"
            " return dd ? dd.textContent : null;",
            term,
        )
        return found

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def problems(self) -> list[str]:
        """What the browser's console reported as errors (a CSP violation would be one)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/events" not in entry["message"]
        ]

    def no_alert(self) -> bool:
        from selenium.common.exceptions import NoAlertPresentException

        try:
            self.driver.switch_to.alert  # noqa: B018 (the property raises without an alert)
        except NoAlertPresentException:
            return True
        return False

    def close(self) -> None:
        self.driver.quit()


@pytest.fixture()
def page(tmp_path: Path) -> Iterator[Page]:
    opened = Page(tmp_path)
    yield opened
    opened.close()


@pytest.fixture()
def project(engine: str, make_project: Callable[..., Path]) -> Path:
    """base (busybox FROM scratch), slow on it (an 8 s step that prints a script element),
    broken on it (fails), after-broken on broken; the project file."""
    base = (FIXTURES / "chain" / "base" / "Dockerfile").read_text()
    toml = make_project(PROJECT, {**DOCKERFILES, "base/Dockerfile": base})
    stage_busybox(toml.parent / "base" / "rootfs")
    return toml


def test_the_page_follows_a_real_build(project: Path, page: Page) -> None:
    from buildgraph.runner.execute import run_plan
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.probe import gather_cached
    from buildgraph.ui.server import UiServer

    ns, mark = "ui" + uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    the_plan = plan(load(project, {"NS": ns, "MARK": mark}), [])
    names = [t.name for t in the_plan.targets]
    assert sorted(names) == ["after-broken", "base", "broken", "slow"]
    board = Board(entries_of(the_plan.targets))
    server = UiServer(board, picture_of(render_dot(the_plan), "svg").decode())
    emit = fan_out(board.apply, server.publish)
    facts = gather_cached(None, os.environ)
    options = BuildOptions(
        keep_going=True, driver=facts.driver, buildx_version=facts.buildx_version
    )
    results: list[Any] = []
    try:
        page.open(server.start())
        assert sorted(page.states()) == sorted(names)  # every target is a node
        assert set(page.states().values()) == {"idle"}
        for name in names:
            emit(Event("queued", name))
        page.until(lambda: set(page.states().values()) == {"waiting"}, "every target waiting")

        build = threading.Thread(target=lambda: results.extend(run_plan(the_plan, options, emit)))
        build.start()
        page.until(lambda: page.states()["slow"] == "building", "slow building")
        page.click("slow")
        # broken fails the bake run, which cancels slow; --keep-going builds it again in a
        # bake run of its own, whose log the page shows from its start.
        page.until(lambda: page.states()["broken"] == "failed", "broken failed")
        page.until(
            lambda: page.script(
                "return [...document.querySelectorAll('#d-log div')].some((row) =>"
                " /^#\\d+ (\\d+\\.\\d+ )?<script>alert\\(1\\)<\\/script>$/.test(row.textContent))"
            ),
            "the slow step's output, a script element, as a line of its log",
        )
        page.until(lambda: "RUN echo" in (page.fact("step") or ""), "slow at its slow step")
        assert page.states()["slow"] == "building"
        page.shot("building")
        # The printed script element is text: no element, no alert.
        assert (
            page.script(
                "return document.querySelectorAll('#d-log script, #d-log *:not(div)').length"
            )
            == 0
        )
        assert page.no_alert()

        page.click("broken")
        failed_at = page.fact("failed at") or ""
        assert 'RUN echo "this step fails on purpose' in failed_at, failed_at
        assert (page.fact("in") or "").endswith("Dockerfile:4"), page.fact("in")
        assert page.script("return document.getElementById('d-failure').hidden") is False
        assert page.text("d-failure-title") == "its last lines"
        assert "exit code: 3" in page.text("d-failure-tail")
        assert "exit code: 3" in (page.fact("error") or "")
        assert "this step fails on purpose" in page.text("d-log")
        page.shot("failed")

        build.join(timeout=300)
        assert not build.is_alive()
        page.until(lambda: page.states()["slow"] == "done", "slow done")
        final = page.states()
        assert final == {
            "base": "done",
            "slow": "done",
            "broken": "failed",
            "after-broken": "skipped",
        }
        seen = page.seen("slow")  # cancelled with broken's bake run, or not yet shown so
        assert seen[:2] == ["waiting", "building"] and seen[-2:] == ["building", "done"], seen
        assert set(seen) <= {"waiting", "building", "cancelled", "done"}, seen
        page.click("after-broken")
        assert "broken" in (page.fact("detail") or "")
        page.click("slow")
        assert "slow ends" in page.text("d-log")
        assert "CANCELED" not in page.text("d-log")  # the cancelled run's lines went with it
        assert page.fact("took")
        page.shot("ended")
        assert page.problems() == []
        assert page.no_alert()
    finally:
        server.stop()
    assert {r.name: r.status for r in results}["slow"] == "done"


class Command:
    """`buildgraph ARGS... --format json` running: its JSON events and its stderr lines,
    read as they come."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "buildgraph", *args, "--format", "json"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1", **(env or {})},
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.errors: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self.seen: list[dict[str, Any]] = []  # every event, as read
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.seen.append(json.loads(line))
                self.events.put(self.seen[-1])

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.errors.put(line)

    def url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.errors.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith("ui: "):
                return line[4:].strip()

    def until(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 180
    ) -> list[dict[str, Any]]:
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; saw {[(e['event'], e.get('target')) for e in seen]}"
            seen.append(self.events.get(timeout=left))
            if check(seen[-1]):
                return seen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)


def test_build_ui_without_graphviz_lists_the_targets_by_wave(
    project: Path, page: Page, tmp_path: Path
) -> None:
    """A dot that cannot draw: the page lists the targets by wave, with a note, and shows
    the build as well; build mode has no rebuild button."""
    broken_dot = tmp_path / "bin" / "dot"
    broken_dot.parent.mkdir()
    broken_dot.write_text("#!/bin/sh\necho 'dot: cannot draw here' >&2\nexit 1\n")
    broken_dot.chmod(0o755)
    ns, mark = "ui" + uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    command = Command(
        ["build", "--ui", "--keep-going", "--var", f"NS={ns}", "--var", f"MARK={mark}"],
        project.parent,
        env={"PATH": f"{broken_dot.parent}:{os.environ['PATH']}"},
    )
    try:
        url = command.url()
        assert url.startswith("http://127.0.0.1:")
        page.open(url)
        assert "No picture of the graph" in page.text("graph")
        waves = page.script(
            "return [...document.querySelectorAll('.wave')].map((w) =>"
            " [w.querySelector('h3').textContent, [...w.querySelectorAll('li')].map((l) => l.textContent)])"
        )
        assert waves == [
            ["wave 1", ["base"]],
            ["wave 2", ["slow", "broken"]],
            ["wave 3", ["after-broken"]],
        ]
        page.until(lambda: page.states()["slow"] == "building", "slow building")
        page.click("slow")
        assert page.script("return document.getElementById('d-rebuild').hidden") is True
        page.until(lambda: page.states()["slow"] == "done", "slow done", timeout=180)
        assert page.seen("slow")[-2:] == ["building", "done"]
        page.shot("build-list")
        command.until(lambda e: e["event"] == "summary")
        assert command.process.wait(timeout=60) == 1  # broken failed
    finally:
        command.stop()
    notes = [e["detail"] for e in command.seen if e["event"] == "note"]
    assert any("without their graph" in note and "dot" in note for note in notes), notes


@pytest.fixture()
def watched(tmp_path: Path, engine: str) -> Path:
    project = tmp_path / "watched"
    shutil.copytree(FIXTURES / "watched", project)
    stage_busybox(project / "base" / "rootfs")
    return project


def test_watch_ui_shows_each_rebuild_and_its_button_rebuilds(watched: Path, page: Page) -> None:
    ns = "uiw" + uuid.uuid4().hex[:8]
    # A fresh busybox layer per run: the first build is a real one on either leg.
    (watched / "base" / "base.txt").write_text(f"base {ns}\n")
    command = Command(["watch", "--ui", "--var", f"NS={ns}"], watched)
    try:
        page.open(command.url())
        assert sorted(page.states()) == ["base", "svc-a", "svc-b"]
        first = command.until(lambda e: e["event"] == "batch")
        assert first[-1]["status"] == "done", first
        page.until(lambda: set(page.states().values()) == {"done"}, "every target done")
        assert page.script("return document.getElementById('mode').textContent") == "watch"

        # An edit of svc-b's file: svc-b alone rebuilds (its RUN sleep 4 runs again).
        page.script("window.__seen = []")
        (watched / "svc-b" / "b.txt").write_text(f"b {ns}\n")
        page.until(lambda: page.states()["svc-b"] == "building", "svc-b building")
        page.click("svc-b")
        page.until(lambda: page.states()["svc-b"] == "done", "svc-b done")
        # Waiting, unless the page read it merged with the start that followed at once.
        seen = page.seen("svc-b")
        assert seen[-2:] == ["building", "done"] and set(seen) <= {"waiting", "building", "done"}
        assert page.seen("svc-a") == [] and page.seen("base") == []
        assert page.fact("rebuilt because") == "svc-b/b.txt changed"
        page.shot("watch-edit")
        command.until(lambda e: e["event"] == "batch")

        # The button: svc-a rebuilds, though nothing of it changed.
        page.script("window.__seen = []")
        page.click("svc-a")
        started_before = page.fact("started")
        page.driver.find_element("id", "d-rebuild").click()
        asked = command.until(lambda e: e["event"] == "batch")
        rebuilt = [e for e in asked if e["event"] == "rebuild"]
        assert [e["target"] for e in rebuilt] == ["svc-a"], asked
        assert [e["target"] for e in asked if e["event"] == "started"] == ["svc-a"]
        assert asked[-1]["status"] == "done"
        page.until(lambda: page.seen("svc-a")[-1:] == ["done"], "svc-a done again")
        seen = page.seen("svc-a")  # waiting and building, or their merge, then done
        assert len(seen) >= 2 and set(seen[:-1]) <= {"waiting", "building"}, seen
        assert page.fact("rebuilt because") == rebuilt[0]["detail"]
        assert page.fact("started") != started_before
        assert "rebuild asked for" in page.text("d-answer")
        page.shot("watch-button")
        assert page.problems() == []
    finally:
        command.stop()
    # The command stopped: so did its page.
    page.until(lambda: page.text("connection") == "reconnecting", "the page seeing the server gone")
