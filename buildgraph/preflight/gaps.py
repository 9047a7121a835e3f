"""What a plan needs of the builder that it lacks: pure checks over the facts that
`runner.probe` gathers.

Each gap is one line with its fix for the usual setups, so the failures people meet
late (`exec format error`, "docker exporter does not support exporting manifest lists",
results kept only in a cache) are said before anything is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buildgraph.errors import EnvironmentProblem
from buildgraph.plan.plan import OutputMode, Plan
from buildgraph.preflight.facts import Facts, arch_of, is_native, qemu_name

if TYPE_CHECKING:
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo

BUILD_PLATFORM_ARGS = ("$BUILDPLATFORM", "${BUILDPLATFORM}")


@dataclass(frozen=True, slots=True)
class Gap:
    check: str  # the doctor check it fails: "docker CLI", "emulation", ...
    problem: str
    fix: str
    blocking: bool = True  # False: worth saying, not worth refusing to build


def emulated_stages(info: DockerfileInfo | None) -> list[int]:
    """Lines of RUN steps that run on the target platform (so under QEMU when it is not
    native); a stage FROM --platform=$BUILDPLATFORM runs natively and cross-compiles."""
    if info is None:
        return []
    return [
        line
        for stage in info.stages
        if stage.platform not in BUILD_PLATFORM_ARGS
        for line in stage.run_lines
    ]


def tool_gaps(facts: Facts) -> list[Gap]:
    gaps = []
    if facts.docker is None:
        gaps.append(
            Gap(
                "docker CLI",
                "the docker CLI is not installed",
                "Debian/Ubuntu: apt-get install docker.io (or docker-ce-cli); Alpine: apk add "
                "docker-cli; macOS/Windows: install Docker Desktop",
            )
        )
        return gaps
    if facts.buildx_version is None:
        gaps.append(
            Gap(
                "buildx plugin",
                "the buildx plugin is missing (`docker: 'buildx' is not a docker command`)"
                + (f": {facts.buildx_error}" if facts.buildx_error else ""),
                "Debian/Ubuntu: apt-get install docker-buildx (docker-buildx-plugin from Docker's "
                "repository); Alpine: apk add docker-cli-buildx; Docker Desktop ships it; or copy "
                "the docker-buildx binary to ~/.docker/cli-plugins/",
            )
        )
        return gaps
    if facts.driver is None:
        why = f": {facts.builder_error}" if facts.builder_error else ""
        gaps.append(
            Gap(
                "builder",
                f"no usable buildx builder{why}",
                "start the Docker daemon (dockerd), or create one: docker buildx create --use",
            )
        )
    return gaps


def plan_gaps(
    plan: Plan, facts: Facts, dockerfiles: Mapping[str, DockerfileInfo] | None = None
) -> list[Gap]:
    """What this plan needs that the builder lacks: the tools, QEMU for every emulated
    platform that RUNs something, and a store for multi-platform --load."""
    gaps = tool_gaps(facts)
    if gaps:
        return gaps
    gaps += _emulation_gaps(plan, facts, dockerfiles or {})
    gaps += _load_gaps(plan, facts)
    gaps += _cache_only_gaps(plan, facts)
    return gaps


def _emulation_gaps(
    plan: Plan, facts: Facts, dockerfiles: Mapping[str, DockerfileInfo]
) -> list[Gap]:
    users: dict[str, list[str]] = {}
    for planned in plan.targets:
        info = dockerfiles.get(planned.name)
        if info is not None and not emulated_stages(info):
            continue  # nothing RUNs on the target platform: no emulator needed
        for platform in planned.target.platforms:
            if is_native(platform, facts):
                continue
            if not facts.binfmt.get(qemu_name(platform), False):
                users.setdefault(platform, []).append(planned.name)
    return [
        Gap(
            "emulation",
            f"{platform} needs QEMU, but no binfmt_misc entry for {qemu_name(platform)} "
            f"is enabled: RUN steps of {', '.join(names)} would fail with `exec format error`",
            "Debian/Ubuntu: apt-get install qemu-user-static binfmt-support && "
            "update-binfmts --enable; any Docker host: docker run --privileged --rm "
            f"tonistiigi/binfmt --install {arch_of(platform)}; or build without {platform}",
        )
        for platform, names in users.items()
    ]


def _load_gaps(plan: Plan, facts: Facts) -> list[Gap]:
    if plan.mode is not OutputMode.LOAD:
        return []
    several = [p.name for p in plan.targets if len(p.target.platforms) > 1 and not p.target.outputs]
    if not several:
        return []
    if facts.driver == "docker" and facts.containerd_store:
        return []
    why = (
        "the docker driver without the containerd image store"
        if facts.driver == "docker"
        else f"the {facts.driver} driver"
    )
    return [
        Gap(
            "multi-platform --load",
            f"--load of several platforms ({', '.join(several)}): {why} cannot store a "
            "multi-platform image in the local image store",
            'enable the containerd image store ({"features": {"containerd-snapshotter": true}} '
            "in /etc/docker/daemon.json, or Docker Desktop's setting) and use the docker driver; "
            "or --push to a registry; or build one platform",
        )
    ]


def _cache_only_gaps(plan: Plan, facts: Facts) -> list[Gap]:
    if facts.driver in (None, "docker") or plan.mode is not OutputMode.DEFAULT:
        return []
    silent = [p.name for p in plan.targets if not p.outputs]
    if not silent:
        return []
    return [
        Gap(
            "outputs",
            f"the {facts.driver} driver keeps results without an output only in its build cache "
            f'("No output specified"): {", ".join(silent)}',
            "add --load or --push, or an `output` to those targets",
            blocking=False,
        )
    ]


def check_builder(plan: Plan, facts: Facts, dockerfiles: Mapping[str, DockerfileInfo]) -> list[Gap]:
    """The preflight of build and watch: the gaps between what the plan needs and what
    the builder offers. Blocking ones raise EnvironmentProblem (exit 3) before anything
    is built; the others are returned, to be said."""
    gaps = plan_gaps(plan, facts, dockerfiles)
    blocking = [g for g in gaps if g.blocking]
    if blocking:
        raise EnvironmentProblem(
            "the builder cannot build this plan:\n"
            + "\n".join(f"  - {g.problem}\n    fix: {g.fix}" for g in blocking)
        )
    return gaps
