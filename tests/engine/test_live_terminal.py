"""`buildgraph build` on a real terminal (a tmux pane of a fixed size) against the engine:
the live view while it runs and what it leaves; and the plain lines, unchanged, where the
view is not wanted (stderr not a terminal, NO_COLOR)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from buildgraph.report.events import Event, human_emitter
from tests.conftest import FIXTURES, engine_part_missing, stage_busybox

pytestmark = pytest.mark.engine

COLUMNS, ROWS = 120, 40
PROJECT = """
[project]
platforms = ["linux/amd64"]

[variables]
NS = "bglive"
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
# MARK is in the slow and broken steps: a run with a new MARK builds them again.
DOCKERFILES = {
    "slow/Dockerfile": 'ARG NS\nFROM localhost:5000/${NS}/base:dev\nARG MARK\nRUN echo "slow starts $MARK" && sleep 6\nRUN echo "slow ends"\n',
    "broken/Dockerfile": 'ARG NS\nFROM localhost:5000/${NS}/base:dev\nARG MARK\nRUN echo "this step fails on purpose $MARK" && exit 3\n',
    "after-broken/Dockerfile": "ARG NS\nFROM localhost:5000/${NS}/broken:dev\nRUN true\n",
}


@pytest.fixture()
def project(engine: str, make_project: Callable[..., Path]) -> Path:
    """base (busybox FROM scratch, as in tests/fixtures/chain), slow on it (a 6 s step),
    broken on it (fails), after-broken on broken; the folder."""
    base = (FIXTURES / "chain" / "base" / "Dockerfile").read_text()
    toml = make_project(PROJECT, {**DOCKERFILES, "base/Dockerfile": base})
    stage_busybox(toml.parent / "base" / "rootfs")
    return toml.parent


def build_command(ns: str, mark: str, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "buildgraph",
        "build",
        "--keep-going",
        "--var",
        f"NS={ns}",
        "--var",
        f"MARK={mark}",
        *more,
    ]


def environment(**more: str) -> dict[str, str]:
    """This process's environment, without what turns the view off, with `more`."""
    kept = {
        k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM", "COLUMNS", "LINES")
    }
    return {**kept, "TERM": "xterm-256color", **more}


class Pane:
    """A tmux pane of COLUMNS x ROWS on a server of its own (its socket in `folder`), running
    one command; the command's exit code is written to a file when it ends."""

    def __init__(self, folder: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            engine_part_missing("tmux is not installed")
            raise AssertionError  # unreachable: engine_part_missing fails or skips
        self.tmux = tmux
        self.socket = folder / "tmux.sock"
        self.exit_file = folder / "exit-code"

    def run(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.exit_file.unlink(missing_ok=True)
        # The pane stays open once the command ended: its last screen is read after.
        shell = (
            f"cd {shlex.quote(str(cwd))} && {shlex.join(command)}; "
            f"echo $? > {shlex.quote(str(self.exit_file))}; sleep 3600"
        )
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", str(COLUMNS), "-y", str(ROWS), shell, env=env
        )

    def screen(self, *flags: str) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", *flags)

    def watch(self, timeout: float = 300) -> Iterator[str]:
        """The screen, every 0.2 s, until the command ended (its last screen included)."""
        deadline = time.monotonic() + timeout
        while not self.exit_file.exists():
            assert time.monotonic() < deadline, f"still running after {timeout}s:\n{self.screen()}"
            yield self.screen()
            time.sleep(0.2)
        time.sleep(0.2)  # the exit code is written after the last output
        yield self.screen()

    def exit_code(self) -> int:
        return int(self.exit_file.read_text())

    def close(self) -> None:
        subprocess.run([self.tmux, "-S", str(self.socket), "kill-server"], capture_output=True)

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [self.tmux, "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


@pytest.fixture()
def pane(tmp_path: Path) -> Iterator[Pane]:
    made = Pane(tmp_path)
    yield made
    made.close()


def namespace() -> str:
    return "live" + uuid.uuid4().hex[:8]


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_the_terminal_shows_steps_as_they_run_then_the_final_frame_and_table(
    project: Path, pane: Pane, via: str
) -> None:
    mark = uuid.uuid4().hex[:8]
    pane.run(build_command(namespace(), mark, "--via", via), project, environment())
    screens = list(pane.watch())
    assert pane.exit_code() == 1, screens[-1]

    # While slow runs its long step, its row says so: the step, n/m, seconds so far.
    running = re.compile(r"▶ slow +building \d+s +\d+/\d+ +RUN echo \"slow starts " + mark)
    assert any(running.search(s) for s in screens), "\n----\n".join(screens[-20:])
    assert any(re.search(r"^wave 2:  .*building", s, re.MULTILINE) for s in screens)

    final = pane.screen("-S", "-")  # with what scrolled away: the frame was drawn in place
    lines = final.splitlines()
    assert sum(line.startswith("wave 1:") for line in lines) == 1, final
    [failed] = [line for line in lines if line.startswith("  ✗ broken")]
    step = r"failed \d+\.\ds +at Dockerfile:\d+: RUN echo \"this step fails on purpose " + mark
    assert re.search(step, failed), final
    # Its log's last lines: the failing step's output is among them.
    after = lines[lines.index(failed) + 1 :]
    under = after[: next(i for i, line in enumerate(after) if not line.startswith("      │ "))]
    assert 1 <= len(under) <= 5, final
    assert any(f"this step fails on purpose {mark}" in line for line in under), final
    skipped = r"  - after-broken +skipped: needs broken, which failed"
    assert any(re.match(skipped, line) for line in lines), final
    assert any(re.match(r"  ✓ slow +done \d+\.\ds", line) for line in lines), final
    assert any(re.match(r"━+ 4/4 ", line) for line in lines), final
    # Under the frame, the summary table, as without the view.
    table = lines.index(
        next(
            x
            for x in lines
            if x.split() == ["target", "platforms", "status", "seconds", "cached", "digest"]
        )
    )
    assert [x.split()[:3] for x in lines[table + 1 : table + 5]] == [
        ["base", "linux/amd64", "done"],
        ["slow", "linux/amd64", "done"],
        ["broken", "linux/amd64", "failed"],
        ["after-broken", "linux/amd64", "skipped"],
    ]
    assert all(len(line) <= COLUMNS for line in lines)


SECONDS = re.compile(r"\d+\.\d+s\b")


def comparable(lines: list[str]) -> list[str]:
    """Event lines as two runs can share them: the seconds taken masked, in order of text
    (slow and broken build at once, in either order)."""
    return sorted(SECONDS.sub("N.Ns", line) for line in lines)


def event_lines(stderr: str) -> list[str]:
    """The lines before the summary table."""
    lines = stderr.splitlines()
    header = next(i for i, x in enumerate(lines) if x.split()[:2] == ["target", "platforms"])
    return lines[:header]


def human_lines_of(json_stdout: str) -> list[str]:
    """The plain lines human_emitter writes (without colour) for a run's JSON events."""

    class Lines:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    written = Lines()
    emit = human_emitter(written)  # type: ignore[arg-type]
    for line in json_stdout.splitlines():
        record = json.loads(line)
        if record["event"] != "summary":
            emit(Event(**record))
    return written.text.splitlines()


def test_off_a_terminal_and_with_no_color_the_plain_lines_are_unchanged(
    project: Path, pane: Pane
) -> None:
    ns, mark = namespace(), uuid.uuid4().hex[:8]
    command = build_command(ns, mark)
    # Each command once first: from then on its plan (kept per arguments) and steps are
    # reused, and its lines say so.
    for warm in (command, [*command, "--format", "json"]):
        done = subprocess.run(warm, cwd=project, capture_output=True, text=True, env=environment())
        assert done.returncode == 1, done.stderr
    as_json = subprocess.run(
        [*command, "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment(),
    )
    expected = comparable(human_lines_of(as_json.stdout))
    assert any("broken failed" in line for line in expected)

    piped = subprocess.run(command, cwd=project, capture_output=True, text=True, env=environment())
    assert piped.returncode == 1
    assert "\x1b" not in piped.stderr and "━" not in piped.stderr
    assert comparable(event_lines(piped.stderr)) == expected

    pane.run(command, project, environment(NO_COLOR="1"))
    *_, last = pane.watch()
    assert pane.exit_code() == 1, last
    on_screen = pane.screen("-J", "-S", "-").splitlines()
    assert not any(line.startswith("wave ") or "━" in line for line in on_screen)
    assert comparable(event_lines("\n".join(on_screen))) == expected
