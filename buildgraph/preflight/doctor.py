"""`buildgraph doctor`: what the plan of NAMES needs of this machine, checked item by item,
each gap with its fix; and the emulation lint: which Dockerfile stages will RUN under QEMU,
with the cross-compilation pattern that avoids it. Pure over the probe's facts."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from buildgraph.model.entries import pushes_to_registry
from buildgraph.model.image_refs import registry_host
from buildgraph.preflight.facts import Facts, is_native
from buildgraph.preflight.gaps import Gap, emulated_stages, plan_gaps
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME

if TYPE_CHECKING:
    from buildgraph.dockerfiles.dockerfile import DockerfileInfo
    from buildgraph.plan.plan import Plan

CROSS_COMPILE_HINT = (
    "build on the builder's own platform and cross-compile: "
    "FROM --platform=$BUILDPLATFORM <toolchain> AS build, then use TARGETOS/TARGETARCH "
    "(e.g. GOOS=$TARGETOS GOARCH=$TARGETARCH), and COPY --from=build into the final stage"
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    blocking: bool = True


@dataclass(frozen=True, slots=True)
class Emulated:
    """A target whose steps run under QEMU for a platform: the lint's finding."""

    target: str
    platform: str
    run_lines: tuple[int, ...]
    suggestion: str = CROSS_COMPILE_HINT


def version_tuple(text: str | None) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in (text or "").split("."))
    except ValueError:
        return ()


def emulation_lint(
    plan: Plan, facts: Facts, dockerfiles: Mapping[str, DockerfileInfo]
) -> list[Emulated]:
    findings = []
    for planned in plan.targets:
        lines = emulated_stages(dockerfiles.get(planned.name))
        for platform in planned.target.platforms:
            if lines and not is_native(platform, facts):
                findings.append(Emulated(planned.name, platform, tuple(lines)))
    return findings


def newer_attributes(plan: Plan, facts: Facts) -> dict[str, list[str]]:
    """Attribute -> targets using it, for attributes the installed buildx does not know."""
    have = version_tuple(facts.buildx_version)
    found: dict[str, list[str]] = {}
    for planned in plan.targets:
        for key in planned.target.attrs:
            attribute = ATTRIBUTES_BY_NAME.get(key)
            needed = version_tuple(attribute.min_buildx if attribute else None)
            if have and needed and needed > have:
                found.setdefault(key, []).append(planned.name)
    return found


def checks(
    plan: Plan,
    facts: Facts,
    dockerfiles: Mapping[str, DockerfileInfo],
    registries: Mapping[str, str | None],
) -> list[Check]:
    """Every check, passed or not. `registries`: host -> None if it answered, else why."""
    result = []  # what is missing comes from plan_gaps, with its fix
    if facts.docker is not None:
        result.append(Check("docker CLI", True, facts.docker))
    if facts.buildx_version is not None:
        result.append(Check("buildx plugin", True, f"buildx {facts.buildx_version}"))
    if facts.driver is not None:
        platforms = ", ".join(facts.builder_platforms) or "none listed"
        result.append(
            Check(
                "builder", True, f"{facts.builder} ({facts.driver} driver), platforms: {platforms}"
            )
        )
    for gap in plan_gaps(plan, facts, dockerfiles):
        result.append(_check_of(gap))
    needed = sorted({p for planned in plan.targets for p in planned.target.platforms})
    for platform in needed:
        if is_native(platform, facts):
            result.append(Check(f"platform {platform}", True, "native"))
        elif not any(platform in c.detail for c in result if not c.ok):
            result.append(Check(f"platform {platform}", True, "emulated: QEMU is registered"))
    for host, problem in sorted(registries.items()):
        result.append(
            Check(
                f"registry {host}",
                problem is None,
                "answers" if problem is None else problem,
                None
                if problem is None
                else f"start the registry or check the name and your login (docker login {host})",
            )
        )
    for key, users in newer_attributes(plan, facts).items():
        needed_version = ATTRIBUTES_BY_NAME[key].min_buildx
        result.append(
            Check(
                f"attribute {key}",
                False,
                f"used by {', '.join(users)}; buildx {facts.buildx_version} ignores it silently",
                f"install buildx {needed_version} or newer",
                blocking=False,
            )
        )
    return result


def _check_of(gap: Gap) -> Check:
    return Check(gap.check, False, gap.problem, gap.fix, gap.blocking)


def push_registries(plan: Plan, only: Set[str] | None = None) -> list[str]:
    """Registry hosts the plan's pushes go to (of the targets named in `only`, if given)."""
    return sorted(
        {
            registry_host(tag)
            for planned in plan.targets
            if pushes_to_registry(planned.outputs) and (only is None or planned.name in only)
            for tag in planned.target.tags
        }
    )


def exit_code(found: list[Check]) -> int:
    """`doctor`'s exit code: 3 (environment) when a blocking check failed, else 0."""
    from buildgraph.errors import EXIT_ENVIRONMENT, EXIT_OK

    return EXIT_ENVIRONMENT if any(not c.ok and c.blocking for c in found) else EXIT_OK
