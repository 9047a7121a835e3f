"""`build --via bake`: the `docker buildx bake` command line, a bake started before its
plan is made (`EarlyBake`), and the bake runs of a plan (`run_bakes`).

One `docker buildx bake` per bake run of the plan (dependencies bake cannot
order go to an earlier run), on a bake file rendered into .buildgraph/. bake stops a whole
run when one of its targets fails and writes no metadata then; its log says which target
failed (the culprit), which were exported, and the rest were cut short: with --keep-going
those that do not depend on the failure run again.

Light at module level on purpose: `build` starts the early bake from here before it imports
what plans, checks and reports, so that their import overlaps bake's start-up. What only
the bake runs need is imported where they start.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.locations import state_dir
from buildgraph.runner.options import Interrupted, Stop
from buildgraph.runner.process import REAL_STARTER, echo_to_stderr

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.report.events import Emit, TargetResult
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter, StartedProcess


def bake_argv(
    builder: str | None, progress: str | None, definition: str, metadata: Path, targets: list[str]
) -> list[str]:
    """`docker buildx bake` of `targets` (none: the default group) from `definition`, a file
    or "-" for standard input, writing buildx's metadata (digests) to `metadata`."""
    return [
        "docker",
        "buildx",
        *(["--builder", builder] if builder else []),
        "bake",
        "-f",
        definition,
        "--metadata-file",
        str(metadata),
        "--progress",
        progress or "plain",
        *targets,
    ]


class EarlyBake:
    """A `docker buildx bake -f -` started before there is a plan: buildx's own start-up
    (the docker CLI, plugin discovery, the plugin's exec; about 70 ms) then overlaps
    planning instead of following it. It reads the definition from standard input and has
    built nothing until it is fed one, so stopping it unfed is clean; and should buildgraph
    die first, bake reads an empty definition and exits having built nothing.

    It builds the definition's default group, which is the whole plan: the bake runs feed
    it only when the first run is the whole plan (one bake run), and stop it otherwise.
    """

    def __init__(
        self,
        root: Path,
        builder: str | None,
        progress: str | None,
        starter: ProcessStarter = REAL_STARTER,
    ) -> None:
        state = state_dir(root)
        self.metadata = state / "bake-1.metadata.json"
        self.metadata.unlink(missing_ok=True)
        argv = bake_argv(builder, progress, "-", self.metadata, [])
        self.running: StartedProcess | None = starter.start(
            argv,
            root,
            state / "logs" / "bake-1.log",
            echo=echo_to_stderr("") if progress else None,
            feed_later=True,
        )

    def feed(self, definition: str) -> StartedProcess:
        assert self.running is not None, "an early bake is fed once"
        running, self.running = self.running, None
        running.feed(definition)
        return running

    def stop(self) -> None:
        """Stop it unless it was fed (what was fed is the runner's to stop)."""
        if self.running is not None:
            self.running.stop()
            self.running = None


def run_bakes(
    plan: Plan,
    options: BuildOptions,
    emit: Emit,
    early: EarlyBake | None = None,
    starter: ProcessStarter = REAL_STARTER,
) -> list[TargetResult]:
    """Build `plan` (or `options.only` of it) one bake run at a time; `early`, if given,
    is the first run when that run is the whole plan."""
    return _BakeRuns(plan, options, emit, early, starter).run()


class _BakeRuns:
    def __init__(
        self,
        plan: Plan,
        options: BuildOptions,
        emit: Emit,
        early: EarlyBake | None,
        starter: ProcessStarter,
    ) -> None:
        from buildgraph.runner.results import RunResults

        self.plan = plan
        self.options = options
        self.early = early
        self.starter = starter
        self.root = plan.project.root
        self.state = state_dir(self.root)
        self.results = RunResults(plan, options, emit)
        self.definition = ""

    def run(self) -> list[TargetResult]:
        from buildgraph.atomic_write import write_atomic
        from buildgraph.render.bake_json import render_bake_json
        from buildgraph.render.bake_target import Rebaser

        bake_file = self.state / "bake.json"
        self.definition = render_bake_json(self.plan, Rebaser(self.plan.project, self.root))
        # A working file, written anew by every build: atomic, not worth an fsync.
        write_atomic(bake_file, self.definition, durable=False)
        runs = 0
        for bake_run in self.plan.bake_runs:
            left = [p for p in bake_run if self.results.selected(p)]
            # A failed bake run cancels the rest of it: with --keep-going, what was cut
            # short and does not depend on the failure runs again.
            while left:
                ready = []
                for planned in left:
                    why = self.results.blocked(planned)
                    if why:
                        self.results.skip(planned, why)
                    else:
                        ready.append(planned)
                if not ready:
                    break
                runs += 1
                self.bake(runs, ready, bake_file)
                left = [p for p in ready if self.status(p.name) == "cancelled"]
                if not self.options.keep_going or len(left) == len(ready):
                    break
        return self.results.ordered()

    def status(self, name: str) -> str | None:
        result = self.results.get(name)
        return result.status if result is not None else None

    def dockerfile_texts(self, bake_run: list[PlannedTarget]) -> dict[str, str]:
        texts = {}
        for planned in bake_run:
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

    def start_bake(
        self, number: int, bake_run: list[PlannedTarget], bake_file: Path
    ) -> StartedProcess:
        """The bake run started for `bake_run`: the early bake when it builds just that."""
        metadata_file = self.state / f"bake-{number}.metadata.json"
        log = self.state / "logs" / f"bake-{number}.log"
        early, self.early = self.early, None
        if early is not None:
            if number == 1 and [p.name for p in bake_run] == [p.name for p in self.plan.targets]:
                return early.feed(self.definition)
            early.stop()
        metadata_file.unlink(missing_ok=True)
        argv = bake_argv(
            self.options.builder,
            self.options.progress,
            str(bake_file),
            metadata_file,
            [p.name for p in bake_run],
        )
        echo = echo_to_stderr("") if self.options.progress else None
        return self.starter.start(argv, self.root, log, echo=echo)

    def wait_for(self, process: StartedProcess) -> int:
        cancel = self.options.cancel
        while cancel is not None and process.poll() is None:
            if cancel.wait(0.05):
                raise Stop
        return process.wait()

    def bake(self, number: int, bake_run: list[PlannedTarget], bake_file: Path) -> None:
        from buildgraph.report.events import TargetResult
        from buildgraph.runner.bake_log import attribute_failures, exported_targets, failed_steps
        from buildgraph.runner.buildx_results import (
            image_digest,
            last_error_line,
            read_metadata_file,
        )

        metadata_file = self.state / f"bake-{number}.metadata.json"
        log = self.state / "logs" / f"bake-{number}.log"
        for planned in bake_run:
            self.results.started(planned, f"bake run {number}")
        started = time.monotonic()
        process = self.start_bake(number, bake_run, bake_file)
        try:
            code = self.wait_for(process)
        except (KeyboardInterrupt, Stop):
            process.stop()
            seconds = time.monotonic() - started
            for planned in bake_run:
                self.results.cancel(planned, seconds, str(log))
            raise Interrupted(self.results.ordered()) from None
        seconds = time.monotonic() - started
        metadata = read_metadata_file(metadata_file)
        error = last_error_line(log) if code else None
        lines = log.read_text(errors="replace").splitlines() if code else []
        exported = exported_targets(lines)
        order = [p.name for p in bake_run]
        culprits = (
            attribute_failures(failed_steps(lines), self.dockerfile_texts(bake_run), order)
            if code
            else set()
        )
        for planned in bake_run:  # in build order: dependencies are settled first
            entry = metadata.get(planned.name, {})
            # BuildKit shares a step between targets and may report it under the
            # dependent's name: a target whose dependency failed did not fail itself.
            broken = [d for d in planned.needs if self.status(d) in ("failed", "skipped")]
            if code == 0 or planned.name in exported:
                status = "done"
            elif broken:
                self.results.skip(planned, f"needs {broken[0]}, which {self.status(broken[0])}")
                continue
            elif planned.name in culprits or not culprits:
                status = "failed"
            else:
                status = "cancelled"  # bake stops the whole run when one target fails
            self.results.finish(
                planned,
                TargetResult(
                    planned.name,
                    planned.target.platforms,
                    status,
                    seconds,
                    image_digest(entry) if isinstance(entry, dict) else None,
                    error if status != "done" else None,
                    str(log),
                ),
            )
