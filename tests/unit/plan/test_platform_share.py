"""`build --platform P`: a runner builds platform P of each target that has it, pushes it
by digest; a target lacking P is built there only for a dependent that needs it (never
pushed), for the platform that dependent reads of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode, Plan
from buildgraph.plan.platform_share import platform_share

R = "localhost:5000/t"
TOML = f"""
[target.base]
context = "base"
platforms = ["linux/amd64", "linux/arm64"]
[target.amd-only]
context = "amd"
platforms = ["linux/amd64"]
tags = ["{R}/amd-only:1"]
[target.app]
context = "app"
platforms = ["linux/amd64", "linux/arm64"]
tags = ["{R}/app:1"]
[target.tool]
context = "tool"
platforms = ["linux/arm64"]
tags = ["{R}/tool:1"]
contexts = {{ u = "target:untagged" }}
[target.plain]
context = "plain"
tags = ["{R}/plain:1"]
[target.untagged]
context = "untagged"
platforms = ["linux/arm64"]
[group.default]
targets = ["amd-only", "app", "tool", "plain"]
"""
FILES = {
    "base/Dockerfile": "FROM scratch\n",
    "amd/Dockerfile": "FROM scratch\n",
    "app/Dockerfile": "FROM scratch AS b\nFROM localhost:5000/t/base:1\n",
    "tool/Dockerfile": f"FROM {R}/amd-only:1\n",
    "plain/Dockerfile": "FROM scratch\n",
    "untagged/Dockerfile": "FROM scratch\n",
}


@pytest.fixture()
def the_plan(make_project: Callable[..., Path]) -> Plan:
    toml = TOML.replace('context = "base"', f'context = "base"\ntags = ["{R}/base:1"]')
    project = make_project(toml, FILES)
    return plan(load(project, {}, environ={}), (), OutputMode.PUSH)


def test_an_arm_runner_builds_arm_and_what_arm_builds_need(the_plan: Plan) -> None:
    share = platform_share(the_plan, ["linux/arm64"])
    assert dict(share.builds) == {
        "base": ("linux/arm64",),  # for app's arm64, cache-only: nobody asked for it
        "amd-only": ("linux/amd64",),  # tool's arm64 reads its only platform
        "app": ("linux/arm64",),
        "tool": ("linux/arm64",),
        "untagged": ("linux/arm64",),
    }
    assert share.pushes == {"app", "tool"}  # amd-only is the amd runner's to push
    assert share.left_out == ("plain",)
    assert share.recorded("app") == ("linux/arm64",) and share.recorded("amd-only") == ()


def test_an_amd_runner_pushes_amd_only_and_local_takes_targets_without_platforms(
    the_plan: Plan,
) -> None:
    share = platform_share(the_plan, ["linux/amd64", "local", "linux/amd64"])
    assert share.platforms == ("linux/amd64", "local")
    assert share.pushes == {"amd-only", "app", "plain"}
    assert share.builds["plain"] == ("local",)
    assert set(share.left_out) == {"tool", "untagged"}


def test_a_platform_that_is_none_is_refused(the_plan: Plan) -> None:
    with pytest.raises(ConfigError, match="is not a platform"):
        platform_share(the_plan, ["arm64"])
