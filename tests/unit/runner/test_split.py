"""Split platforms with a fake starter: one build per platform of each target, each with
its own --platform, output and builder, then one `imagetools create` joining the digests."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.plan import OutputMode, Plan
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions, Interrupted
from buildgraph.runner.process import Captured
from tests.unit.runner.fake_processes import FakeStarter, Script, digest_for, flag

REGISTRY = "localhost:5000/t"
TOML = f"""
[project]
platforms = ["linux/amd64", "linux/arm64"]
builders = {{ "linux/arm64" = "arm-node" }}
[target.base]
context = "base"
tags = ["{REGISTRY}/base:1"]
[target.app]
context = "app"
tags = ["{REGISTRY}/app:1", "{REGISTRY}/app:latest"]
"""
FILES = {
    "base/Dockerfile": "FROM scratch\nCOPY a /a\n",
    "app/Dockerfile": f"FROM {REGISTRY}/base:1\nRUN true\n",
}
MANIFEST_LIST = '{"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}'


def answer(argv: list[str]) -> Captured:
    return Captured(0, MANIFEST_LIST if "inspect" in argv else "", "")


def split(**fields: Any) -> BuildOptions:
    return BuildOptions(split_platforms=True, **fields)


@pytest.fixture()
def the_plan(make_plan: Callable[..., Plan]) -> Plan:
    return make_plan(TOML, FILES)


def test_each_platform_is_its_own_build_and_imagetools_joins_them(the_plan: Plan) -> None:
    starter = FakeStarter(captured=answer)
    results = run_plan(the_plan, split(driver="docker-container"), lambda e: None, starter=starter)
    units = starter.by_label()
    assert sorted(units) == [
        "app-linux-amd64",
        "app-linux-arm64",
        "base-linux-amd64",
        "base-linux-arm64",
    ]
    for name in ("base", "app"):
        for platform in ("linux/amd64", "linux/arm64"):
            argv = units[f"{name}-{platform.replace('/', '-')}"].argv
            assert flag(argv, "--platform") == platform
            assert flag(argv, "--output") == (
                f"type=image,name={REGISTRY}/{name},push-by-digest=true,name-canonical=true,push=true"
            )
            assert "--tag" not in argv  # the image is named by its output, pushed by digest
            builder = ["--builder", "arm-node"] if platform == "linux/arm64" else []
            assert argv[: 5 + len(builder)] == [
                "docker",
                "buildx",
                *builder,
                "build",
                "--progress",
                "plain",
            ]
    # Each platform of app builds on the same platform of the base just pushed.
    arm = units["app-linux-arm64"].argv
    assert flag(arm, "--build-context") == (
        f"{REGISTRY}/base:1=docker-image://{REGISTRY}/base@{digest_for('base-linux-arm64')}"
    )
    creates = [argv for argv in starter.captured if "create" in argv]
    assert creates[-1] == [
        "docker",
        "buildx",
        "imagetools",
        "create",
        "--tag",
        f"{REGISTRY}/app:1",
        "--tag",
        f"{REGISTRY}/app:latest",
        f"{REGISTRY}/app@{digest_for('app-linux-amd64')}",
        f"{REGISTRY}/app@{digest_for('app-linux-arm64')}",
    ]
    assert len(creates) == 2  # one a target
    assert starter.position("exit", "base-linux-arm64") < starter.position(
        "start", "app-linux-arm64"
    )
    index = "sha256:" + hashlib.sha256(MANIFEST_LIST.encode()).hexdigest()
    assert [(r.name, r.status, r.digest) for r in results] == [
        ("base", "done", index),
        ("app", "done", index),
    ]


def test_on_the_docker_driver_each_platform_is_pushed_under_a_tag_of_its_own(
    the_plan: Plan,
) -> None:
    starter = FakeStarter(captured=answer)
    run_plan(
        the_plan, split(driver="docker", only=frozenset({"base"})), lambda e: None, starter=starter
    )
    amd = starter.by_label()["base-linux-amd64"].argv
    assert flag(amd, "--output") == f"type=image,name={REGISTRY}/base:1-linux-amd64,push=true"
    arm = starter.by_label()["base-linux-arm64"].argv  # its own builder: by digest
    assert "push-by-digest=true" in (flag(arm, "--output") or "")


def test_a_failed_platform_fails_the_target_and_nothing_is_joined(the_plan: Plan) -> None:
    def arm_fails(argv: list[str]) -> Script:
        if flag(argv, "--platform") == "linux/arm64" and "base/Dockerfile" in argv:
            return Script(code=1, log="ERROR: failed to solve: exec format error\n")
        return Script()

    starter = FakeStarter(arm_fails, captured=answer)
    results = {r.name: r for r in run_plan(the_plan, split(), lambda e: None, starter=starter)}
    assert results["base"].status == "failed"
    assert results["base"].detail == "linux/arm64: ERROR: failed to solve: exec format error"
    assert (
        results["app"].status == "skipped" and results["app"].detail == "needs base, which failed"
    )
    assert [argv for argv in starter.captured if "imagetools" in argv] == []


def test_a_registry_500_is_retried_once(the_plan: Plan) -> None:
    tries: list[str] = []

    def first_push_fails(argv: list[str]) -> Script:
        tries.append(flag(argv, "--platform") or "")
        if tries.count("linux/amd64") == 1 and tries[-1] == "linux/amd64":
            return Script(code=1, log="ERROR: failed to push: 500 Internal Server Error\n")
        return Script()

    starter = FakeStarter(first_push_fails, captured=answer)
    results = run_plan(the_plan, split(only=frozenset({"base"})), lambda e: None, starter=starter)
    assert sorted(tries) == ["linux/amd64", "linux/amd64", "linux/arm64"]
    assert [r.status for r in results] == ["done"]


def test_split_platforms_needs_push(make_plan: Callable[..., Plan]) -> None:
    the_plan = make_plan(TOML, FILES, mode=OutputMode.LOAD)
    starter = FakeStarter()
    with pytest.raises(ConfigError, match="needs --push"):
        run_plan(the_plan, split(), lambda e: None, starter=starter)
    assert starter.started == []


def test_a_cancel_stops_every_platform_and_cancels_the_target_by_its_name(the_plan: Plan) -> None:
    cancel = threading.Event()

    def cancel_when_both_run(starter: FakeStarter) -> None:
        if len(starter.started) == 2:
            cancel.set()

    starter = FakeStarter(lambda argv: Script(seconds=None), on_start=cancel_when_both_run)
    with pytest.raises(Interrupted) as stopped:
        run_plan(the_plan, split(cancel=cancel), lambda e: None, starter=starter)
    assert [p.stopped for p in starter.started] == [True, True]
    assert [(r.name, r.status) for r in stopped.value.results] == [("base", "cancelled")]


def test_a_dependency_nobody_asked_for_is_handed_on_by_layout_not_pushed(
    make_plan: Callable[..., Plan],
) -> None:
    # Only app is asked for: base is built for it, as bake builds a dependency
    # (cacheonly), so nothing of base reaches the registry or gets its tags.
    the_plan = make_plan(TOML, FILES, names=("app",))
    starter = FakeStarter(captured=answer)
    results = run_plan(the_plan, split(driver="docker-container"), lambda e: None, starter=starter)
    units = starter.by_label()
    layout = the_plan.project.root / ".buildgraph" / "oci" / "base-linux-arm64"
    assert flag(units["base-linux-arm64"].argv, "--output") == f"type=oci,dest={layout},tar=false"
    assert flag(units["app-linux-arm64"].argv, "--build-context") == (
        f"{REGISTRY}/base:1=oci-layout://{layout}@{digest_for('base-linux-arm64')}"
    )
    creates = [argv for argv in starter.captured if "create" in argv]
    assert len(creates) == 1 and f"{REGISTRY}/app:1" in creates[0]  # base is not joined
    assert [(r.name, r.status) for r in results] == [("base", "done"), ("app", "done")]


def test_a_dependencys_own_output_does_not_stop_a_split_build(
    make_plan: Callable[..., Plan],
) -> None:
    # bake would not export base's own output either: only an asked-for one is refused.
    toml = TOML.replace("[target.app]", 'output = ["type=local,dest=out"]\n[target.app]')
    starter = FakeStarter(captured=answer)
    results = run_plan(
        make_plan(toml, FILES, names=("app",)), split(), lambda e: None, starter=starter
    )
    assert [r.status for r in results] == ["done", "done"]
    with pytest.raises(ConfigError, match="cannot honour a target's own `output`"):
        run_plan(make_plan(toml, FILES), split(), lambda e: None, starter=FakeStarter())


def test_a_runners_share_pushes_its_platform_by_digest_records_it_and_joins_nothing(
    the_plan: Plan, tmp_path: Path
) -> None:
    from buildgraph.plan.digests import decode
    from buildgraph.plan.platform_share import platform_share

    share = platform_share(the_plan, ["linux/arm64"])
    out = tmp_path / "digests-arm64.json"
    options = split(driver="docker-container", share=share, only=frozenset(share.builds))
    starter = FakeStarter(captured=answer)
    results = run_plan(the_plan, replace(options, digests_out=out), lambda e: None, starter=starter)
    assert sorted(starter.by_label()) == ["app-linux-arm64", "base-linux-arm64"]
    assert [a for a in starter.captured if "imagetools" in a] == []  # the join's, later
    assert [(r.name, r.status, r.digest) for r in results] == [
        ("base", "done", digest_for("base-linux-arm64")),
        ("app", "done", digest_for("app-linux-arm64")),
    ]
    recorded = decode(out.read_text(), out)
    assert recorded["app"].digests == {"linux/arm64": digest_for("app-linux-arm64")}
    assert recorded["app"].platforms == ("linux/amd64", "linux/arm64")
    assert recorded["app"].tags == (f"{REGISTRY}/app:1", f"{REGISTRY}/app:latest")


def test_a_named_builder_on_the_docker_driver_pushes_under_a_tag_of_its_own(
    the_plan: Plan,
) -> None:
    def inspect(argv: list[str]) -> Captured:
        if argv[:3] == ["docker", "buildx", "inspect"]:
            return Captured(0, "Name:   arm-node\nDriver: docker\n", "")
        return answer(argv)

    starter = FakeStarter(captured=inspect)
    run_plan(
        the_plan,
        split(driver="docker-container", only=frozenset({"base"})),
        lambda e: None,
        starter=starter,
    )
    arm = starter.by_label()["base-linux-arm64"].argv
    assert flag(arm, "--output") == f"type=image,name={REGISTRY}/base:1-linux-arm64,push=true"
    # buildx refuses `--builder` for another context's docker driver: reached by context.
    assert arm[:5] == ["docker", "--context", "arm-node", "buildx", "build"]
    assert "--builder" not in arm
    amd = starter.by_label()["base-linux-amd64"].argv
    assert "push-by-digest=true" in (flag(amd, "--output") or "")
