"""A fake `ProcessStarter` for the runners' unit tests: no docker, each "build" a timer.

Each process is told what to do by a `Script` picked from its command line: how long it
runs (or until stopped), its exit code, the log it leaves. Like buildx, a build that
succeeds writes its `--metadata-file` (a digest made from the log's name; bake: one entry
per target named). The starter records every command line, the order processes started
and exited in, and the most that were running at once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from buildgraph.runner.process import Captured


@dataclass(frozen=True)
class Script:
    code: int = 0
    seconds: float | None = 0.1  # None: runs until stopped; long enough to overlap under load
    log: str = ""


def digest_for(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def flag(argv: Sequence[str], name: str) -> str | None:
    """The value after `name` in a command line."""
    return argv[argv.index(name) + 1] if name in argv else None


class FakeProcess:
    def __init__(
        self,
        starter: FakeStarter,
        argv: list[str],
        log: Path,
        stdin_text: str | None,
        feed_later: bool,
        script: Script,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.starter = starter
        self.argv = argv
        self.log = log
        self.label = log.name.removesuffix(".log").removesuffix(".rawjson")
        self.echo = echo
        self.script = script
        self.fed: str | None = stdin_text
        self.waiting_for_feed = feed_later
        self.stopped = False
        self.code: int | None = None
        self._done = threading.Event()
        self._timer: threading.Timer | None = None
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        if not feed_later:
            self._run()

    def _run(self) -> None:
        if self.script.seconds is not None:
            self._timer = threading.Timer(self.script.seconds, self._exit, (self.script.code,))
            self._timer.daemon = True
            self._timer.start()

    def _exit(self, code: int) -> None:
        with self.starter.lock:
            if self.code is not None:
                return
            self.log.write_text(self.script.log)
            if self.echo is not None:  # as a real process's output is handed over
                for line in self.script.log.splitlines(keepends=True):
                    self.echo(line)
            metadata = flag(self.argv, "--metadata-file")
            if code == 0 and metadata is not None:
                Path(metadata).write_text(json.dumps(self._metadata()))
            self.starter.timeline.append(("exit", self.label))
            self.starter.live -= 1
            self.code = code
        self._done.set()

    def _metadata(self) -> dict[str, object]:
        if "bake" not in self.argv:
            return {"containerimage.digest": digest_for(self.label)}
        targets = self.argv[self.argv.index("--progress") + 3 :]  # after `--`
        return {t: {"containerimage.digest": digest_for(t)} for t in targets}

    def poll(self) -> int | None:
        return self.code

    def wait(self) -> int:
        self._done.wait()
        assert self.code is not None
        return self.code

    def stop(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()
        self._exit(-2)  # as SIGINT leaves it

    def feed(self, text: str) -> None:
        assert self.waiting_for_feed and self.fed is None, "fed once, and only when waiting"
        self.fed = text
        self._run()


class FakeStarter:
    """A `ProcessStarter` whose processes are `FakeProcess`es."""

    def __init__(
        self,
        script: Callable[[list[str]], Script] = lambda argv: Script(),
        captured: Callable[[list[str]], Captured] = lambda argv: Captured(0, "", ""),
        on_start: Callable[[FakeStarter], None] | None = None,
    ) -> None:
        self.script = script
        self.answer = captured
        self.on_start = on_start
        self.lock = threading.Lock()
        self.started: list[FakeProcess] = []
        self.captured: list[list[str]] = []
        self.timeline: list[tuple[str, str]] = []  # ("start" | "exit", log name)
        self.live = 0
        self.most_live = 0

    def start(
        self,
        argv: Sequence[str],
        cwd: Path,
        log: Path,
        *,
        stdin_text: str | None = None,
        echo: Callable[[str], None] | None = None,
        feed_later: bool = False,
    ) -> FakeProcess:
        with self.lock:
            self.live += 1
            self.most_live = max(self.most_live, self.live)
            self.timeline.append(("start", log.name.removesuffix(".log").removesuffix(".rawjson")))
        process = FakeProcess(
            self, list(argv), log, stdin_text, feed_later, self.script(list(argv)), echo
        )
        self.started.append(process)
        if self.on_start is not None:
            self.on_start(self)
        return process

    def capture(
        self, argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None
    ) -> Captured:
        self.captured.append(list(argv))
        return self.answer(list(argv))

    def by_label(self) -> dict[str, FakeProcess]:
        return {p.label: p for p in self.started}

    def position(self, event: str, label: str, second: bool = False) -> int:
        """Where in the timeline `label` started or exited (its second time, `second`)."""
        first = self.timeline.index((event, label))
        return self.timeline.index((event, label), first + 1) if second else first
