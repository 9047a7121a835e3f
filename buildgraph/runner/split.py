"""`build --split-platforms`: each platform of a target is its own build (on the builder
`[project.builders]` names for that platform, e.g. a native arm64 node), pushed by digest;
`docker buildx imagetools create` then joins the digests under the target's tags, giving
the same manifest list one multi-platform build gives.

A dependency reaches the same platform of its dependents by digest: the registry for a
tagged target, a per-platform OCI layout for an untagged one.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time

from buildgraph.errors import ConfigError, Problem
from buildgraph.plan.plan import OutputMode, Plan, PlannedTarget
from buildgraph.render.buildx_build import build_command
from buildgraph.report.events import Emit, Event, TargetResult
from buildgraph.runner.execute import (
    BuildOptions,
    _CommandRunner,
    _digest,
    _read_json,
    _repository,
    last_error,
)
from buildgraph.runner.process import Running, run_quietly


def platform_tag(tag: str, platform: str) -> str:
    """`repo:1.0` for linux/arm64 -> `repo:1.0-linux-arm64`."""
    repository = _repository(tag)
    version = tag[len(repository) + 1 :] or "latest"
    return f"{repository}:{version}-{platform.replace('/', '-')}"


def check_splittable(plan: Plan) -> None:
    """Split builds meet in a registry: they need --push, and tags or no output at all."""
    if plan.mode is not OutputMode.PUSH:
        raise ConfigError.one(
            "--split-platforms joins per-platform builds in a registry, so it needs --push",
            file=plan.project.file,
            hint="add --push (a registry such as localhost:5000 will do)",
        )
    problems = [
        Problem(
            "--split-platforms cannot honour a target's own `output`",
            plan.project.file,
            p.target.declared_as,
            "output",
            hint="build it without --split-platforms",
        )
        for p in plan.targets
        if p.target.outputs
    ]
    if problems:
        raise ConfigError(*problems)


class SplitRunner(_CommandRunner):
    """Units are (target, platform); a target is done when its manifest list is made."""

    def __init__(self, plan: Plan, options: BuildOptions, emit: Emit) -> None:
        super().__init__(plan, options, emit)
        self.platform_digests: dict[tuple[str, str], str] = {}
        self.left: dict[str, set[str]] = {}
        self.started_at: dict[str, float] = {}
        self.unit_failed: dict[str, str] = {}
        self.retried: set[str] = set()

    def run(self) -> list[TargetResult]:
        check_splittable(self.plan)
        return super().run()

    def start(self, planned: PlannedTarget) -> None:
        platforms = planned.target.platforms or ("local",)
        self.left[planned.name] = set(platforms)
        self.started_at[planned.name] = time.monotonic()
        self.emit(Event("started", planned.name, detail="split: " + ", ".join(platforms)))
        for platform in platforms:
            self.start_unit(planned, platform)

    def by_digest(self, platform: str) -> bool:
        """buildx refuses push-by-digest on the docker driver: there each platform is
        pushed under a tag of its own (<tag>-<os>-<arch>) and joined by digest all the same."""
        builder = self.plan.project.builders.get(platform)
        return builder is not None or self.options.driver not in (None, "docker")

    def unit_key(self, name: str, platform: str) -> str:
        return f"{name}@{platform}"

    def layout(self, name: str, platform: str) -> str:
        return str(self.oci / f"{name}-{platform.replace('/', '-')}")

    def start_unit(self, planned: PlannedTarget, platform: str) -> None:
        name = planned.name
        key = self.unit_key(name, platform)
        metadata = self.state / "metadata" / f"{name}-{platform.replace('/', '-')}.json"
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.unlink(missing_ok=True)
        if planned.target.tags and self.by_digest(platform):
            repository = _repository(planned.target.tags[0])
            output = (
                f"type=image,name={repository},push-by-digest=true,name-canonical=true,push=true"
            )
        elif planned.target.tags:
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
            platform=None if platform == "local" else platform,
            outputs=[output],
        )
        builder = self.plan.project.builders.get(platform) or self.options.builder
        argv = list(command.argv)
        argv[2:3] = [*(["--builder", builder] if builder else []), "build", *self.progress_flag()]
        log = self.state / "logs" / f"{name}-{platform.replace('/', '-')}.log"
        process = Running(argv, self.root, log, command.stdin, None)
        self.running[key] = (process, time.monotonic(), planned)
        threading.Thread(target=self._wait, args=(key, process), daemon=True).start()

    def unit_links(self, planned: PlannedTarget, platform: str) -> dict[str, str]:
        contexts = {}
        for ref, dep in planned.links.items():
            dependency = self.plan[dep]
            # A dependency built for one platform only serves every platform of ours.
            theirs = (
                platform
                if platform in dependency.target.platforms
                else (dependency.target.platforms[0] if dependency.target.platforms else "local")
            )
            digest = self.platform_digests.get((dep, theirs), "")
            if dependency.target.tags:
                contexts[ref] = f"docker-image://{_repository(dependency.target.tags[0])}@{digest}"
            else:
                contexts[ref] = f"oci-layout://{self.layout(dep, theirs)}@{digest}"
        return contexts

    def collect(self, key: str) -> None:
        """A unit (one platform of a target) finished."""
        process, _, planned = self.running.pop(key)
        name, platform = key.split("@", 1)
        code = process.wait()
        metadata = self.state / "metadata" / f"{name}-{platform.replace('/', '-')}.json"
        digest = _digest(_read_json(metadata))
        error = last_error(process.log) if code else None
        if error and "500 Internal Server Error" in error and key not in self.retried:
            # Platforms of one target push to one repository at once; a registry storing
            # tag links non-atomically may answer 500. One retry settles it.
            self.retried.add(key)
            self.start_unit(planned, platform)
            return
        if code == 0 and digest:
            self.platform_digests[(name, platform)] = digest
        else:
            self.unit_failed[name] = f"{platform}: {error}"
        self.left[name].discard(platform)
        if not self.left[name]:
            self.finish_target(planned)

    def finish_target(self, planned: PlannedTarget) -> None:
        name = planned.name
        seconds = time.monotonic() - self.started_at[name]
        if name in self.unit_failed:
            self.finish(
                planned,
                TargetResult(
                    name, planned.target.platforms, "failed", seconds, detail=self.unit_failed[name]
                ),
            )
            return
        if not planned.target.tags:
            self.finish(planned, TargetResult(name, planned.target.platforms, "done", seconds))
            return
        code, output, digest = self.join(planned)
        status = "done" if code == 0 else "failed"
        self.finish(
            planned,
            TargetResult(
                name,
                planned.target.platforms,
                status,
                time.monotonic() - self.started_at[name],
                digest,
                None if code == 0 else output.strip()[-300:],
            ),
        )

    def join(self, planned: PlannedTarget) -> tuple[int, str, str | None]:
        """imagetools create: the per-platform digests under every tag of the target."""
        repository = _repository(planned.target.tags[0])
        sources = [
            f"{repository}@{self.platform_digests[(planned.name, p)]}"
            for p in planned.target.platforms or ("local",)
        ]
        tags = [part for tag in planned.target.tags for part in ("--tag", tag)]
        code, output = run_quietly(["docker", "buildx", "imagetools", "create", *tags, *sources])
        if code != 0:
            return code, output, None
        raw_code, raw = run_quietly(
            ["docker", "buildx", "imagetools", "inspect", "--raw", planned.target.tags[0]]
        )
        digest = "sha256:" + hashlib.sha256(raw.encode()).hexdigest() if raw_code == 0 else None
        return 0, output, digest
