"""`buildgraph watch` against the real engine: exactly what changed (and its dependents)
rebuilds, ignored files rebuild nothing, the project file can break and heal, a change
during a build restarts it, and Ctrl-C leaves nothing behind."""

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

from tests.conftest import FIXTURES, REPO

pytestmark = pytest.mark.engine


class Watch:
    """A running `buildgraph watch --format json`, its events read as they come."""

    def __init__(self, project: Path, ns: str) -> None:
        self.ns = ns
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "buildgraph",
                "watch",
                "--var",
                f"NS={ns}",
                "--format",
                "json",
                "--via",
                "commands",
            ],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def until(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 90
    ) -> list[dict[str, Any]]:
        """Events up to and including the first that passes `check`."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; saw {[(e['event'], e.get('target')) for e in seen]}"
            event = self.events.get(timeout=left)
            seen.append(event)
            if check(event):
                return seen

    def batch(self, timeout: float = 90) -> list[dict[str, Any]]:
        return self.until(lambda e: e["event"] == "batch", timeout)

    def quiet_for(self, seconds: float) -> list[dict[str, Any]]:
        seen = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.append(self.events.get(timeout=left))
            except queue.Empty:
                break
        return seen


def started(events: list[dict[str, Any]]) -> list[str]:
    return [e["target"] for e in events if e["event"] == "started"]


def image_file(ns: str, image: str, path: str) -> str:
    return subprocess.run(
        ["docker", "run", "--rm", f"localhost:5000/{ns}/{image}:dev", "cat", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture()
def watched(tmp_path: Path, engine: str) -> Iterator[tuple[Path, Watch]]:
    project = tmp_path / "watched"
    shutil.copytree(FIXTURES / "watched", project)
    subprocess.run(
        ["bash", str(REPO / "scripts" / "stage-busybox.sh"), str(project / "base" / "rootfs")],
        check=True,
    )
    ns = "w" + uuid.uuid4().hex[:10]
    watch = Watch(project, ns)
    first = watch.batch(timeout=180)
    assert sorted(started(first)) == ["base", "svc-a", "svc-b"]
    assert first[-1]["status"] == "done", first
    yield project, watch
    if watch.process.poll() is None:
        watch.process.send_signal(signal.SIGINT)
        watch.process.wait(timeout=60)


def test_an_edit_rebuilds_only_its_target_and_the_image_holds_it(
    watched: tuple[Path, Watch],
) -> None:
    project, watch = watched
    (project / "svc-a" / "a.txt").write_text("a two\n")
    events = watch.batch()
    assert started(events) == ["svc-a"]
    assert events[-1]["status"] == "done"
    assert image_file(watch.ns, "svc-a", "/a.txt") == "a two"
    why = {e["target"]: e["detail"] for e in events if e["event"] == "rebuild"}
    assert why == {"svc-a": "svc-a/a.txt changed"}


def test_an_ignored_file_rebuilds_nothing(watched: tuple[Path, Watch]) -> None:
    project, watch = watched
    (project / "svc-a" / "debug.log").write_text("noise\n")
    (project / "svc-a" / "tmp").mkdir()
    (project / "svc-a" / "tmp" / "x").write_text("noise\n")
    assert started(watch.quiet_for(3)) == []


def test_an_edit_of_the_base_rebuilds_everything_on_it_in_order(
    watched: tuple[Path, Watch],
) -> None:
    project, watch = watched
    (project / "base" / "base.txt").write_text("base two\n")
    events = watch.batch(timeout=120)
    order = started(events)
    assert order[0] == "base" and sorted(order) == ["base", "svc-a", "svc-b"]
    why = {e["target"]: e["detail"] for e in events if e["event"] == "rebuild"}
    assert why == {
        "base": "base/base.txt changed",
        "svc-a": "it needs base, rebuilt",
        "svc-b": "it needs base, rebuilt",
    }
    assert image_file(watch.ns, "svc-a", "/base.txt") == "base two"


def test_a_broken_project_file_keeps_the_old_plan_until_fixed(watched: tuple[Path, Watch]) -> None:
    project, watch = watched
    toml = project / "buildgraph.toml"
    good = toml.read_text()
    toml.write_text(good + "\n[target.svc-a\n")
    error = watch.until(lambda e: e["event"] == "error")
    assert "TOML syntax error" in error[-1]["detail"]
    assert watch.process.poll() is None
    (project / "svc-a" / "a.txt").write_text("a three\n")  # the old plan still works
    assert started(watch.batch()) == ["svc-a"]
    toml.write_text(
        good.replace('context = "svc-b"', 'context = "svc-b"\nlabels = { fixed = "yes" }')
    )
    events = watch.until(lambda e: e["event"] == "batch")
    assert any(e["event"] == "plan" for e in events)
    assert started(events) == ["svc-b"]  # only the target whose definition changed


def test_a_change_during_a_build_cancels_and_rebuilds_it(watched: tuple[Path, Watch]) -> None:
    project, watch = watched
    (project / "svc-b" / "b.txt").write_text("b two\n")
    watch.until(lambda e: e["event"] == "started" and e["target"] == "svc-b")
    time.sleep(1)  # `RUN sleep 4` is running
    (project / "svc-b" / "b.txt").write_text("b three\n")
    cancelled = watch.batch()
    assert cancelled[-1]["status"] == "cancelled"
    again = watch.batch()
    assert started(again) == ["svc-b"] and again[-1]["status"] == "done"
    assert image_file(watch.ns, "svc-b", "/b.txt") == "b three"


def test_ctrl_c_stops_cleanly(watched: tuple[Path, Watch]) -> None:
    project, watch = watched
    (project / "svc-b" / "b.txt").write_text("b four\n")
    watch.until(lambda e: e["event"] == "started")
    watch.process.send_signal(signal.SIGINT)
    assert watch.process.wait(timeout=60) == 130
    time.sleep(1)
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert watch.ns not in listing


def test_watch_reads_a_bake_file_and_an_edit_of_it_replans(tmp_path: Path, engine: str) -> None:
    """A folder of bake files and no buildgraph.toml: watch builds what bake's default
    group names, rebuilds a target whose context changes, and plans again when the bake
    file changes."""
    project = tmp_path / "bake"
    shutil.copytree(FIXTURES / "bake_files", project)
    # base in the default group: buildx 0.13 prints only what is named (test_bake_files).
    with (project / "docker-bake.override.hcl").open("a") as override:
        override.write('group "default" {\n  targets = ["base", "app", "tools"]\n}\n')
    ns = "w" + uuid.uuid4().hex[:10]
    watch = Watch(project, ns)
    try:
        first = watch.batch(timeout=180)
        assert {"app", "tool-a", "tool-b"} <= set(started(first)), first
        assert first[-1]["status"] == "done", first
        (project / "tool" / "tool.txt").write_text("tool two\n")
        again = watch.batch()
        assert sorted(started(again)) == ["tool-a", "tool-b"]
        override = project / "docker-bake.override.hcl"
        override.write_text(override.read_text().replace(":override", ":override2"))
        replanned = watch.until(lambda e: e["event"] == "plan")
        assert "re-planned" in replanned[-1]["detail"]
    finally:
        watch.process.send_signal(signal.SIGINT)
        watch.process.wait(timeout=60)
