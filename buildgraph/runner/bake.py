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

import re
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from buildgraph.locations import state_dir
from buildgraph.runner.options import Interrupted, Stop
from buildgraph.runner.process import REAL_STARTER, echo_to_stderr

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.render.bake_target import Entitlement
    from buildgraph.report.events import Emit, TargetResult
    from buildgraph.runner.bake_progress import BakeProgress
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter, StartedProcess


# buildx 0.19 added bake's `--allow` (filesystem entitlements) and asks for them; 0.20
# refuses a bake reading or writing outside its folder without them. Older ones reject
# the flag, and need nothing.
ALLOW_SINCE = (0, 19)
CACHEONLY_SINCE = (0, 16)  # bake keeps a linked dependency's `cacheonly` unnamed from here
ALLOW_FILE = "bake-allow.txt"  # in .buildgraph/: the --allow flags of the last bake
_ALLOW_FLAG = re.compile(r"--allow=fs\.(read|write)=/.*")


def bake_argv(
    builder: str | None,
    progress: str | None,
    definition: str,
    metadata: Path,
    targets: list[str],
    allow: Sequence[str] = (),
) -> list[str]:
    """`docker buildx bake` of `targets` (none: the default group) from `definition`, a file
    or "-" for standard input, writing buildx's metadata (digests) to `metadata`, with the
    `--allow=fs.*` flags `allow` (each one argument: nothing in a path is parsed)."""
    return [
        "docker",
        "buildx",
        *(["--builder", builder] if builder else []),
        "bake",
        "-f",
        definition,
        "--metadata-file",
        str(metadata),
        *allow,
        "--progress",
        buildx_progress(progress),
        # Target names may start with '-' (bake's rule allows it): after `--`, never options.
        *(["--", *targets] if targets else []),
    ]


def buildx_progress(shown: str | None) -> str:
    """The `--progress` bake is given when the user asked to see `shown` (None: nothing).
    rawjson carries each step's start and finish (per-target seconds), and buildgraph
    writes the plain form from it; only buildx's own interactive display (tty, auto) is
    left to buildx, and its targets then share their bake run's seconds."""
    return shown if shown in ("tty", "auto") else "rawjson"


class BakeOutput:
    """Where one bake's output goes: with rawjson progress, the raw stream to
    `bake-N.rawjson.log` and, through `BakeProgress`, its plain form to `bake-N.log` (and
    to stderr when shown, each line after `prefix`); otherwise buildx's own output to
    `bake-N.log` as it is. A `buildx build` of one target (runner.per_target) has its
    output go the same way, to `NAME.log`.

    The reader of the stream is made when its first line comes: the early bake starts
    before anything is imported that it does not need."""

    def __init__(self, log: Path, progress: str | None, prefix: str = "") -> None:
        self.log = log
        self.show = echo_to_stderr(prefix) if progress else None
        self.rawjson = buildx_progress(progress) == "rawjson"
        self.progress: BakeProgress | None = None
        self._targets: tuple[str, ...] = ()
        self._emit: Emit | None = None
        self._readable: TextIO | None = None
        if self.rawjson:
            from buildgraph.runner.process import open_log

            # Kept open while the bake runs, closed by close().
            self._readable = open(open_log(log), "w", encoding="utf-8")  # noqa: SIM115

    @property
    def process_log(self) -> Path:
        """The file the bake process writes (or has written for it)."""
        return self.log.with_name(self.log.stem + ".rawjson.log") if self.rawjson else self.log

    @property
    def echo(self) -> Callable[[str], None] | None:
        """What each line the bake prints is handed to as it comes."""
        return self._feed if self.rawjson else self.show

    def _feed(self, line: str) -> None:
        if self.progress is None:
            from buildgraph.runner.bake_progress import BakeProgress

            self.progress = BakeProgress(self._targets, self._write, self._emit)
        self.progress.feed(line)

    def listen(self, targets: Sequence[str], emit: Emit) -> None:
        """Tell `emit` each step and log line of `targets` (this bake's) as they come."""
        self._targets, self._emit = tuple(targets), emit
        if self.progress is not None:
            self.progress.targets, self.progress.emit = self._targets, emit

    def _write(self, text: str) -> None:
        if self._readable is not None:
            self._readable.write(text)
        if self.show is not None:
            self.show(text)

    def close(self) -> None:
        """The bake ended (or was stopped): the readable log is complete."""
        if self.progress is not None:
            self.progress.close()
        if self._readable is not None:
            self._readable.close()
            self._readable = None

    def finished(self, targets: Sequence[str]) -> set[str]:
        """Those of `targets` whose every step the progress stream saw complete cleanly."""
        if self.progress is None:
            return set()
        self.progress.targets = tuple(targets)
        return self.progress.finished()

    def instruction_steps(
        self, targets: Sequence[str], needs: Mapping[str, Collection[str]] | None = None
    ) -> dict[str, tuple[int, int]]:
        """Each of `targets`' instruction steps completed, and of those from the cache
        (a step of one of a target's `needs` counted for that dependency only)."""
        if self.progress is None:
            return {}
        self.progress.targets = tuple(targets)
        return self.progress.instruction_steps(needs)

    def seconds(self, targets: Sequence[str]) -> dict[str, float]:
        """Each of `targets`' own seconds, of those the progress stream timed; a step it
        left running (the bake failed or was stopped) counts until now."""
        if self.progress is None:
            return {}
        self.progress.targets = tuple(targets)
        return self.progress.seconds(until=time.time())


def understands_allow(buildx_version: str | None) -> bool:
    """Whether this buildx's bake takes `--allow fs.read=…` (0.19 and later)."""
    found = re.match(r"v?(\d+)\.(\d+)", buildx_version or "")
    return found is not None and (int(found[1]), int(found[2])) >= ALLOW_SINCE


def allow_flags(entitlements: Sequence[Entitlement], buildx_version: str | None) -> list[str]:
    """The `--allow` flags a bake of a definition needing `entitlements` is given: exactly
    those (never a blanket `fs=*`), and none for a buildx that does not know the flag."""
    if not entitlements or not understands_allow(buildx_version):
        return []
    return [e.flag() for e in entitlements]


def make_write_paths(entitlements: Iterable[Entitlement], folders: Set[str]) -> None:
    """Make each written path outside the project that is not there yet: a folder for the
    paths in `folders`, else an empty file. buildx checks a path that does not exist
    against its nearest existing parent, which `fs.write=PATH` does not cover, and which
    could be the home folder: made first, the path itself is all a bake is granted."""
    import os

    for entitlement in entitlements:
        path = Path(entitlement.path)
        if entitlement.access != "fs.write" or os.path.lexists(path):
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if entitlement.path in folders:
                path.mkdir()
            else:  # never through a link someone put there meanwhile
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                os.close(os.open(path, flags, 0o644))
        except OSError:
            continue  # buildx says what it cannot write


def recorded_allow(state: Path) -> list[str]:
    """The `--allow` flags the last bake of this project was given: the early bake starts
    with them (it runs before the plan is made), and is fed only if the plan needs exactly
    those. Anything but well-formed `fs.read`/`fs.write` flags is ignored."""
    try:
        lines = (state / ALLOW_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    if not all(_ALLOW_FLAG.fullmatch(line) for line in lines):
        return []
    return lines


def record_allow(state: Path, flags: Sequence[str]) -> None:
    """Keep `flags` for the next build's early bake (none: no file)."""
    from contextlib import suppress

    path = state / ALLOW_FILE
    with suppress(OSError):  # not kept: the next early bake starts without, and is replaced
        if not flags:
            path.unlink(missing_ok=True)
        elif all(_ALLOW_FLAG.fullmatch(f) for f in flags) and not any("\n" in f for f in flags):
            from buildgraph.atomic_write import write_atomic

            write_atomic(path, "".join(f + "\n" for f in flags), durable=False)


class EarlyBake:
    """A `docker buildx bake -f -` started before there is a plan: buildx's own start-up
    (the docker CLI, plugin discovery, the plugin's exec; about 70 ms) then overlaps
    planning instead of following it. It reads the definition from standard input and has
    built nothing until it is fed one, so stopping it unfed is clean; and should buildgraph
    die first, bake reads an empty definition and exits having built nothing.

    It builds the definition's default group (what was asked for; bake builds the
    dependencies it reaches through `target:` links with it), which is the whole plan
    when the plan is one bake run. The bake runs feed it only then, when the run needs
    exactly the filesystem entitlements it was started with, and when this bake keeps the
    `cacheonly` of a dependency nobody asked for (`early_may_build`); they stop it
    otherwise. The entitlements are the last bake's of the project (`recorded_allow`): a
    plan's are known only once it is made, and they rarely change from one build to the
    next.

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
        self.allow = recorded_allow(state)
        argv = bake_argv(builder, progress, "-", self.metadata, [], self.allow)
        self.output = BakeOutput(state / "logs" / "bake-1.log", progress)
        self.running: StartedProcess | None = starter.start(
            argv, root, self.output.process_log, echo=self.output.echo, feed_later=True
        )

    def feed(self, definition: str) -> tuple[StartedProcess, BakeOutput]:
        assert self.running is not None, "an early bake is fed once"
        running, self.running = self.running, None
        running.feed(definition)
        return running, self.output

    def stop(self) -> None:
        """Stop it unless it was fed (what was fed is the runner's to stop), at once: its
        standard input is closed, it reads an empty definition and exits having built
        nothing (`Running.stop`)."""
        running, self.running = self.running, None
        if running is None:
            return
        running.stop()
        self.output.close()


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
        self.allow: list[str] = []

    def run(self) -> list[TargetResult]:
        from buildgraph.atomic_write import write_atomic
        from buildgraph.render.bake_json import render_bake_json
        from buildgraph.render.bake_target import Rebaser

        bake_file = self.state / "bake.json"
        rebaser = Rebaser(self.plan.project, self.root)
        self.definition = render_bake_json(self.plan, rebaser)
        # A working file, written anew by every build: atomic, not worth an fsync.
        write_atomic(bake_file, self.definition, durable=False)
        self.allow = self.allow_for(list(rebaser.entitlements))
        if self.allow:
            make_write_paths(rebaser.entitlements, rebaser.write_folders)
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

    def allow_for(self, entitlements: list[Entitlement]) -> list[str]:
        """The `--allow` flags of this plan's bakes, kept for the next build's early bake.
        buildx is asked its version only when the plan needs entitlements and the options
        carry no probe's answer (a caller that did not probe)."""
        known = self.options.buildx_version
        if entitlements and known is None:
            known = self.buildx_version()
        flags = allow_flags(entitlements, known)
        before = self.early.allow if self.early is not None else recorded_allow(self.state)
        if flags != before:
            record_allow(self.state, flags)
        return flags

    def early_may_build(self) -> bool:
        """Whether the early bake, which builds the file's default group (the targets
        asked for), builds what naming every target would: before buildx 0.16 bake gives
        a dependency it reaches through `target:` links its driver's default export (the
        docker driver stores it), not the `cacheonly` the file says, unless it is named."""
        from buildgraph.plan.plan import exports_nothing

        if not any(not p.requested and exports_nothing(p.outputs) for p in self.plan.targets):
            return True
        found = re.match(r"v?(\d+)\.(\d+)", self.options.buildx_version or "")
        return found is not None and (int(found[1]), int(found[2])) >= CACHEONLY_SINCE

    def buildx_version(self) -> str | None:
        builder = self.options.builder
        argv = ["docker", "buildx", *(["--builder", builder] if builder else []), "version"]
        done = self.starter.capture(argv, timeout=20)
        found = re.search(r"v?(\d+\.\d+\.\d+)", done.stdout) if done.code == 0 else None
        return found[1] if found else None

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

    def dockerfile_names(self, bake_run: list[PlannedTarget]) -> dict[str, str]:
        """Each target's Dockerfile's file name, as buildx names it in an error report."""
        names = {}
        for planned in bake_run:
            path = self.plan.project.dockerfile_path(planned.target)
            names[planned.name] = path.name if path is not None else "Dockerfile"
        return names

    def start_bake(
        self, number: int, bake_run: list[PlannedTarget], bake_file: Path
    ) -> tuple[StartedProcess, BakeOutput]:
        """The bake run started for `bake_run` (the early bake when it builds just that),
        and where its output goes."""
        metadata_file = self.state / f"bake-{number}.metadata.json"
        log = self.state / "logs" / f"bake-{number}.log"
        early, self.early = self.early, None
        if early is not None:
            whole = [p.name for p in bake_run] == [p.name for p in self.plan.targets]
            if number == 1 and whole and early.allow == self.allow and self.early_may_build():
                early.output.listen([p.name for p in bake_run], self.results.emit)
                return early.feed(self.definition)
            early.stop()
        metadata_file.unlink(missing_ok=True)
        argv = bake_argv(
            self.options.builder,
            self.options.progress,
            str(bake_file),
            metadata_file,
            [p.name for p in bake_run],
            self.allow,
        )
        output = BakeOutput(log, self.options.progress)
        output.listen([p.name for p in bake_run], self.results.emit)
        return self.starter.start(argv, self.root, output.process_log, echo=output.echo), output

    def wait_for(self, process: StartedProcess) -> int:
        cancel = self.options.cancel
        while cancel is not None and process.poll() is None:
            if cancel.wait(0.05):
                raise Stop
        return process.wait()

    def bake(self, number: int, bake_run: list[PlannedTarget], bake_file: Path) -> None:
        from buildgraph.plan.plan import exports_nothing
        from buildgraph.report.events import TargetResult
        from buildgraph.runner.bake_log import (
            attribute_failures,
            exported_targets,
            failed_steps,
            failure_places,
            places_of_failures,
        )
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
        process, output = self.start_bake(number, bake_run, bake_file)
        order = [p.name for p in bake_run]
        try:
            code = self.wait_for(process)
        except (KeyboardInterrupt, Stop):
            process.stop()
            output.close()
            run_seconds = time.monotonic() - started
            timed = output.seconds(order)
            for planned in bake_run:
                self.results.cancel(planned, timed.get(planned.name, run_seconds), str(log))
            raise Interrupted(self.results.ordered()) from None
        output.close()
        run_seconds = time.monotonic() - started
        # Each target's own steps, from BuildKit's times; a target none of whose steps
        # completed (cut short, or buildx's own display) gets the run's.
        timed = output.seconds(order)
        metadata = read_metadata_file(metadata_file)
        error = last_error_line(log) if code else None
        lines = log.read_text(errors="replace").splitlines() if code else []
        exported = exported_targets(lines)
        # A target that exports nothing (a dependency nobody asked for) has no export
        # step: it is done when all its steps are.
        finished = output.finished(order) if code else set()
        exported |= {p.name for p in bake_run if p.name in finished and exports_nothing(p.outputs)}
        culprits = (
            attribute_failures(failed_steps(lines), self.dockerfile_texts(bake_run), order)
            if code
            else set()
        )
        # No culprit found: every target not exported fails (below), so those.
        failed = [n for n in order if n in culprits] or [n for n in order if n not in exported]
        places = places_of_failures(failed, failure_places(lines), self.dockerfile_names(bake_run))
        steps = output.instruction_steps(order, {p.name: p.needs for p in bake_run})
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
                    timed.get(planned.name, run_seconds),
                    image_digest(entry) if isinstance(entry, dict) else None,
                    error if status != "done" else None,
                    str(log),
                    *steps.get(planned.name, (0, 0)),  # steps, cached_steps
                    failed_at=places.get(planned.name) if status == "failed" else None,
                ),
            )
