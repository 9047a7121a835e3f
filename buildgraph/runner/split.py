"""`build --split-platforms`: each platform of a target is its own build (on the builder
`[project.builders]` names for that platform, e.g. a native arm64 node), pushed by digest;
`docker buildx imagetools create` then joins the digests under the target's tags, giving
the same manifest list one multi-platform build gives.

A dependency reaches the same platform of its dependents by digest: the registry for a
tagged target, a per-platform OCI layout for an untagged one. The scheduler runs the units
(one a platform); this module says what each runs and what a target's units add up to.

With `--platform P` (`options.share`, plan.platform_share) a CI runner builds its share:
platform P of each target, pushed by digest and not joined; the digests go to the
`--digests-out` file (plan.digests), from which `buildgraph join` (runner.join) makes the
tags once every runner is done.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.atomic_write import write_atomic
from buildgraph.errors import ConfigError, Problem
from buildgraph.locations import state_dir
from buildgraph.model.image_refs import repository
from buildgraph.plan.digests import TargetDigests, encode
from buildgraph.plan.plan import OutputMode, Plan, PlannedTarget, exports_nothing
from buildgraph.plan.platform_share import LOCAL, platform_read, pushed_under_tags, units_of
from buildgraph.render.bake_target import Rebaser
from buildgraph.render.buildx_build import build_command
from buildgraph.report.events import TargetResult
from buildgraph.runner.buildx_results import image_digest, last_error_line, read_metadata_file
from buildgraph.runner.results import RunResults
from buildgraph.runner.scheduler import Launch, schedule

if TYPE_CHECKING:
    from buildgraph.report.events import Emit
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter

IMAGETOOLS_TIMEOUT = 120.0


def platform_tag(tag: str, platform: str) -> str:
    """`repo:1.0` for linux/arm64 -> `repo:1.0-linux-arm64`."""
    name = repository(tag)
    version = tag[len(name) + 1 :] or "latest"
    return f"{name}:{version}-{platform.replace('/', '-')}"


def check_splittable(plan: Plan) -> None:
    """Split builds meet in a registry: they need --push, and tags or no output at all."""
    if plan.mode is not OutputMode.PUSH:
        raise ConfigError.one(
            "--split-platforms joins per-platform builds in a registry, so it needs --push",
            file=plan.project.file,
            hint="add --push (a registry such as localhost:5000 will do)",
        )
    # A dependency nobody asked for is built cache-only, its own `output` unused.
    problems = [
        Problem(
            "--split-platforms cannot honour a target's own `output`",
            plan.project.file,
            p.target.declared_as,
            "output",
            hint="build it without --split-platforms",
        )
        for p in plan.targets
        if p.target.outputs and (p.requested or not exports_nothing(p.outputs))
    ]
    if problems:
        raise ConfigError(*problems)


def _is_builder_flag(argv: Sequence[str], i: int) -> bool:
    """Whether argv[i] is buildx's `--builder` or its value."""
    return argv[i] == "--builder" or (i > 0 and argv[i - 1] == "--builder")


def _slug(platform: str) -> str:
    return platform.replace("/", "-")


class SplitPlatforms:
    """The scheduler's `Way` for split builds: one unit per platform, named after it."""

    def __init__(self, plan: Plan, options: BuildOptions, starter: ProcessStarter) -> None:
        self.plan = plan
        self.options = options
        self.starter = starter
        self.root = plan.project.root
        self.state = state_dir(self.root)
        self.rebaser = Rebaser(plan.project, self.root)
        self.oci = self.state / "oci"
        self.platform_digests: dict[tuple[str, str], str] = {}
        self.unit_failed: dict[str, str] = {}
        self.retried: set[tuple[str, str]] = set()
        self.drivers: dict[str, str | None] = {}

    def platforms(self, planned: PlannedTarget) -> tuple[str, ...]:
        share = self.options.share
        return units_of(planned) if share is None else share.builds[planned.name]

    def describe(self, planned: PlannedTarget) -> str | None:
        return "split: " + ", ".join(self.platforms(planned))

    def pushed(self, planned: PlannedTarget) -> bool:
        """Whether the target goes to the registry: tagged and asked for, and with
        --platform pushed by this runner (else built here only for a dependent)."""
        share = self.options.share
        in_share = share is None or planned.name in share.pushes
        return in_share and pushed_under_tags(planned)

    def by_digest(self, platform: str) -> bool:
        """buildx refuses push-by-digest on the docker driver: there each platform is
        pushed under a tag of its own (<tag>-<os>-<arch>) and joined by digest all the same.
        A builder `[project.builders]` names is asked its driver (unknown: by digest)."""
        builder = self.plan.project.builders.get(platform)
        if builder is None:
            return self.options.driver not in (None, "docker")
        return self.named_driver(builder) != "docker"

    def named_driver(self, builder: str) -> str | None:
        if builder not in self.drivers:
            self.drivers[builder] = self.driver_of(builder)
        return self.drivers[builder]

    def driver_of(self, builder: str) -> str | None:
        """The driver `docker buildx inspect` names for `builder`, or None."""
        inspected = self.starter.capture(
            ["docker", "buildx", "inspect", builder], timeout=IMAGETOOLS_TIMEOUT
        )
        found = re.search(r"^Driver:\s*(\S+)", inspected.output, re.M)
        return found[1] if inspected.code == 0 and found else None

    def layout(self, name: str, platform: str) -> str:
        return str(self.oci / f"{name}-{_slug(platform)}")

    def metadata_file(self, name: str, platform: str) -> Path:
        return self.state / "metadata" / f"{name}-{_slug(platform)}.json"

    def launches(self, planned: PlannedTarget) -> dict[str, Launch]:
        return {p: self.launch(planned, p) for p in self.platforms(planned)}

    def launch(self, planned: PlannedTarget, platform: str) -> Launch:
        """The build of one platform of `planned`."""
        name = planned.name
        metadata = self.metadata_file(name, platform)
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.unlink(missing_ok=True)
        pushed = self.pushed(planned)
        if pushed and self.by_digest(platform):
            output = (
                f"type=image,name={repository(planned.target.tags[0])},"
                "push-by-digest=true,name-canonical=true,push=true"
            )
        elif pushed:
            output = f"type=image,name={platform_tag(planned.target.tags[0], platform)},push=true"
        else:
            shutil.rmtree(self.layout(name, platform), ignore_errors=True)
            output = f"type=oci,dest={self.layout(name, platform)},tar=false"
        command = build_command(
            planned,
            self.rebaser,
            False,
            str(self.oci),
            self.unit_links(planned, platform),
            str(metadata),
            platform=None if platform == LOCAL else platform,
            outputs=[output],
            builder=self.plan.project.builders.get(platform) or self.options.builder,
            progress=self.options.progress or "plain",
        )
        log = self.state / "logs" / f"{name}-{_slug(platform)}.log"
        named = self.plan.project.builders.get(platform)
        argv = command.argv
        if named is not None and self.named_driver(named) == "docker":
            # The docker driver of another docker context is refused by `--builder`
            # ("use docker --context=... buildx"): it is reached through that context.
            rest = [a for i, a in enumerate(argv[2:]) if not _is_builder_flag(argv[2:], i)]
            argv = ("docker", "--context", named, "buildx", *rest)
        return Launch(tuple(argv), log, command.stdin)

    def unit_links(self, planned: PlannedTarget, platform: str) -> dict[str, str]:
        contexts = {}
        for ref, dep in planned.links.items():
            dependency = self.plan[dep]
            theirs = platform_read(dependency, platform)
            digest = self.platform_digests.get((dep, theirs), "")
            if self.pushed(dependency):
                contexts[ref] = f"docker-image://{repository(dependency.target.tags[0])}@{digest}"
            else:
                contexts[ref] = f"oci-layout://{self.layout(dep, theirs)}@{digest}"
        return contexts

    def unit_ended(self, planned: PlannedTarget, unit: str, code: int, log: Path) -> Launch | None:
        """One platform of a target finished: keep its digest, or why it failed."""
        name, platform = planned.name, unit
        digest = image_digest(read_metadata_file(self.metadata_file(name, platform)))
        error = last_error_line(log) if code else None
        if error and "500 Internal Server Error" in error and (name, platform) not in self.retried:
            # Platforms of one target push to one repository at once; a registry storing
            # tag links non-atomically may answer 500. One retry settles it.
            self.retried.add((name, platform))
            return self.launch(planned, platform)
        if code == 0 and digest:
            self.platform_digests[(name, platform)] = digest
        else:
            self.unit_failed[name] = f"{platform}: {error}"
        return None

    def outcome(self, planned: PlannedTarget, started: float) -> TargetResult:
        name, platforms = planned.name, planned.target.platforms
        if name in self.unit_failed:
            seconds = time.monotonic() - started
            return TargetResult(name, platforms, "failed", seconds, detail=self.unit_failed[name])
        if not self.pushed(planned):
            return TargetResult(name, platforms, "done", time.monotonic() - started)
        if self.options.share is not None:
            return self.pushed_by_digest(planned, started)
        code, output, digest = self.join(planned)
        return TargetResult(
            name,
            platforms,
            "done" if code == 0 else "failed",
            time.monotonic() - started,
            digest,
            None if code == 0 else output.strip()[-300:],
        )

    def pushed_by_digest(self, planned: PlannedTarget, started: float) -> TargetResult:
        """A target of this runner's share: pushed by digest, tags left to the join."""
        recorded = self.recorded(planned)
        only = next(iter(recorded.values())) if len(recorded) == 1 else None
        pushed = ", ".join(f"{p} {d}" for p, d in recorded.items())
        return TargetResult(
            planned.name,
            planned.target.platforms,
            "done",
            time.monotonic() - started,
            only,
            f"pushed by digest ({pushed}); `buildgraph join` makes the tags",
        )

    def recorded(self, planned: PlannedTarget) -> dict[str, str]:
        """The digests of `planned` this runner's digests file records."""
        share = self.options.share
        mine = share.recorded(planned.name) if share is not None else self.platforms(planned)
        found = ((p, self.platform_digests.get((planned.name, p))) for p in mine)
        return {p: d for p, d in found if d}

    def digests_file(self, results: list[TargetResult]) -> str:
        """The --digests-out file: each target this runner pushed and finished."""
        done = {r.name for r in results if r.status == "done"}
        targets = {}
        for planned in self.plan.targets:
            recorded = self.recorded(planned) if planned.name in done else {}
            if recorded and self.pushed(planned):
                targets[planned.name] = TargetDigests(
                    repository(planned.target.tags[0]),
                    planned.target.tags,
                    units_of(planned),
                    recorded,
                )
        share = self.options.share
        return encode(share.platforms if share is not None else (), targets)

    def join(self, planned: PlannedTarget) -> tuple[int, str, str | None]:
        """imagetools create: the per-platform digests under every tag of the target."""
        name = repository(planned.target.tags[0])
        sources = [
            f"{name}@{self.platform_digests[(planned.name, p)]}" for p in self.platforms(planned)
        ]
        return join_digests(self.starter, planned.target.tags, sources)


def join_digests(
    starter: ProcessStarter, tags: Sequence[str], sources: Sequence[str]
) -> tuple[int, str, str | None]:
    """imagetools create of `sources` (repository@digest) under `tags`: its exit code,
    output, and the digest of the manifest list made."""
    flags = [part for tag in tags for part in ("--tag", tag)]
    created = starter.capture(
        ["docker", "buildx", "imagetools", "create", *flags, *sources],
        timeout=IMAGETOOLS_TIMEOUT,
    )
    if created.code != 0:
        return created.code, created.output, None
    raw = starter.capture(
        ["docker", "buildx", "imagetools", "inspect", "--raw", tags[0]],
        timeout=IMAGETOOLS_TIMEOUT,
    )
    # The digest of the manifest list is the hash of its bytes, as the registry has them.
    digest = "sha256:" + hashlib.sha256(raw.output.encode()).hexdigest() if raw.code == 0 else None
    return 0, created.output, digest


def run_split(
    plan: Plan, options: BuildOptions, emit: Emit, starter: ProcessStarter
) -> list[TargetResult]:
    """Build every platform of every target apart, then join each target's platforms."""
    check_splittable(plan)
    results = RunResults(plan, options, emit)
    way = SplitPlatforms(plan, options, starter)
    if options.digests_out is None:
        return schedule(plan, options, results, way, starter)
    try:
        return schedule(plan, options, results, way, starter)
    finally:
        # Also after a failure or Ctrl-C: what was pushed is recorded; the join tells a
        # target some platform of which is missing.
        options.digests_out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(options.digests_out, way.digests_file(results.ordered()))
