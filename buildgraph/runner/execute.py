"""Running a plan against the current buildx builder.

`--via bake`: one `docker buildx bake` per bake run of the plan, on a bake file rendered
into .buildgraph/. `--via commands`: one `docker buildx build` per target, up to -j at once,
each dependency handed to its dependents as the exact result just built (an OCI layout on
disk, or the pushed digest). A failed target skips its dependents; with --keep-going the
independent targets go on. Ctrl-C stops every build started.
"""

from __future__ import annotations

import json
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildgraph.files import write_atomic
from buildgraph.locations import state_dir
from buildgraph.model.entries import entry_fields
from buildgraph.plan.plan import Plan, PlannedTarget
from buildgraph.render.bake_json import render_bake_json
from buildgraph.render.bake_target import Rebaser
from buildgraph.report.events import Emit, Event, TargetResult
from buildgraph.runner.bake import EarlyBake, bake_argv
from buildgraph.runner.bake_log import attribute_failures, exported_targets, failed_steps
from buildgraph.runner.process import Running, echo_to_stderr


@dataclass(frozen=True, slots=True)
class BuildOptions:
    via: str = "bake"  # "bake" or "commands"
    jobs: int = 4
    keep_going: bool = False
    progress: str | None = None  # buildx's own progress shown (auto, plain, tty), or None
    builder: str | None = None
    split_platforms: bool = False
    driver: str | None = None  # the builder's driver, as the probe found it
    only: frozenset[str] | None = None  # build just these; the others are taken as built
    cancel: threading.Event | None = None  # set from another thread: stop like Ctrl-C


class Stop(Exception):
    """Ctrl-C, or the cancel event of the options: stop every build started."""


class Interrupted(Exception):
    """Ctrl-C: every started build was stopped; `results` says where each target got to."""

    def __init__(self, results: list[TargetResult]) -> None:
        super().__init__("interrupted")
        self.results = results


def run_plan(
    plan: Plan, options: BuildOptions, emit: Emit, early: EarlyBake | None = None
) -> list[TargetResult]:
    if options.split_platforms:
        from buildgraph.runner.split import SplitRunner

        return SplitRunner(plan, options, emit).run()
    if options.via == "bake":
        return _BakeRunner(plan, options, emit, early).run()
    return _CommandRunner(plan, options, emit).run()


def last_error(log: Path) -> str | None:
    """The line of a buildx log that says what went wrong."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if "ERROR" in line or "error:" in line.lower():
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else None


def _digest(metadata: dict[str, Any]) -> str | None:
    value = metadata.get("containerimage.digest")
    return str(value) if value else None


class _Runner:
    def __init__(self, plan: Plan, options: BuildOptions, emit: Emit) -> None:
        self.plan = plan
        self.options = options
        self.emit = emit
        self.state = state_dir(plan.project.root)
        self.root = plan.project.root
        self.results: dict[str, TargetResult] = {}
        self.failed = False

    def selected(self, planned: PlannedTarget) -> bool:
        return self.options.only is None or planned.name in self.options.only

    def settled(self, name: str) -> bool:
        """Built (or failed) in this run, or not part of it: built before."""
        return name in self.results or (
            self.options.only is not None and name not in self.options.only
        )

    def wait_for(self, process: Running) -> int:
        cancel = self.options.cancel
        while cancel is not None and process.poll() is None:
            if cancel.wait(0.05):
                raise Stop
        return process.wait()

    def blocked(self, planned: PlannedTarget) -> str | None:
        """Why a target cannot start, if it cannot: a dependency that did not succeed."""
        for dep in planned.needs:
            result = self.results.get(dep)
            if result is not None and result.status != "done":
                was = "was " if result.status == "skipped" else ""
                return f"needs {dep}, which {was}{result.status}"
        if self.failed and not self.options.keep_going:
            return "stopped after a failure (--keep-going builds what does not depend on it)"
        return None

    def skip(self, planned: PlannedTarget, why: str) -> None:
        self.results[planned.name] = TargetResult(
            planned.name, planned.target.platforms, "skipped", detail=why
        )
        self.emit(Event("skipped", planned.name, status="skipped", detail=why))

    def finish(self, planned: PlannedTarget, result: TargetResult) -> None:
        self.results[planned.name] = result
        self.failed |= result.status == "failed"
        self.emit(
            Event(
                "finished",
                planned.name,
                status=result.status,
                seconds=result.seconds,
                detail=result.detail if result.status != "done" else result.digest,
                data={"digest": result.digest} if result.digest else {},
            )
        )

    def ordered(self) -> list[TargetResult]:
        return [self.results[p.name] for p in self.plan.targets if p.name in self.results]

    def progress_flag(self) -> list[str]:
        return ["--progress", self.options.progress or "plain"]

    def builder_flag(self) -> list[str]:
        return ["--builder", self.options.builder] if self.options.builder else []

    def run(self) -> list[TargetResult]:
        raise NotImplementedError


class _BakeRunner(_Runner):
    def __init__(
        self, plan: Plan, options: BuildOptions, emit: Emit, early: EarlyBake | None
    ) -> None:
        super().__init__(plan, options, emit)
        self.early = early
        self.definition = ""

    def run(self) -> list[TargetResult]:
        bake_file = self.state / "bake.json"
        self.definition = render_bake_json(self.plan, Rebaser(self.plan.project, self.root))
        # A working file, written anew by every build: atomic, not worth an fsync.
        write_atomic(bake_file, self.definition, durable=False)
        runs = 0
        for stage in self.plan.stages:
            left = [p for p in stage if self.selected(p)]
            # A failed bake run cancels the rest of it: with --keep-going, what was cut
            # short and does not depend on the failure runs again.
            while left:
                ready = []
                for planned in left:
                    why = self.blocked(planned)
                    if why:
                        self.skip(planned, why)
                    else:
                        ready.append(planned)
                if not ready:
                    break
                runs += 1
                self.bake(runs, ready, bake_file)
                left = [p for p in ready if self.results[p.name].status == "cancelled"]
                if not self.options.keep_going or len(left) == len(ready):
                    break
        return self.ordered()

    def dockerfile_texts(self, stage: list[PlannedTarget]) -> dict[str, str]:
        texts = {}
        for planned in stage:
            inline = planned.target.dockerfile_inline
            path = self.plan.project.dockerfile_path(planned.target)
            try:
                texts[planned.name] = (
                    inline
                    if inline is not None
                    else (path.read_text(errors="replace") if path else "")
                )
            except OSError:
                texts[planned.name] = ""
        return texts

    def start_bake(self, number: int, stage: list[PlannedTarget], bake_file: Path) -> Running:
        """The bake run started for `stage`: the early bake when it builds just that."""
        metadata_file = self.state / f"bake-{number}.metadata.json"
        log = self.state / "logs" / f"bake-{number}.log"
        early, self.early = self.early, None
        if early is not None:
            if number == 1 and [p.name for p in stage] == [p.name for p in self.plan.targets]:
                return early.feed(self.definition)
            early.stop()
        metadata_file.unlink(missing_ok=True)
        argv = bake_argv(
            self.options.builder,
            self.options.progress,
            str(bake_file),
            metadata_file,
            [p.name for p in stage],
        )
        return Running(
            argv, self.root, log, echo=echo_to_stderr("") if self.options.progress else None
        )

    def bake(self, number: int, stage: list[PlannedTarget], bake_file: Path) -> None:
        metadata_file = self.state / f"bake-{number}.metadata.json"
        log = self.state / "logs" / f"bake-{number}.log"
        for planned in stage:
            self.emit(Event("started", planned.name, detail=f"bake run {number}"))
        started = time.monotonic()
        process = self.start_bake(number, stage, bake_file)
        try:
            code = self.wait_for(process)
        except (KeyboardInterrupt, Stop):
            process.stop()
            seconds = time.monotonic() - started
            for planned in stage:
                self.results[planned.name] = TargetResult(
                    planned.name, planned.target.platforms, "cancelled", seconds, log=str(log)
                )
            raise Interrupted(self.ordered()) from None
        seconds = time.monotonic() - started
        metadata = _read_json(metadata_file)
        error = last_error(log) if code else None
        lines = log.read_text(errors="replace").splitlines() if code else []
        exported = exported_targets(lines)
        order = [p.name for p in stage]
        culprits = (
            attribute_failures(failed_steps(lines), self.dockerfile_texts(stage), order)
            if code
            else set()
        )
        for planned in stage:  # in build order: dependencies are settled first
            entry = metadata.get(planned.name, {})
            # BuildKit shares a step between targets and may report it under the
            # dependent's name: a target whose dependency failed did not fail itself.
            broken = [
                d
                for d in planned.needs
                if self.results.get(d) and self.results[d].status in ("failed", "skipped")
            ]
            if code == 0 or planned.name in exported:
                status = "done"
            elif broken:
                self.skip(planned, f"needs {broken[0]}, which {self.results[broken[0]].status}")
                continue
            elif planned.name in culprits or not culprits:
                status = "failed"
            else:
                status = "cancelled"  # bake stops the whole run when one target fails
            self.finish(
                planned,
                TargetResult(
                    planned.name,
                    planned.target.platforms,
                    status,
                    seconds,
                    _digest(entry) if isinstance(entry, dict) else None,
                    error if status != "done" else None,
                    str(log),
                ),
            )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _next(finished: queue.Queue[str], cancel: threading.Event | None) -> str:
    # A short timeout keeps the main thread where Ctrl-C (or a cancel) can reach it.
    while True:
        if cancel is not None and cancel.is_set():
            raise Stop
        try:
            return finished.get(timeout=0.05)
        except queue.Empty:
            continue


def _pushed_repositories(planned: PlannedTarget) -> set[str]:
    if not any(entry_fields(o).get("type") == "registry" for o in planned.outputs):
        return set()
    return {_repository(tag) for tag in planned.target.tags}


def _repository(tag: str) -> str:
    """`host:5000/a/b:tag` -> `host:5000/a/b`."""
    name, _, last = tag.rpartition("/")
    if ":" in last:
        last = last.split(":", 1)[0]
    return f"{name}/{last}" if name else last


class _CommandRunner(_Runner):
    def __init__(self, plan: Plan, options: BuildOptions, emit: Emit) -> None:
        from buildgraph.render.buildx_build import linked_dependencies

        super().__init__(plan, options, emit)
        self.rebaser = Rebaser(plan.project, self.root)
        self.exported = linked_dependencies(plan)
        self.oci = self.state / "oci"
        self.digests: dict[str, str] = {}
        self.running: dict[str, tuple[Running, float, PlannedTarget]] = {}
        self.done: queue.Queue[str] = queue.Queue()

    def run(self) -> list[TargetResult]:
        pending = [p for p in self.plan.targets if self.selected(p)]
        try:
            while pending or self.running:
                pending = self.start_ready(pending)
                if self.running:
                    self.collect(_next(self.done, self.options.cancel))
        except (KeyboardInterrupt, Stop):
            self.stop_all()
            raise Interrupted(self.ordered()) from None
        return self.ordered()

    def start_ready(self, pending: list[PlannedTarget]) -> list[PlannedTarget]:
        left = []
        for planned in pending:
            waiting = any(not self.settled(d) for d in planned.needs)
            full = len(self.running) >= max(1, self.options.jobs)
            if waiting or full or self.pushes_clash(planned):
                left.append(planned)
                continue
            why = self.blocked(planned)
            if why:
                self.skip(planned, why)
            else:
                self.start(planned)
        return left

    def pushes_clash(self, planned: PlannedTarget) -> bool:
        """Whether a running build pushes to a repository this one pushes to: a registry
        that writes tag links non-atomically (distribution's filesystem storage) answers
        concurrent pushes to one repository with 500s, so those wait for each other."""
        mine = _pushed_repositories(planned)
        return bool(mine) and any(
            mine & _pushed_repositories(other) for _, _, other in self.running.values()
        )

    def link_contexts(self, planned: PlannedTarget) -> dict[str, str]:
        contexts = {}
        for ref, dep in planned.links.items():
            digest = self.digests.get(dep)
            dependency = self.plan[dep]
            pushed = any(entry_fields(o).get("type") == "registry" for o in dependency.outputs)
            if pushed and digest and dependency.target.tags:
                contexts[ref] = f"docker-image://{_repository(dependency.target.tags[0])}@{digest}"
            else:
                pin = f"@{digest}" if digest else ""
                contexts[ref] = f"oci-layout://{self.oci / dep}{pin}"
        return contexts

    def start(self, planned: PlannedTarget) -> None:
        from buildgraph.render.buildx_build import build_command

        name = planned.name
        if name in self.exported:
            shutil.rmtree(self.oci / name, ignore_errors=True)
        metadata = self.state / "metadata" / f"{name}.json"
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.unlink(missing_ok=True)
        command = build_command(
            planned,
            self.rebaser,
            name in self.exported,
            str(self.oci),
            self.link_contexts(planned),
            str(metadata),
        )
        argv = list(command.argv)
        argv[2:3] = [*self.builder_flag(), "build", *self.progress_flag()]
        log = self.state / "logs" / f"{name}.log"
        echo = echo_to_stderr(f"[{name}] ") if self.options.progress else None
        self.emit(Event("started", name, detail=", ".join(planned.target.platforms) or None))
        process = Running(argv, self.root, log, command.stdin, echo)
        self.running[name] = (process, time.monotonic(), planned)
        threading.Thread(target=self._wait, args=(name, process), daemon=True).start()

    def _wait(self, name: str, process: Running) -> None:
        process.wait()
        self.done.put(name)

    def collect(self, name: str) -> None:
        process, started, planned = self.running.pop(name)
        code = process.wait()
        seconds = time.monotonic() - started
        digest = _digest(_read_json(self.state / "metadata" / f"{name}.json"))
        if digest:
            self.digests[name] = digest
        status = "done" if code == 0 else "failed"
        self.finish(
            planned,
            TargetResult(
                name,
                planned.target.platforms,
                status,
                seconds,
                digest,
                None if code == 0 else last_error(process.log),
                str(process.log),
            ),
        )

    def stop_all(self) -> None:
        for name, (process, started, planned) in list(self.running.items()):
            process.stop()
            self.results[name] = TargetResult(
                name,
                planned.target.platforms,
                "cancelled",
                time.monotonic() - started,
                log=str(process.log),
            )
        self.running.clear()
