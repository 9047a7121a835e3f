"""runner.per_target with a fake starter: what each `docker buildx build` exports."""

from __future__ import annotations

from collections.abc import Callable

from buildgraph.plan.plan import Plan
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions
from tests.unit.runner.fake_processes import FakeStarter, digest_for

REGISTRY = "localhost:5000/t"
TOML = f"""
[target.base]
context = "base"
tags = ["{REGISTRY}/base:1"]
[target.app]
context = "app"
tags = ["{REGISTRY}/app:1"]
"""
FILES = {"base/Dockerfile": "FROM scratch\n", "app/Dockerfile": f"FROM {REGISTRY}/base:1\n"}


def outputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == "--output"]


def test_only_what_was_asked_for_is_pushed_a_dependency_goes_by_layout(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(TOML, FILES, names=("app",))  # --push
    starter = FakeStarter()
    results = run_plan(the_plan, BuildOptions(via="commands"), lambda e: None, starter=starter)
    units = starter.by_label()
    layout = the_plan.project.root / ".buildgraph" / "oci" / "base"
    # base: cache only, as bake builds a dependency; its dependent reads the layout.
    assert outputs(units["base"].argv) == [f"type=oci,dest={layout},tar=false"]
    assert outputs(units["app"].argv) == ["type=registry"]
    assert f"{REGISTRY}/base:1=oci-layout://{layout}@{digest_for('base')}" in units["app"].argv
    assert [(r.name, r.status) for r in results] == [("base", "done"), ("app", "done")]


def test_a_dependency_asked_for_too_is_pushed_and_read_by_digest(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(TOML, FILES, names=("app", "base"))
    starter = FakeStarter()
    run_plan(the_plan, BuildOptions(via="commands"), lambda e: None, starter=starter)
    units = starter.by_label()
    assert outputs(units["base"].argv)[0] == "type=registry"
    context = f"{REGISTRY}/base:1=docker-image://{REGISTRY}/base@{digest_for('base')}"
    assert context in units["app"].argv
