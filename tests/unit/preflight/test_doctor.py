from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.dockerfiles.dockerfile import parse_dockerfile
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import OutputMode, Plan, make_plan
from buildgraph.preflight.doctor import checks, emulation_lint, newer_attributes, push_registries
from buildgraph.preflight.facts import Facts
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project
from tests.conftest import HEALTHY_X86

FILE = Path("/p/buildgraph.toml")
X86 = HEALTHY_X86


def plan_of(toml: str, mode: OutputMode = OutputMode.DEFAULT) -> Plan:
    project = resolve_project(parse_document(toml, FILE), {}, {})
    return make_plan(build_graph(project, {}), [], mode)


TWO = '[project]\nplatforms = ["linux/amd64", "linux/arm64"]\n[target.app]\ntags = ["localhost:5000/a/app:1"]\n'


@pytest.mark.parametrize(
    ("dockerfile", "emulated_lines"),
    [
        ("FROM alpine\nRUN apk add curl\n", (2,)),
        (
            "FROM --platform=$BUILDPLATFORM golang AS build\nRUN go build\n"
            "FROM scratch\nCOPY --from=build /app /app\n",
            (),
        ),
        (
            "FROM --platform=$BUILDPLATFORM golang AS build\nRUN go build\n"
            "FROM alpine\nRUN apk add ca-certificates\nCOPY --from=build /app /app\n",
            (4,),
        ),
        (
            'FROM --platform="$BUILDPLATFORM" node AS assets\nRUN npm ci\n'
            "FROM nginx\nCOPY --from=assets /dist /usr/share/nginx/html\n",
            (),
        ),
        ("FROM scratch\nCOPY app /app\n", ()),
        (
            "FROM --platform=linux/amd64 tool AS t\nRUN make\nFROM alpine\nCOPY --from=t /x /x\n",
            (2,),
        ),  # pinned to amd64, not the build platform: still emulated on arm64 hosts
    ],
)
def test_emulation_lint_finds_the_steps_that_run_under_qemu(
    dockerfile: str, emulated_lines: tuple[int, ...]
) -> None:
    plan = plan_of(TWO)
    findings = emulation_lint(plan, X86, {"app": parse_dockerfile(dockerfile)})
    if emulated_lines:
        [finding] = findings
        assert finding.platform == "linux/arm64" and finding.run_lines == emulated_lines
        assert "$BUILDPLATFORM" in finding.suggestion and "TARGETARCH" in finding.suggestion
    else:
        assert findings == []


def test_checks_say_native_emulated_and_registry() -> None:
    plan = plan_of(TWO, OutputMode.PUSH)
    assert push_registries(plan) == ["localhost:5000"]
    found = {c.name: c for c in checks(plan, X86, {}, {"localhost:5000": None})}
    assert found["platform linux/amd64"].detail == "native"
    assert found["platform linux/arm64"].ok and "emulated" in found["platform linux/arm64"].detail
    assert found["registry localhost:5000"].ok
    down = {c.name: c for c in checks(plan, X86, {}, {"localhost:5000": "refused"})}
    assert not down["registry localhost:5000"].ok and "docker login" in (
        down["registry localhost:5000"].fix or ""
    )


def test_missing_qemu_is_a_blocking_check_with_its_fix() -> None:
    facts = Facts(docker="d", buildx_version="0.13.1", driver="docker", binfmt={}, machine="x86_64")
    plan = plan_of(TWO)
    failed = [c for c in checks(plan, facts, {}, {}) if not c.ok]
    assert [c.name for c in failed] == ["emulation"]
    assert "tonistiigi/binfmt" in (failed[0].fix or "")


def test_attributes_newer_than_buildx_are_named() -> None:
    plan = plan_of('[target.app]\ncall = "check"\nextra-hosts = { a = "1.2.3.4" }\n')
    assert newer_attributes(plan, X86) == {"call": ["app"], "extra-hosts": ["app"]}
    newest = Facts(docker="d", buildx_version="0.40.0", driver="docker")
    assert newer_attributes(plan, newest) == {}
