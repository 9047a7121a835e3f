"""What the probe found about the machine and its builder, and what that says about a
platform: native, or emulated under QEMU. Pure data; `runner.probe` gathers it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

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


def arch_of(platform: str) -> str:
    parts = platform.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def qemu_name(platform: str) -> str:
    return QEMU_NAMES.get(arch_of(platform), arch_of(platform))


def is_native(platform: str, facts: Facts) -> bool:
    if platform == "local":
        return True
    return arch_of(platform) in NATIVE.get(facts.machine, {facts.machine})
