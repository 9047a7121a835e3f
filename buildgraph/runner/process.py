"""Every process buildgraph starts, started here: the only module that imports subprocess.

- `Running`: a build (bake or `docker buildx build`) in its own process group, logging to
  a file, stopped as a group. buildx runs helpers of its own; signalling the group (not
  just the pid) is what leaves no process behind on Ctrl-C.
- `ProcessStarter`: what the runners are handed to start their builds and helper
  commands. `REAL_STARTER` starts real processes; tests hand in a fake, so scheduling and
  failure attribution are tested without docker.
- `run_captured`: a short command whose output is read (`docker buildx version`, `docker
  info`, `git ...`, `imagetools`), with a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

GRACE_SECONDS = 5.0


class StartedProcess(Protocol):
    """A started build as the runners use it: `Running`, or a test's fake."""

    @property
    def log(self) -> Path: ...

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...

    def stop(self) -> None: ...

    def feed(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Captured:
    """What a short command left. `ran` is False when it could not be started or overran
    its timeout; `code` is then 1 and `stderr` says why."""

    code: int
    stdout: str
    stderr: str
    ran: bool = True

    @property
    def output(self) -> str:
        """stdout then stderr, as a message to show."""
        return self.stdout + self.stderr


class ProcessStarter(Protocol):
    """How a runner starts processes: its builds, and the short commands it reads."""

    def start(
        self,
        argv: Sequence[str],
        cwd: Path,
        log: Path,
        *,
        stdin_text: str | None = None,
        echo: Callable[[str], None] | None = None,
        feed_later: bool = False,
    ) -> StartedProcess: ...

    def capture(
        self, argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None
    ) -> Captured: ...


class Running:
    """A child process whose output goes to a log file and, optionally, to a callback."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        log: Path,
        stdin_text: str | None = None,
        echo: Callable[[str], None] | None = None,
        env: dict[str, str] | None = None,
        feed_later: bool = False,  # stdin stays open until feed()
    ) -> None:
        self.log = log
        # Unless its output is shown as it comes, the child writes its log itself: nothing
        # of ours takes a core from the build while it runs.
        opened = open_log(log)
        sink = None if echo is not None else os.fdopen(opened, "wb")
        self._echo_sink = None if sink is not None else os.fdopen(opened, "w", encoding="utf-8")
        try:
            self.process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                stdin=subprocess.DEVNULL
                if stdin_text is None and not feed_later
                else subprocess.PIPE,
                stdout=subprocess.PIPE if sink is None else sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                text=True,
                errors="replace",
                env=env,
            )
        except BaseException:
            if self._echo_sink is not None:
                self._echo_sink.close()
            raise
        finally:
            if sink is not None:
                sink.close()
        if stdin_text is not None:
            self.feed(stdin_text)
        self._reader: threading.Thread | None = None
        if echo is not None:
            self._reader = threading.Thread(target=self._pump, args=(echo,), daemon=True)
            self._reader.start()

    def _pump(self, echo: Callable[[str], None]) -> None:
        assert self.process.stdout is not None and self._echo_sink is not None
        with self._echo_sink as sink:
            for line in self.process.stdout:
                sink.write(line)
                sink.flush()
                echo(line)

    def feed(self, text: str) -> None:
        """Write the child's whole standard input, and close it."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text)
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # it exited without reading: its exit code and log say why

    def wait(self) -> int:
        code = self.process.wait()
        if self._reader is not None:
            self._reader.join()
        return code

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        """SIGINT to the whole group (buildx cancels its builds), then TERM, then KILL.

        A standard input still open (a child waiting to be fed) is closed first: buildx
        waiting there for its definition heeds neither SIGINT nor SIGTERM (the docker CLI
        leaves signals to the plugin, which acts on them only between reads), so signals
        alone would cost both grace periods; at end of input it exits at once."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            with contextlib.suppress(OSError):  # BrokenPipeError: it is gone already
                stdin.close()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                continue
        # The group may outlive its leader: make sure nothing of it is left.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(timeout=GRACE_SECONDS)


def open_log(log: Path) -> int:
    """A new, empty log file, open for writing: never through a symbolic link, neither the
    file's (whatever is at its name is replaced) nor its folder's."""
    log.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(log.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(log.name, dir_fd=folder)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        return os.open(log.name, flags, 0o644, dir_fd=folder)
    finally:
        os.close(folder)


def run_captured(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float | None,
    env: Mapping[str, str] | None = None,
    stdin_text: str | None = None,
) -> Captured:
    """Run a short command to its end and keep what it printed. `timeout` (seconds, or
    None for none) is each caller's own: a probe that hangs must not hang the build.
    `env`, if given, is the command's whole environment; `stdin_text`, if given, its
    standard input (a credential helper reads the server there)."""
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=None if env is None else dict(env),
            input=stdin_text,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Captured(1, "", str(exc), ran=False)
    return Captured(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True, slots=True)
class Filtered:
    """What a filter command (bytes in, bytes out) left; `ran` as in `Captured`."""

    code: int
    stdout: bytes
    stderr: str
    ran: bool = True


def run_filter(argv: Sequence[str], data: bytes, *, timeout: float | None) -> Filtered:
    """Run a command that reads `data` on stdin and writes bytes (a picture) on stdout."""
    try:
        done = subprocess.run(list(argv), input=data, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        return Filtered(127, b"", f"{argv[0]}: not found", ran=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Filtered(1, b"", str(exc), ran=False)
    return Filtered(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


class RealStarter:
    """The `ProcessStarter` of a real build: `Running` for builds, `run_captured` for
    helper commands."""

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
        return Running(argv, cwd, log, stdin_text, echo, feed_later=feed_later)

    def capture(
        self, argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None
    ) -> Captured:
        return run_captured(argv, cwd=cwd, timeout=timeout)


REAL_STARTER: ProcessStarter = RealStarter()


def echo_to_stderr(prefix: str) -> Callable[[str], None]:
    """buildx's own output, passed through to stderr: stdout is for events (--format json)."""
    lock = threading.Lock()

    def echo(line: str) -> None:
        with lock:
            print(f"{prefix}{line}", end="", flush=True, file=sys.stderr)

    return echo
