"""runner.bake: the early bake stops at once, and the `--allow` flags a bake is given."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode, Plan
from buildgraph.render.bake_target import Entitlement
from buildgraph.runner.bake import (
    ALLOW_FILE,
    EarlyBake,
    allow_flags,
    recorded_allow,
    understands_allow,
)
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions
from buildgraph.runner.process import Captured, Running
from tests.unit.runner.fake_processes import FakeStarter

# What buildx does while it waits for `-f -`: SIGINT and SIGTERM change nothing until its
# standard input ends; then it finds no target and exits.
LIKE_BUILDX_READING_STDIN = """
import signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("reading from stdin", flush=True)
sys.stdin.read()
sys.exit(1)
"""


class ChildStarter:
    """Starts a real process, LIKE_BUILDX_READING_STDIN, whatever the command line."""

    def __init__(self) -> None:
        self.started: list[Running] = []

    def start(
        self,
        argv: Sequence[str],
        cwd: Path,
        log: Path,
        *,
        stdin_text: str | None = None,
        echo: Callable[[str], None] | None = None,
        feed_later: bool = False,
    ) -> Running:
        running = Running(
            [sys.executable, "-c", LIKE_BUILDX_READING_STDIN], cwd, log, stdin_text, echo,
            feed_later=feed_later,
        )  # fmt: skip
        self.started.append(running)
        return running

    def capture(
        self, argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None
    ) -> Captured:
        raise AssertionError("not asked")


def test_an_unfed_early_bake_stops_at_once(tmp_path: Path) -> None:
    starter = ChildStarter()
    early = EarlyBake(tmp_path, None, None, starter=starter)
    [child] = starter.started
    deadline = time.monotonic() + 10
    while "reading from stdin" not in child.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)  # it got as far as buildx waiting for its definition
    started = time.monotonic()
    early.stop()
    assert time.monotonic() - started < 2  # not the 10 s of SIGINT's and SIGTERM's grace
    assert child.poll() == 1  # it ended by itself on end of input, having built nothing
    early.stop()  # once is enough


def test_allow_flags_only_for_a_buildx_that_knows_them() -> None:
    needed = [Entitlement("fs.read", "/src/shared"), Entitlement("fs.write", "/src/dist")]
    flags = ["--allow=fs.read=/src/shared", "--allow=fs.write=/src/dist"]
    assert allow_flags(needed, "0.29.1") == flags
    assert allow_flags(needed, "0.19.0") == flags
    assert allow_flags(needed, "0.13.1") == []
    assert allow_flags(needed, None) == [] and allow_flags(needed, "unknown") == []
    assert allow_flags([], "0.29.1") == []
    assert [understands_allow(v) for v in ("v0.20.0", "1.0.0", "0.18.9", "")] == [
        True,
        True,
        False,
        False,
    ]


OUTSIDE = """
[target.app]
context = "../shared"
output = ["type=local,dest=../dist"]
"""
INSIDE = """
[target.app]
context = "app"
tags = ["localhost:5000/app:dev"]
"""


def bake_allow(argv: list[str]) -> list[str]:
    return [a for a in argv if a.startswith("--allow")]


def project_plan(tmp_path: Path, toml: str) -> Plan:
    """A plan of `toml` written to tmp_path/project, with ../shared beside it."""
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Dockerfile").write_text("FROM scratch\n")
    (root / "buildgraph.toml").write_text(toml)
    return plan(load(root / "buildgraph.toml", {}, environ={}), (), OutputMode.PUSH)


def test_a_bake_gets_exactly_the_entitlements_its_plan_needs(tmp_path: Path) -> None:
    the_plan = project_plan(tmp_path, OUTSIDE)
    version = Captured(0, "github.com/docker/buildx v0.29.1 abc\n", "")
    starter = FakeStarter(captured=lambda argv: version)
    run_plan(the_plan, BuildOptions(builder="b1"), lambda e: None, starter=starter)
    [bake] = starter.started
    shared, dist = tmp_path / "shared", tmp_path / "dist"
    assert bake_allow(bake.argv) == [f"--allow=fs.read={shared}", f"--allow=fs.write={dist}"]
    assert starter.captured == [["docker", "buildx", "--builder", "b1", "version"]]
    # Kept for the next build's early bake.
    assert recorded_allow(tmp_path / "project" / ".buildgraph") == bake_allow(bake.argv)
    assert not any("fs=*" in a for a in bake.argv)


def test_the_probes_buildx_version_serves_every_bake_without_asking_again(
    tmp_path: Path,
) -> None:
    """As watch runs: no early bake, the version from the probe in the options."""
    the_plan = project_plan(tmp_path, OUTSIDE)
    starter = FakeStarter()
    for _ in range(2):
        run_plan(the_plan, BuildOptions(buildx_version="0.29.1"), lambda e: None, starter=starter)
    assert starter.captured == []
    assert all(len(bake_allow(b.argv)) == 2 for b in starter.started)


def test_an_old_buildx_gets_no_allow_flag(tmp_path: Path) -> None:
    the_plan = project_plan(tmp_path, OUTSIDE)
    version = Captured(0, "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3\n", "")
    starter = FakeStarter(captured=lambda argv: version)
    run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
    [bake] = starter.started
    assert bake_allow(bake.argv) == []
    assert not (tmp_path / "project" / ".buildgraph" / ALLOW_FILE).exists()


def test_a_plan_inside_its_folder_asks_buildx_nothing(tmp_path: Path) -> None:
    the_plan = project_plan(tmp_path, INSIDE)
    starter = FakeStarter()
    run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
    [bake] = starter.started
    assert bake_allow(bake.argv) == [] and starter.captured == []


def test_the_early_bake_starts_with_the_last_entitlements_and_is_fed_when_they_hold(
    tmp_path: Path,
) -> None:
    the_plan = project_plan(tmp_path, OUTSIDE)
    starter = FakeStarter()
    probed = BuildOptions(buildx_version="0.29.1")  # as build sets it from the probe's facts
    first = EarlyBake(tmp_path / "project", None, None, starter=starter)
    run_plan(the_plan, probed, lambda e: None, first, starter=starter)
    cold, fresh = starter.started  # no entitlements known: stopped, and a bake with them
    assert bake_allow(cold.argv) == [] and cold.stopped and cold.fed is None
    needed = bake_allow(fresh.argv)
    assert len(needed) == 2 and starter.captured == []

    second = EarlyBake(tmp_path / "project", None, None, starter=starter)
    run_plan(the_plan, probed, lambda e: None, second, starter=starter)
    warm = starter.started[2]
    assert len(starter.started) == 3 and bake_allow(warm.argv) == needed and warm.fed


def test_the_early_bake_is_not_fed_when_the_entitlements_changed(tmp_path: Path) -> None:
    the_plan = project_plan(tmp_path, INSIDE)
    state = tmp_path / "project" / ".buildgraph"
    state.mkdir()
    (state / ALLOW_FILE).write_text("--allow=fs.read=/elsewhere\n")
    starter = FakeStarter()
    early = EarlyBake(tmp_path / "project", None, None, starter=starter)
    run_plan(
        the_plan, BuildOptions(buildx_version="0.29.1"), lambda e: None, early, starter=starter
    )
    stale, bake = starter.started
    assert bake_allow(stale.argv) == ["--allow=fs.read=/elsewhere"] and stale.stopped
    assert bake_allow(bake.argv) == [] and not (state / ALLOW_FILE).exists()


@pytest.mark.parametrize(
    "text",
    ["--allow=fs=*\n", "--allow=fs.read=relative\n", "--allow=network.host\n", "\xff\n"],
)
def test_a_recorded_flag_that_is_not_a_path_entitlement_is_ignored(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / ALLOW_FILE).write_text(text, errors="surrogateescape")
    assert recorded_allow(tmp_path) == []


TARBALL = """
[target.app]
context = "app"
output = ["type=tar,dest=../out/app.tar"]
"""


def test_written_paths_are_made_first_so_the_grant_is_the_path_itself(tmp_path: Path) -> None:
    # buildx checks a path not there yet against its nearest existing parent folder.
    version = Captured(0, "github.com/docker/buildx v0.29.1 abc\n", "")
    for toml, made in ((OUTSIDE, tmp_path / "dist"), (TARBALL, tmp_path / "out" / "app.tar")):
        the_plan = project_plan(tmp_path, toml)
        starter = FakeStarter(captured=lambda argv: version)
        run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
        assert f"--allow=fs.write={made}" in starter.started[0].argv
        assert made.is_dir() if made.name == "dist" else made.is_file()
        shutil.rmtree(tmp_path / "shared")
        shutil.rmtree(tmp_path / "project")


def test_an_old_buildx_has_nothing_made_for_it(tmp_path: Path) -> None:
    the_plan = project_plan(tmp_path, OUTSIDE)
    version = Captured(0, "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3\n", "")
    run_plan(
        the_plan, BuildOptions(), lambda e: None, starter=FakeStarter(captured=lambda a: version)
    )
    assert not (tmp_path / "dist").exists()
