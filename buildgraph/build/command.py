"""`buildgraph build`: plan, check the builder can do it, run it, report.

The order of the steps lives here; what each does lives in planner, environment and
runner.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only what starts a build at module level: bake is started (runner.bake) before the
# modules that plan, check and report are imported, so that their import overlaps its
# start-up. Each step below imports what it uses.
if TYPE_CHECKING:
    from buildgraph.build.uptodate import CachedPlan
    from buildgraph.build.views import RunViews, UiRequest
    from buildgraph.graph.shards import ShardSpec
    from buildgraph.plan.load import Loaded
    from buildgraph.plan.plan import OutputMode, Plan
    from buildgraph.plan.platform_share import PlatformShare
    from buildgraph.preflight.facts import Facts
    from buildgraph.projectfile.locate import Definition, FileArgument
    from buildgraph.report.events import Emit, TargetResult
    from buildgraph.runner.bake import EarlyBake

REUSED = (
    "plan reused: the project file, Dockerfiles, context folders and variables are as the "
    "last build with these arguments found them"
)


@dataclass(frozen=True, slots=True)
class BuildRequest:
    names: tuple[str, ...] = ()
    push: bool = False
    load: bool = False
    via: str = "bake"
    jobs: int = 4
    keep_going: bool = False
    progress: str | None = None
    builder: str | None = None
    json_events: bool = False
    split_platforms: bool = False
    overrides: tuple[str, ...] = ()  # --set, as given
    since: str | None = None  # --since: only what changed since this git ref
    shard: ShardSpec | None = None  # --shard K/N
    # --rebuild: None builds everything, else these (and their dependents) whatever the
    # registry holds; the default, (), reuses all it can.
    rebuild: tuple[str, ...] | None = ()
    platforms: tuple[str, ...] = ()  # --platform: this runner's platforms, by digest
    digests_out: Path | None = None  # --digests-out: where their digests go
    ui: UiRequest | None = None  # --ui: the page of the build

    @property
    def splits(self) -> bool:
        """One build per platform: --split-platforms, or --platform's share of them."""
        return self.split_platforms or bool(self.platforms)


def run_build(
    file: FileArgument,
    variables: Mapping[str, str],
    request: BuildRequest,
    environ: Mapping[str, str] = os.environ,
) -> int:
    """`buildgraph build`: find the project, plan it (or reuse its plan), check the builder,
    build. With bake, buildx starts first (runner.bake.EarlyBake) and waits for the plan
    on its standard input; whatever stops the build before then stops it too."""
    from buildgraph.locations import ProjectLock
    from buildgraph.projectfile.locate import locate_definition
    from buildgraph.runner.bake import EarlyBake

    definition = locate_definition(file)
    early = None
    lock = None
    # Not beside a file that is not there (planning says so): nothing of ours is made then.
    if all(path.is_file() for path in definition.files):
        lock = ProjectLock(definition.folder)
    if lock is not None and request.via == "bake" and not request.splits:
        with suppress(OSError):  # a folder we cannot write: the runner will say so
            early = EarlyBake(definition.folder, request.builder, request.progress)
    try:
        from buildgraph.runner.probe import gather_cached, kept_facts

        facts = kept_facts(request.builder, environ)
        if facts is not None:
            return build(plan_for(definition, variables, request, environ), request, facts, early)
        from concurrent.futures import ThreadPoolExecutor

        # The probe asks docker while the project is read and planned: both are every
        # build's fixed cost, and they need nothing from each other.
        with ThreadPoolExecutor(max_workers=1) as pool:
            probed = pool.submit(gather_cached, request.builder, environ)
            made = plan_for(definition, variables, request, environ)
            return build(made, request, probed.result(), early)
    finally:
        if early is not None:
            early.stop()
        if lock is not None:
            lock.release()


def plan_for(
    definition: Definition,
    variables: Mapping[str, str],
    request: BuildRequest,
    environ: Mapping[str, str] = os.environ,
) -> CachedPlan:
    """The plan of this build: the one recorded by an earlier build with the same command
    line when nothing it was made from has changed (plancache), else a new one. A bake or
    Compose definition is planned anew each time: bake reads variables from the whole
    environment, so nothing short of its own print tells whether it changed."""
    from buildgraph.build import uptodate
    from buildgraph.plan.plan import OutputMode

    mode = OutputMode.of(request.push, request.load)
    # `--set app.args.NAME` takes NAME from the environment: no recorded plan knows it.
    from_environment = any("=" not in o for o in request.overrides)
    # --since asks git, whose answer no recorded plan knows.
    narrowed = request.since is not None or request.shard is not None
    if definition.of_bake or from_environment or narrowed:
        return _new_plan(definition, variables, request, environ, mode)[0]
    key = uptodate.entry_key(
        definition.file, request.names, mode.value, variables, request.overrides
    )
    cached = uptodate.lookup(key, environ)
    if cached is not None:
        return cached
    from buildgraph.resolve.template_values import IMPURE_CALLS

    started, impure = time.time_ns(), IMPURE_CALLS.count
    made, loaded = _new_plan(definition, variables, request, environ, mode)
    if IMPURE_CALLS.count == impure:  # timestamp(), uuidv4(): another plan next time
        uptodate.record(
            key, made, uptodate.paths_read(loaded.project), loaded.env_names, environ, started
        )
    return made


def _new_plan(
    definition: Definition,
    variables: Mapping[str, str],
    request: BuildRequest,
    environ: Mapping[str, str],
    mode: OutputMode,
) -> tuple[CachedPlan, Loaded]:
    from buildgraph.build.uptodate import CachedPlan
    from buildgraph.plan.load import load, plan

    files = definition.files if definition.of_bake else definition.file
    loaded = load(
        files,
        variables,
        definition.folder,
        environ=environ,
        names=request.names,
        overrides=request.overrides,
    )
    the_plan = plan(loaded, request.names, mode, request.since, request.shard)
    dockerfiles = loaded.graph.dockerfiles
    made = CachedPlan(
        the_plan, {p.name: dockerfiles[p.name] for p in the_plan.targets if p.name in dockerfiles}
    )
    return made, loaded


def build(
    made: CachedPlan, request: BuildRequest, facts: Facts, early: EarlyBake | None = None
) -> int:
    """Check the builder (`facts`, from runner.probe) can do the plan, build it, report."""
    from buildgraph.build.views import RunViews, ViewRequest

    the_plan = made.plan
    share = platform_share_of(the_plan, request)
    views = RunViews(ViewRequest(request.json_events, request.progress, request.ui), the_plan)
    try:
        return _built(made, request, facts, early, share, views)
    finally:
        views.close()


def _built(
    made: CachedPlan,
    request: BuildRequest,
    facts: Facts,
    early: EarlyBake | None,
    share: PlatformShare | None,
    views: RunViews,
) -> int:
    """The build of `made` shown in `views`, reported once they are closed."""
    from buildgraph import gc_policy
    from buildgraph.errors import EXIT_BUILD_FAILED, EXIT_INTERRUPTED, EXIT_OK
    from buildgraph.preflight.gaps import check_builder
    from buildgraph.report.events import SUCCEEDED, Event
    from buildgraph.runner.execute import run_plan
    from buildgraph.runner.options import BuildOptions, Interrupted

    the_plan = made.plan
    emit: Emit = views.emit
    gc_policy.resume_for_a_long_run()  # planned: from here on it waits on builds
    if made.reused:
        emit(Event("note", detail=REUSED))
    for gap in check_builder(the_plan, facts, made.dockerfiles):
        emit(Event("note", detail=f"{gap.problem}; {gap.fix}"))
    if share is not None and share.left_out:
        emit(Event("note", detail=left_out_note(share)))
    for planned in the_plan.targets:
        if share is not None and planned.name not in share.builds:
            continue
        emit(
            Event(
                "queued",
                planned.name,
                detail=planned.output,
                data={"wave": planned.wave, "platforms": list(planned.target.platforms)},
            )
        )
    options = BuildOptions(
        request.via,
        request.jobs,
        request.keep_going,
        request.progress,
        request.builder,
        request.splits,
        facts.driver,
        facts.buildx_version,
        only=None if share is None else frozenset(share.builds),
        share=share,
        digests_out=request.digests_out,
    )
    # A runner's share pushes platforms, not the images fingerprints stand for: the
    # registry is not asked (nor told) about them here.
    reuse = (
        reuse_from_registry(the_plan, request, emit)
        if share is None
        else Reuse(the_plan, the_plan, {}, [])
    )
    try:
        # A share builds (and records) even nothing: the merge job waits for its file.
        wanted = reuse.plan.targets or share is not None
        built = run_plan(reuse.plan, options, emit, early) if wanted else []
    except Interrupted as stop:
        views.close()
        report(reuse.merged(stop.results), the_plan, request, emit)
        return EXIT_INTERRUPTED
    reuse.mark_pushed(built, emit)
    results = reuse.merged(built)
    views.close()
    report(results, the_plan, request, emit)
    if all(r.status in SUCCEEDED for r in results):
        return EXIT_OK
    raise_if_the_builder_went_away(request.builder)
    note_silent_registries(the_plan, results, emit)
    return EXIT_BUILD_FAILED


def platform_share_of(the_plan: Plan, request: BuildRequest) -> PlatformShare | None:
    """With --platform, the share of the plan this runner builds; --platform and
    --digests-out go together (digests nobody records would be tags nobody makes)."""
    from buildgraph.errors import ConfigError

    if bool(request.platforms) != (request.digests_out is not None):
        raise ConfigError.one(
            "--platform and --digests-out go together: a runner's platforms are pushed "
            "by digest only, and the file is what `buildgraph join` makes the tags from",
            hint="e.g. build --push --platform linux/arm64 --digests-out digests-arm64.json",
        )
    if not request.platforms:
        return None
    from buildgraph.plan.platform_share import platform_share

    return platform_share(the_plan, request.platforms)


def left_out_note(share: PlatformShare) -> str:
    names = ", ".join(share.left_out)
    return f"not built here (no {' or '.join(share.platforms)} among their platforms): {names}"


def reuse_from_registry(the_plan: Plan, request: BuildRequest, emit: Emit) -> Reuse:
    """Look each pushing target's fingerprint up in its registry and point the tags of
    those found at what the registry holds (build/reuse.py says which and why); the
    plan of what is left to build. A look-up or tag copy that fails builds the target."""
    from buildgraph.build import reuse
    from buildgraph.report.events import Event, TargetResult

    rebuild = None if request.rebuild is None else frozenset(request.rebuild)
    unknown = sorted((rebuild or frozenset()) - {p.name for p in the_plan.targets})
    if unknown:
        from buildgraph.errors import ConfigError

        raise ConfigError.one(
            f"--rebuild names {', '.join(unknown)}, which the plan does not build",
            file=the_plan.project.file,
            hint="name targets of this build (`buildgraph plan` lists them)",
        )
    if not any(reuse.pushed_refs(p) for p in the_plan.targets):
        return Reuse(the_plan, the_plan, {}, [])
    from buildgraph.changes.fingerprints import target_fingerprints
    from buildgraph.runner import registry

    fingerprints = target_fingerprints(the_plan)
    forced = reuse.forced_builds(the_plan, rebuild)
    wanted = reuse.lookups(the_plan, fingerprints, forced)
    # A no-cache build is never reused, so its fingerprint tag is never written.
    never = frozenset(p.name for p in the_plan.targets if reuse.no_cache(p))
    marks = reuse.lookups(the_plan, fingerprints, never)
    client = registry.Registries()
    held = registry.look_up_all(client, {n: (w.repo, w.tag) for n, w in wanted.items()})
    problems = {n: h.problem for n, h in held.items() if h.problem}
    present = {n: h for n, h in held.items() if h.digest}
    pointed = registry.run_all(
        {
            name: _pointer(client, wanted[name], found, reuse.tag_of)
            for name, found in present.items()
        }
    )
    problems.update(pointed)
    note_unreachable(problems, emit)
    decision = reuse.decide(
        the_plan,
        {n: h.digest for n, h in present.items() if n not in pointed and h.digest},
        wanted,
    )
    results: list[TargetResult] = []
    for planned in the_plan.targets:
        source = decision.reused.get(planned.name)
        if source is not None:
            digest = source.partition("@")[2]
            results.append(
                TargetResult(planned.name, planned.target.platforms, "reused", 0.0, digest, source)
            )
            emit(
                Event(
                    "finished",
                    planned.name,
                    status="reused",
                    detail=source,
                    data={"digest": digest, "reused": source},
                )
            )
        elif planned.name in decision.unneeded:
            detail = "not built: nobody asked for it, and every target needing it was reused"
            results.append(
                TargetResult(planned.name, planned.target.platforms, "unneeded", detail=detail)
            )
            emit(Event("finished", planned.name, status="unneeded", detail=detail))
    return Reuse(reuse.reduced_plan(the_plan, decision), the_plan, marks, results, client)


def _pointer(client: Any, lookup: Any, held: Any, tag_of: Any) -> Any:
    from buildgraph.runner.registry import point_refs

    return lambda: point_refs(client, lookup.repo, held, {r: tag_of(r) for r in lookup.refs})


def registry_states(the_plan: Plan, fingerprints: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """`plan --push`: for each target `build --push` would look up, whether its registry
    holds its fingerprint (`held`, `ref`: repo@digest) or could not say (`problem`).
    One HEAD per target, concurrently, as the build's look-up."""
    from buildgraph.build import reuse
    from buildgraph.runner import registry

    wanted = reuse.lookups(the_plan, fingerprints, reuse.forced_builds(the_plan, frozenset()))
    client = registry.Registries()
    held = registry.look_up_all(client, {n: (w.repo, w.tag) for n, w in wanted.items()}, body=False)
    return {
        name: {
            "held": None if h.problem else h.digest is not None,
            "ref": f"{wanted[name].repo}@{h.digest}" if h.digest else None,
            "problem": h.problem,
        }
        for name, h in held.items()
    }


def note_unreachable(problems: Mapping[str, str], emit: Emit) -> None:
    """One note per registry problem: the targets it makes buildgraph build."""
    from buildgraph.report.events import Event

    by_problem: dict[str, list[str]] = {}
    for name, problem in problems.items():
        by_problem.setdefault(problem, []).append(name)
    for problem, names in by_problem.items():
        emit(Event("note", detail=f"{problem}: building {', '.join(names)} rather than reusing"))


@dataclass(frozen=True, slots=True)
class Reuse:
    """What the registry step left: the plan still to build, the fingerprint tags to
    write after a successful push (`marks`), and the results of what was not built."""

    plan: Plan
    whole: Plan  # the plan before: its order is the summary's
    marks: Mapping[str, Any]  # target -> build.reuse.Lookup of its fingerprint tag
    results: list[TargetResult]
    client: Any = None  # runner.registry.Registries, when anything pushes

    def merged(self, built: list[TargetResult]) -> list[TargetResult]:
        order = {p.name: i for i, p in enumerate(self.whole.targets)}
        return sorted([*self.results, *built], key=lambda r: order.get(r.name, 0))

    def mark_pushed(self, built: list[TargetResult], emit: Emit) -> None:
        """Write the fingerprint tag of each target built and pushed: only now, after
        its whole push succeeded (a push cut short after one tag leaves none of ours),
        by a manifest copy of the digest buildx reported."""
        from buildgraph.report.events import Event
        from buildgraph.runner import registry

        jobs = {}
        for result in built:
            mark = self.marks.get(result.name)
            if mark is None or result.status != "done" or not result.digest:
                continue
            jobs[result.name] = _marker(self.client, mark.repo, mark.tag, result.digest)
        for name, problem in registry.run_all(jobs).items():
            emit(
                Event(
                    "note",
                    detail=f"{problem}: {name}'s fingerprint tag not written, so "
                    "the next build builds it again",
                )
            )


def _marker(client: Any, repo: str, tag: str, digest: str) -> Any:
    def mark() -> None:
        body, media, _ = client.get_manifest(repo, digest)
        client.put_manifest(repo, tag, body, media)

    return mark


def note_silent_registries(the_plan: Plan, results: list[TargetResult], emit: Emit) -> None:
    """Name each registry that does not answer now, of the targets whose build failed
    while pushing to it: their failure is the registry's (it is down, or unreachable)."""
    from buildgraph.preflight.doctor import push_registries
    from buildgraph.report.events import Event
    from buildgraph.runner.probe import registry_problems

    failed = {r.name for r in results if r.status == "failed"}
    hosts = push_registries(the_plan, failed)
    for host, problem in registry_problems(hosts).items():
        if problem is not None:
            names = ", ".join(
                p.name
                for p in the_plan.targets
                if p.name in failed and host in push_registries(the_plan, {p.name})
            )
            emit(
                Event(
                    "note",
                    detail=f"registry {host} does not answer ({problem}): {names} not pushed",
                )
            )


def raise_if_the_builder_went_away(builder: str | None) -> None:
    """A build that failed because its engine stopped (the daemon restarted or died, the
    builder's node went down) is no failure of the project: exit 3, saying so."""
    from buildgraph.errors import EnvironmentProblem
    from buildgraph.runner.probe import builder_silence

    silence = builder_silence(builder)
    if silence is not None:
        raise EnvironmentProblem(
            f"the builder stopped answering during the build ({silence}); the targets not "
            "shown as done were not built. Start it again (`docker buildx inspect` answers "
            "then) and build again: what was done is reused from the build cache"
        )


def report(results: list[TargetResult], the_plan: Plan, request: BuildRequest, emit: Emit) -> None:
    from buildgraph.graph.critical_path import critical_path
    from buildgraph.report.events import Event, summary_table
    from buildgraph.report.style import Style

    # What each target's own build took: reused and skipped ones took nothing here.
    built = {r.name: r.seconds for r in results if r.status in ("done", "failed", "cancelled")}
    critical = critical_path(((p.name, p.needs) for p in the_plan.targets), built)
    if request.json_events:
        emit(
            Event(
                "summary",
                data={
                    "targets": [
                        {
                            "name": r.name,
                            "platforms": list(r.platforms),
                            "status": r.status,
                            "seconds": round(r.seconds, 3),
                            "digest": r.digest,
                            "detail": r.detail,
                            "steps": r.steps,
                            "cached_steps": r.cached_steps,
                            "failed_at": r.failed_at,
                        }
                        for r in results
                    ],
                    "critical_path": {
                        "targets": list(critical.targets),
                        "seconds": round(critical.seconds, 3),
                    },
                },
            )
        )
        return
    print(summary_table(results, Style.for_stream(sys.stderr), critical), file=sys.stderr)
