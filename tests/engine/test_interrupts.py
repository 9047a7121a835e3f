"""Ctrl-C (SIGINT) and SIGTERM sent to `buildgraph build` while it plans and while it
pushes: exit 130, no process of the run left behind, nothing left half-written (issue 12,
faults).

The signal must land in the phase under test, so each test makes that phase long and
fails, saying so, when the phase was over before the signal could be sent:

- planning: a generated project of PLANNED_TARGETS targets. Measured on a 2-core machine,
  `buildgraph plan` takes 3.0 s of it and `build` 5.5 s before its first "queued" event
  (recording the plan costs the rest); the signal goes 1 s after the early bake appears.
- pushing: an image with a layer of LAYER_MB random megabytes, pushed to the local
  registry, whose in-memory storage takes ever longer per megabyte of an upload: 20 MB
  push in 1.9 s, 50 MB in 9.5 s, 300 MB in 6 minutes. The signal goes as soon as bake's
  progress says it pushes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from buildgraph.atomic_write import TEMPORARY_SUFFIX
from buildgraph.build import uptodate
from buildgraph.errors import EXIT_INTERRUPTED

# test_build's helpers, shared rather than copied.
from tests.engine.test_build import (
    REGISTRY,
    early_bakes_in,
    events,
    namespace,
    processes_mentioning,
    summary,
)

pytestmark = pytest.mark.engine

SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]
PLANNED_TARGETS = 20_000
LAYER_MB = 40
# How long a process of the run may outlive buildgraph, which stops each one it started
# before it exits: time for one killed at the last moment to be gone from /proc.
GONE_WITHIN = 2.0
# buildx's atomic writes (moby's ioutils.AtomicWriteFile: the metadata file) write
# `.tmp-<name><random>` beside the file; buildgraph's own end in TEMPORARY_SUFFIX.
BUILDX_TEMPORARY_PREFIX = ".tmp-"

T = TypeVar("T")


@pytest.fixture()
def plan_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of recorded plans, in a user cache of this test's own: empty at the start,
    and the builds started here (which inherit the environment) record there."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return uptodate.entry_path("").parent


class Build:
    """A `buildgraph build --format json` under way in `folder`. Its standard output is
    read by a thread as it comes, so a test sees events while it waits for something else;
    standard error goes to a file, never a pipe that a full buffer could stall."""

    def __init__(self, args: list[str], folder: Path, stderr: Path) -> None:
        self.stderr_file = stderr
        with stderr.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "buildgraph", "build", *args, "--format", "json"],
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=sink,
                text=True,
                env={**os.environ, "NO_COLOR": "1"},
            )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    @property
    def stderr(self) -> str:
        return self.stderr_file.read_text(errors="replace")

    def seen(self, kind: str) -> bool:
        """Whether an event of `kind` ("queued", "summary"...) was printed so far."""
        return any(event["event"] == kind for event in events(self.stdout))

    def send(self, sent: signal.Signals) -> int:
        """Send `sent` to buildgraph alone (buildx runs in a session of its own, as it does
        when a terminal's Ctrl-C reaches buildgraph's group), and wait for its exit code."""
        self.process.send_signal(sent)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return code

    def stop_if_running(self) -> None:
        """A test that failed before its signal leaves no build behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def describe(self) -> str:
        return (
            f"buildgraph's pid {self.process.pid}\n"
            f"stdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"
        )


StartBuild = Callable[[list[str], Path], Build]


@pytest.fixture()
def started(tmp_path: Path) -> Iterator[StartBuild]:
    """Start builds (`started(args, folder)`); any still running at the end is killed."""
    builds: list[Build] = []

    def start(args: list[str], folder: Path) -> Build:
        builds.append(Build(args, folder, tmp_path / f"stderr-{len(builds)}.txt"))
        return builds[-1]

    yield start
    for build in builds:
        build.stop_if_running()


def wait_for(build: Build, found: Callable[[], T | None], seconds: float, what: str) -> T:
    """What `found` returns once it is not None, within `seconds`; a failure naming `what`
    when the build ends first or the time is up."""
    deadline = time.monotonic() + seconds
    while True:
        value = found()
        if value is not None:
            return value
        if build.process.poll() is not None:
            pytest.fail(
                f"the build ended (exit {build.process.returncode}) before {what}\n"
                + build.describe()
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {seconds} s\n" + build.describe())
        time.sleep(0.05)


def processes_in(folder: Path) -> list[str]:
    """Processes working in `folder` (as 'pid argv'): buildgraph, the bakes and the docker
    commands it starts all run in the project's folder, and nothing else on the machine
    works in a test's temporary one."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if Path(proc.joinpath("cwd").readlink()) != folder:
                continue
            argv = proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # not a process, or gone since the listing
        found.append(f"{proc.name} {argv.strip()}")
    return found


def leftovers(folder: Path, ns: str) -> list[str]:
    """The processes of the run still there `GONE_WITHIN` seconds after it ended: those
    working in its folder, and any whose command line names its namespace or folder."""
    deadline = time.monotonic() + GONE_WITHIN
    while True:
        left = [
            *processes_in(folder),
            *processes_mentioning(ns),
            *processes_mentioning(str(folder)),
        ]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def temporaries(folder: Path) -> list[Path]:
    """Files of a write cut short anywhere under `folder`: buildgraph's atomic writes
    (atomic_write: `.<name>.<pid>-<random>.tmp-bg`) and buildx's (`.tmp-<name>...`)."""
    if not folder.exists():
        return []
    return [
        path
        for path in folder.rglob("*")
        if path.name.endswith(TEMPORARY_SUFFIX) or path.name.startswith(BUILDX_TEMPORARY_PREFIX)
    ]


def torn_entries(plans: Path) -> list[Path]:
    """Entries of the plan cache that are not whole: an entry is two lines, the key and
    inputs, then the plan, each of them JSON (uptodate.encode_entry)."""
    torn = []
    for entry in plans.glob("*.json") if plans.exists() else ():
        lines = entry.read_bytes().split(b"\n")
        try:
            if len(lines) != 2:
                raise ValueError(f"{len(lines)} lines")
            for line in lines:
                json.loads(line)
        except ValueError:
            torn.append(entry)
    return torn


def large_project(folder: Path, count: int) -> Path:
    """A project of `count` targets, long to plan: each inherits an abstract parent, runs
    templates, names an image, and (but one in ten) depends on the one before it. They
    share one context and Dockerfile. Returns the folder once its files have settled: a
    plan made from them would be recorded, so that none is must be the signal's doing."""
    lines = [
        "[variables]",
        'NS = "bgtest"',
        "",
        "[target._common]",
        'context = "ctx"',
        'platforms = ["linux/amd64"]',
        'labels = { title = "{{ target }}", ns = "{{ NS }}" }',
        "",
    ]
    for n in range(count):
        lines += [
            f"[target.t{n}]",
            'inherits = ["_common"]',
            f'args = {{ N = "{n}" }}',
            f'tags = ["{REGISTRY}/{{{{ NS }}}}/t{n}:dev"]',
            *([f'depends_on = ["t{n - 1}"]'] if n % 10 else []),
            "",
        ]
    (folder / "ctx").mkdir(parents=True)
    (folder / "ctx" / "Dockerfile").write_text("FROM scratch\nARG N\nCOPY Dockerfile /\n")
    (folder / "buildgraph.toml").write_text("\n".join(lines))
    settle()
    return folder


def settle() -> None:
    """Wait until the files just written are old enough for their plan to be recorded
    (uptodate.SETTLE_NS: a file changed this close to planning may change unseen)."""
    time.sleep(uptodate.SETTLE_NS / 1e9 + 0.1)


@pytest.mark.parametrize("sent", SIGNALS)
def test_a_signal_while_planning_stops_the_early_bake_and_records_no_plan(
    engine: str,
    tmp_path: Path,
    plan_cache: Path,
    started: StartBuild,
    sent: signal.Signals,
) -> None:
    """The early bake waits on its standard input for a plan that never comes: it is
    stopped, as every build started is, and the plan half made is not recorded."""
    project = large_project(tmp_path / "large", PLANNED_TARGETS)
    ns = namespace()
    build = started(["--var", f"NS={ns}"], project)
    wait_for(build, lambda: early_bakes_in(project) or None, 30, "the early bake started")
    time.sleep(1)  # well into planning (3 s and more), past buildgraph's start
    if build.seen("queued"):
        pytest.fail(
            f"planning had finished 1 s after the early bake started: make the project "
            f"bigger than {PLANNED_TARGETS} targets\n" + build.describe()
        )
    code = build.send(sent)

    assert not build.seen("queued"), "planning finished before the signal\n" + build.describe()
    assert code == EXIT_INTERRUPTED, build.describe()
    assert "buildgraph: interrupted" in build.stderr
    assert leftovers(project, ns) == []  # the early bake among them
    assert temporaries(project / ".buildgraph") == []
    assert temporaries(plan_cache) == []
    recorded = list(plan_cache.glob("*")) if plan_cache.exists() else []
    assert recorded == [], "a plan was recorded though planning was interrupted"


BIG_DOCKERFILE = f"""\
FROM scratch
ARG TARGETARCH
COPY rootfs/linux/${{TARGETARCH}}/bin/busybox /bin/busybox
ARG NS
# NS makes the layer this run's own: never in the build cache, nor in the registry already.
# No network: the step needs none, and the daemon's bridge need not be there.
RUN --network=none ["/bin/busybox", "sh", "-c", "echo \\"$NS\\" > /ns && /bin/busybox head -c {LAYER_MB}m /dev/urandom > /big"]
"""

BIG_TARGET = """
[target.big]
inherits = ["_ns"]
context = "base"
dockerfile = "big.Dockerfile"
platforms = ["linux/amd64"]
tags = ["localhost:5000/{{ NS }}/big:{{ TAG }}"]
"""


def statuses(raw: str) -> list[dict[str, Any]]:
    """The statuses in bake's rawjson progress so far: a stream of JSON objects, one a line
    (buildx 0.29) or pretty-printed over several (0.13); the last may be half-written."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    at = 0
    while True:
        while at < len(raw) and raw[at].isspace():
            at += 1
        if at == len(raw):
            return found
        try:
            value, at = decoder.raw_decode(raw, at)
        except ValueError:
            return found  # still being written
        if isinstance(value, dict):
            found += value.get("statuses") or []


def push_status(log: Path) -> dict[str, Any] | None:
    """The latest state of the first step of the push ("pushing layers"), once bake has
    started pushing."""
    try:
        raw = log.read_text(errors="replace")
    except FileNotFoundError:
        return None
    pushing = [s for s in statuses(raw) if str(s.get("id", "")).startswith("pushing")]
    if not pushing:
        return None
    first = pushing[0]["id"]
    return [s for s in pushing if s["id"] == first][-1]


@pytest.mark.parametrize("sent", SIGNALS)
def test_a_signal_while_pushing_cancels_the_push_and_its_target(
    engine: str,
    chain: Path,
    plan_cache: Path,
    started: StartBuild,
    sent: signal.Signals,
    request: pytest.FixtureRequest,
) -> None:
    """The push stops half-way: the tag is not in the registry, the target is reported
    cancelled (never done), and nothing of the run is left running or half-written."""
    ns = namespace()
    (chain / "base" / "big.Dockerfile").write_text(BIG_DOCKERFILE)
    with (chain / "buildgraph.toml").open("a") as toml:
        toml.write(BIG_TARGET)
    settle()  # so that the plan is recorded, before the push: the entry must stay whole
    ref = f"{REGISTRY}/{ns}/big:dev"
    # The docker driver names the image in the daemon's store before it pushes.
    request.addfinalizer(
        lambda: subprocess.run([engine, "image", "rm", "-f", ref], capture_output=True)
    )
    build = started(["big", "--push", "--var", f"NS={ns}"], chain)
    raw_log = chain / ".buildgraph" / "logs" / "bake-1.rawjson.log"
    pushing = wait_for(build, lambda: push_status(raw_log), 180, "bake started pushing")
    if "completed" in pushing:
        pytest.fail(
            f"the push was over before the signal could be sent: make the layer "
            f"bigger than {LAYER_MB} MB\n{pushing}"
        )
    code = build.send(sent)

    if code == 0:
        pytest.fail(
            f"the push finished before the signal took effect: make the layer bigger "
            f"than {LAYER_MB} MB\n" + build.describe()
        )
    assert code == EXIT_INTERRUPTED, build.describe()
    assert build.seen("summary"), build.describe()
    targets = summary(build.stdout)
    assert targets["big"]["status"] == "cancelled", targets
    done = [e for e in events(build.stdout) if e["event"] == "finished" and e["status"] == "done"]
    assert done == []
    assert leftovers(chain, ns) == []
    assert temporaries(chain / ".buildgraph") == []
    assert temporaries(plan_cache) == []
    assert len(list(plan_cache.glob("*.json"))) == 1, "the plan made was not recorded"
    assert torn_entries(plan_cache) == []
    inspect = subprocess.run(
        [engine, "buildx", "imagetools", "inspect", ref], capture_output=True, text=True
    )
    assert inspect.returncode != 0, f"{ref} was pushed:\n{inspect.stdout}"
    assert "not found" in inspect.stderr, inspect.stderr  # the registry answered
