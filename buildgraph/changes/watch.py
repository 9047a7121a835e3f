"""`buildgraph watch`: build, then rebuild exactly what each change touches.

A change maps (through `inputs.InputIndex`) to the targets it is an input of, plus every
target that depends on them. Builds run one batch at a time in a worker thread; a change to
the inputs of the batch being built cancels it and starts it again with the new work, other
changes wait for it. An edit of the project file or of a Dockerfile re-plans; an invalid
project file is reported and the last good plan kept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph import gc_policy
from buildgraph.changes.input_index import InputIndex
from buildgraph.changes.reasons import rebuild_reasons
from buildgraph.errors import BuildgraphError
from buildgraph.locations import STATE_DIR_NAME
from buildgraph.plan.load import Loaded, load, plan
from buildgraph.report.events import Emit, Event, TargetResult
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions, Interrupted

if TYPE_CHECKING:
    from buildgraph.build.views import RunViews, ViewRequest
    from buildgraph.plan.plan import OutputMode, Plan
    from buildgraph.projectfile.locate import FileArgument


@dataclass(frozen=True, slots=True)
class WatchRequest:
    file: FileArgument
    variables: Mapping[str, str]
    names: tuple[str, ...]
    mode: OutputMode
    options: BuildOptions
    debounce_ms: int = 50
    step_ms: int = 10
    build_first: bool = True
    overrides: tuple[str, ...] = ()  # --set


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One good reading of the project: what to build and what feeds it."""

    loaded: Loaded
    plan: Plan
    index: InputIndex
    plan_files: frozenset[Path]  # Dockerfiles and ignore files: editing one re-plans


def snapshot(request: WatchRequest) -> Snapshot:
    loaded = load(request.file, request.variables, names=request.names, overrides=request.overrides)
    the_plan = plan(loaded, request.names, request.mode)
    names = [p.name for p in the_plan.targets]
    plan_files: set[Path] = set()
    for planned in the_plan.targets:
        dockerfile = loaded.project.dockerfile_path(planned.target)
        context = loaded.project.context_dir(planned.target)
        if dockerfile is not None:
            plan_files |= {dockerfile, dockerfile.with_name(dockerfile.name + ".dockerignore")}
        if context is not None:
            plan_files.add(context / ".dockerignore")
    index = InputIndex.of(loaded.project, names)
    return Snapshot(loaded, the_plan, index, frozenset(Path(_normal(p)) for p in plan_files))


def _shown(path: Path, current: Snapshot) -> str:
    """A changed file as a person reads it: relative to the project's folder."""
    try:
        return Path(_normal(path)).relative_to(_normal(current.loaded.project.root)).as_posix()
    except ValueError:
        return str(path)


def _normal(path: Path) -> str:
    return os.path.normpath(os.path.abspath(path))


def changed_targets(old: Plan, new: Plan) -> set[str]:
    """Targets whose definition differs between two plans (or that are new)."""
    before = {p.name: (p.target, p.links, p.outputs) for p in old.targets}
    return {p.name for p in new.targets if before.get(p.name) != (p.target, p.links, p.outputs)}


class Builds:
    """One batch building at a time; work for it while it runs is merged or queued."""

    def __init__(self, request: WatchRequest, emit: Emit) -> None:
        self.request = request
        self.emit = emit
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.cancel: threading.Event | None = None
        self.building: set[str] = set()
        self.waiting: set[str] = set()
        self.plan: Plan | None = None
        self.results: list[TargetResult] = []

    def submit(self, the_plan: Plan, names: set[str]) -> None:
        with self.lock:
            self.plan = the_plan
            if self.thread is not None and self.thread.is_alive():
                if names & self.building or names & self.waiting:
                    # Its inputs changed under it: stop it, build it all again.
                    self.waiting |= names | self.building
                    assert self.cancel is not None
                    self.cancel.set()
                else:
                    self.waiting |= names
                return
            self.waiting |= names
            self._start_locked()

    def _start_locked(self) -> None:
        assert self.plan is not None
        names = {p.name for p in self.plan.targets} & self.waiting
        self.waiting = set()
        if not names:
            self.thread = None
            return
        self.building = names
        self.cancel = threading.Event()
        # A failure never stops watch: what does not depend on it is built all the same.
        options = replace(
            self.request.options, only=frozenset(names), cancel=self.cancel, keep_going=True
        )
        self.thread = threading.Thread(
            target=self._run, args=(self.plan, options), name="buildgraph-build", daemon=True
        )
        self.thread.start()

    def _run(self, the_plan: Plan, options: BuildOptions) -> None:
        started = time.monotonic()
        try:
            results = run_plan(the_plan, options, self.emit)
            status = "done" if all(r.status == "done" for r in results) else "failed"
            if status == "failed":
                self._note_a_silent_builder(options.builder)
        except Interrupted as stop:
            results, status = stop.results, "cancelled"
        except Exception as exc:  # a bug must not kill the watch loop silently
            self.emit(Event("note", detail=f"build crashed: {exc!r}"))
            results, status = [], "failed"
        self.results = results
        self.emit(
            Event(
                "batch",
                status=status,
                seconds=time.monotonic() - started,
                data={"targets": sorted(options.only or ())},
            )
        )
        with self.lock:
            self.building = set()
            self._start_locked()

    def _note_a_silent_builder(self, builder: str | None) -> None:
        """Watch goes on when the engine stops (the next change builds again), but says
        that the failure is the engine's, not the project's."""
        from buildgraph.runner.probe import builder_silence

        silence = builder_silence(builder)
        if silence is not None:
            self.emit(
                Event(
                    "note",
                    detail=f"the builder stopped answering ({silence}); start it again, "
                    "and the next change builds again",
                )
            )

    def stop(self) -> None:
        with self.lock:
            self.waiting = set()
            thread, cancel = self.thread, self.cancel
        if cancel is not None:
            cancel.set()
        if thread is not None:
            thread.join()


def watch(
    request: WatchRequest, shown: ViewRequest, stop_event: threading.Event | None = None
) -> int:
    """Build, then watch until Ctrl-C (or `stop_event`), shown as `shown` asks (lines or
    JSON, the live view, the page); returns the exit code. One build or watch at a time per
    project (`locations.ProjectLock`)."""
    from buildgraph.build.views import RunViews
    from buildgraph.locations import ProjectLock

    current = snapshot(request)  # an invalid file at start is an error like anywhere else
    lock = ProjectLock(current.loaded.project.root)
    asked = RebuildsAsked()
    try:
        with RunViews(shown, current.plan, rebuild=asked) as views:
            return _watch(request, views, stop_event, current, asked)
    finally:
        lock.release()


class RebuildsAsked:
    """The page's rebuild button: rebuild a target (and its dependents) of the current
    plan, as if its files had changed. Called from the page's server thread."""

    def __init__(self) -> None:
        self.builds: Builds | None = None
        self.plan: Plan | None = None

    def __call__(self, name: str) -> str | None:
        builds, the_plan = self.builds, self.plan
        if builds is None or the_plan is None:
            return "watch has not started yet"
        if name not in {p.name for p in the_plan.targets}:
            return f"{name} is not a target of the plan"
        reasons = rebuild_reasons(the_plan, {}, (), asked=(name,))
        for target, reason in reasons.items():
            builds.emit(Event("rebuild", target, detail=reason))
        builds.submit(the_plan, set(reasons))
        return None


def _watch(
    request: WatchRequest,
    views: RunViews,
    stop_event: threading.Event | None,
    current: Snapshot,
    asked: RebuildsAsked,
) -> int:
    import watchfiles

    from buildgraph.preflight.gaps import check_builder
    from buildgraph.runner.probe import gather

    emit = views.emit
    gc_policy.resume_for_a_long_run()
    # The builder is checked once, as `build` checks it: a gap stops watch (exit 3) too.
    facts = gather(request.options.builder)
    for gap in check_builder(current.plan, facts, current.loaded.graph.dockerfiles):
        emit(Event("note", detail=f"{gap.problem}; {gap.fix}"))
    # What the probe found serves every rebuild: none asks buildx its version again.
    found = replace(request.options, driver=facts.driver, buildx_version=facts.buildx_version)
    request = replace(request, options=found)
    builds = Builds(request, emit)
    asked.builds, asked.plan = builds, current.plan
    if request.build_first:
        builds.submit(current.plan, {p.name for p in current.plan.targets})
    stop = stop_event or threading.Event()
    ignore = watchfiles.DefaultFilter(
        ignore_dirs=(*watchfiles.DefaultFilter.ignore_dirs, STATE_DIR_NAME)
    )
    try:
        while not stop.is_set():
            roots = [*current.index.watch_paths(), *current.loaded.project.source_files]
            emit(
                Event(
                    "note",
                    detail=f"watching {len(roots)} path(s) for "
                    f"{len(current.plan.targets)} target(s)",
                )
            )
            for changes in watchfiles.watch(
                *roots,
                watch_filter=ignore,
                debounce=request.debounce_ms,
                step=request.step_ms,
                stop_event=stop,
                raise_interrupt=True,
            ):
                seen = time.time()
                paths = sorted({Path(p) for _, p in changes})
                emit(
                    Event(
                        "change",
                        detail=", ".join(map(str, paths[:5])),
                        data={"paths": [str(p) for p in paths], "seen": seen},
                    )
                )
                replanned = _replan_if_needed(request, current, paths, emit)
                redefined: set[str] = set()
                if replanned is not None:
                    redefined = changed_targets(current.plan, replanned.plan)
                    roots_changed = replanned.index.watch_paths() != current.index.watch_paths()
                    current = replanned
                    views.replan(current.plan)
                    asked.plan = current.plan
                else:
                    roots_changed = False
                touched: dict[str, list[str]] = {}
                for path in paths:
                    for name in current.index.targets_for(path):
                        touched.setdefault(name, []).append(_shown(path, current))
                reasons = rebuild_reasons(current.plan, touched, redefined)
                for name, reason in reasons.items():
                    emit(Event("rebuild", name, detail=reason))
                if reasons:
                    builds.submit(current.plan, set(reasons))
                elif replanned is None:
                    emit(Event("note", detail="no target uses what changed"))
                if roots_changed:
                    break  # watch the new set of paths
    except KeyboardInterrupt:
        builds.stop()
        return 130
    builds.stop()
    return 0


def _replan_if_needed(
    request: WatchRequest, current: Snapshot, paths: list[Path], emit: Emit
) -> Snapshot | None:
    sources = current.loaded.project.source_files
    if not any(p in sources or Path(_normal(p)) in current.plan_files for p in paths):
        return None
    try:
        fresh = snapshot(request)
    except BuildgraphError as exc:
        emit(Event("error", detail=str(exc), data={"keeping": "the last good plan"}))
        return None
    emit(Event("plan", detail=f"re-planned: {len(fresh.plan.targets)} target(s)"))
    return fresh
