from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.dockerfiles.dockerfile import parse_dockerfile
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import OutputMode, Plan, make_plan
from buildgraph.preflight.facts import Facts
from buildgraph.preflight.gaps import emulated_stages, plan_gaps, tool_gaps
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project
from tests.conftest import HEALTHY_X86

FILE = Path("/p/buildgraph.toml")
TOML = """
[project]
platforms = ["linux/amd64", "linux/arm64"]
[target.app]
tags = ["r/app:1"]
[target.assets]
tags = ["r/assets:1"]
"""
RUNS = "FROM scratch\nRUN true\n"
CROSS = "FROM --platform=$BUILDPLATFORM golang AS build\nRUN go build\nFROM scratch\nCOPY --from=build /a /a\n"
HEALTHY = HEALTHY_X86


def planned(
    mode: OutputMode = OutputMode.DEFAULT, dockerfiles: dict[str, str] | None = None
) -> tuple[Plan, dict]:  # type: ignore[type-arg]
    project = resolve_project(parse_document(TOML, FILE), {}, {})
    infos = {k: parse_dockerfile(v) for k, v in (dockerfiles or {}).items()}
    graph = build_graph(project, infos)
    return make_plan(graph, [], mode), infos


def problems(
    facts: Facts, mode: OutputMode = OutputMode.DEFAULT, dockerfiles: dict[str, str] | None = None
) -> list[str]:
    plan, infos = planned(mode, dockerfiles)
    return [g.problem for g in plan_gaps(plan, facts, infos) if g.blocking]


def test_a_healthy_builder_has_no_gaps() -> None:
    assert problems(HEALTHY, OutputMode.LOAD, {"app": RUNS, "assets": RUNS}) == []


def test_missing_qemu_names_the_platform_and_the_targets_that_run_steps() -> None:
    facts = Facts(
        **{
            "docker": "/usr/bin/docker",
            "buildx_version": "0.13.1",
            "driver": "docker",
            "containerd_store": True,
            "binfmt": {"aarch64": False},
            "machine": "x86_64",
        }
    )
    found = problems(facts, dockerfiles={"app": RUNS, "assets": "FROM scratch\nCOPY . /\n"})
    assert len(found) == 1
    assert "linux/arm64 needs QEMU" in found[0] and "exec format error" in found[0]
    assert "app" in found[0] and "assets" not in found[0]  # nothing RUNs in assets


def test_cross_compiling_dockerfiles_need_no_emulator() -> None:
    facts = Facts(docker="d", buildx_version="0.13.1", driver="docker", binfmt={}, machine="x86_64")
    assert problems(facts, dockerfiles={"app": CROSS, "assets": CROSS}) == []
    assert emulated_stages(parse_dockerfile(CROSS)) == []
    assert emulated_stages(parse_dockerfile(RUNS)) == [2]


def test_on_an_arm64_host_amd64_is_the_emulated_one() -> None:
    facts = Facts(
        docker="d", buildx_version="0.13.1", driver="docker", binfmt={}, machine="aarch64"
    )
    [problem] = problems(facts, dockerfiles={"app": RUNS, "assets": RUNS})
    assert problem.startswith("linux/amd64 needs QEMU")


@pytest.mark.parametrize(
    ("driver", "store", "refused"),
    [("docker", True, False), ("docker", False, True), ("docker-container", None, True)],
)
def test_multi_platform_load_needs_a_store_that_holds_it(
    driver: str, store: bool | None, refused: bool
) -> None:
    facts = Facts(
        docker="d",
        buildx_version="0.13.1",
        driver=driver,
        containerd_store=store,
        binfmt={"aarch64": True},
        machine="x86_64",
    )
    found = problems(facts, OutputMode.LOAD)
    assert bool(found) is refused
    if refused:
        assert "--load of several platforms" in found[0]


def test_missing_tools_come_first_with_their_install_hints() -> None:
    [gap] = tool_gaps(Facts())
    assert "docker CLI is not installed" in gap.problem
    [gap] = tool_gaps(Facts(docker="/usr/bin/docker"))
    assert "buildx plugin is missing" in gap.problem and "apk add docker-cli-buildx" in gap.fix
    [gap] = tool_gaps(Facts(docker="d", buildx_version="0.13.1"))
    assert "docker buildx create --use" in gap.fix


def test_docker_container_driver_without_output_is_said_not_refused() -> None:
    facts = Facts(
        docker="d",
        buildx_version="0.13.1",
        driver="docker-container",
        binfmt={"aarch64": True},
        machine="x86_64",
    )
    plan, infos = planned()
    gaps = plan_gaps(plan, facts, infos)
    assert [g.blocking for g in gaps] == [False]
    assert "No output specified" in gaps[0].problem
