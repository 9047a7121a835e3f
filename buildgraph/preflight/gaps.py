"""What the machine offers a plan (docker, buildx, the builder, QEMU), and what a plan
needs of it: pure checks over facts that `runner.probe` gathers.

Each gap is one line with its fix for the usual setups, so the failures people meet
late (`exec format error`, "docker exporter does not support exporting manifest lists",
results kept only in a cache) are said before anything is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from buildgraph.dockerfiles.dockerfile import DockerfileInfo
from buildgraph.plan.plan import OutputMode, Plan

# Platform architecture -> the name QEMU's binfmt entry carries (qemu-<name>).
QEMU_NAMES = {
    "amd64": "x86_64",
    "386": "i386",
    "arm64": "aarch64",
    "arm": "arm",
    "riscv64": "riscv64",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "mips64le": "mips64el",
    "mips64": "mips64",
    "loong64": "loongarch64",
}
# Architectures a host runs without emulation.
NATIVE = {"x86_64": {"amd64", "386"}, "aarch64": {"arm64", "arm"}, "arm64": {"arm64", "arm"}}
BUILD_PLATFORM_ARGS = ("$BUILDPLATFORM", "${BUILDPLATFORM}")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the probe found; None where it could not tell."""

    docker: str | None = None  # path of the docker CLI
    buildx_version: str | None = None
    buildx_error: str | None = None
    builder: str | None = None
    driver: str | None = None
    builder_platforms: tuple[str, ...] = ()
    builder_error: str | None = None
    containerd_store: bool | None = None  # the daemon stores images with containerd
    binfmt: Mapping[str, bool] = field(default_factory=dict)  # qemu name -> enabled
    machine: str = field(default_factory=lambda: os.uname().machine)


@dataclass(frozen=True, slots=True)
class Gap:
    problem: str
    fix: str
    blocking: bool = True  # False: worth saying, not worth refusing to build


def arch_of(platform: str) -> str:
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def qemu_name(platform: str) -> str:
    return QEMU_NAMES.get(arch_of(platform), arch_of(platform))


def is_native(platform: str, facts: Facts) -> bool:
    if platform == "local":
        return True
    return arch_of(platform) in NATIVE.get(facts.machine, {facts.machine})


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
                "the docker CLI is not installed",
                "Debian/Ubuntu: apt-get install docker.io (or docker-ce-cli); Alpine: apk add "
                "docker-cli; macOS/Windows: install Docker Desktop",
            )
        )
        return gaps
    if facts.buildx_version is None:
        gaps.append(
            Gap(
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
            f"the {facts.driver} driver keeps results without an output only in its build cache "
            f'("No output specified"): {", ".join(silent)}',
            "add --load or --push, or an `output` to those targets",
            blocking=False,
        )
    ]
