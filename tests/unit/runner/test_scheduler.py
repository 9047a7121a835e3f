"""The scheduler, through per-target builds (`--via commands`) and a fake starter: when a
target may start, what a failure skips, the push-clash rule, `only`, and stopping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from buildgraph.plan.plan import Plan
from buildgraph.report.events import Event
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions, Interrupted
from tests.unit.runner.fake_processes import FakeStarter, Script, digest_for

REGISTRY = "localhost:5000/t"

# base <- mid <- top, base <- side; lone stands alone. Each FROM names a target's tag.
DIAMOND = f"""
[project]
platforms = ["linux/amd64"]
[target.base]
context = "base"
tags = ["{REGISTRY}/base:1"]
[target.mid]
context = "mid"
tags = ["{REGISTRY}/mid:1"]
[target.side]
context = "side"
tags = ["{REGISTRY}/side:1"]
[target.top]
context = "top"
tags = ["{REGISTRY}/top:1"]
[target.lone]
context = "lone"
tags = ["{REGISTRY}/lone:1"]
"""
DIAMOND_FILES = {
    "base/Dockerfile": "FROM scratch\nCOPY a /a\n",
    "mid/Dockerfile": f"FROM {REGISTRY}/base:1\nRUN true\n",
    "side/Dockerfile": f"FROM {REGISTRY}/base:1\nRUN side\n",
    "top/Dockerfile": f"FROM {REGISTRY}/mid:1\nRUN top\n",
    "lone/Dockerfile": "FROM scratch\nCOPY b /b\n",
}
NEEDS = {"mid": ["base"], "side": ["base"], "top": ["mid"]}

FAILED_LOG = """\
#5 [2/2] RUN exit 3
#5 0.231 nope
#5 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
"""


def commands(**fields: Any) -> BuildOptions:
    return BuildOptions(via="commands", **fields)


@pytest.fixture()
def diamond(make_plan: Callable[..., Plan]) -> Plan:
    return make_plan(DIAMOND, DIAMOND_FILES)


def test_a_target_starts_only_after_its_dependencies_finished(diamond: Plan) -> None:
    starter = FakeStarter()
    results = run_plan(diamond, commands(jobs=8), lambda e: None, starter=starter)
    assert [r.name for r in results] == [p.name for p in diamond.targets]  # plan order
    assert {r.status for r in results} == {"done"}
    for target, deps in NEEDS.items():
        for dep in deps:
            assert starter.position("exit", dep) < starter.position("start", target)
    assert starter.most_live >= 2  # what does not wait ran side by side


def test_a_dependent_builds_on_the_digest_its_dependency_just_pushed(diamond: Plan) -> None:
    starter = FakeStarter()
    run_plan(diamond, commands(builder="b1"), lambda e: None, starter=starter)
    mid = starter.by_label()["mid"].argv
    assert mid[:7] == ["docker", "buildx", "--builder", "b1", "build", "--progress", "rawjson"]
    contexts = [mid[i + 1] for i, a in enumerate(mid) if a == "--build-context"]
    assert contexts == [f"{REGISTRY}/base:1=docker-image://{REGISTRY}/base@{digest_for('base')}"]


def test_jobs_bound_the_builds_running_at_once(make_plan: Callable[..., Plan]) -> None:
    toml = "[project]\nplatforms = ['linux/amd64']\n" + "".join(
        f'[target.t{i}]\ncontext = "c"\ntags = ["{REGISTRY}/t{i}:1"]\n' for i in range(6)
    )
    the_plan = make_plan(toml, {"c/Dockerfile": "FROM scratch\n"})
    starter = FakeStarter()
    results = run_plan(the_plan, commands(jobs=2), lambda e: None, starter=starter)
    assert len(starter.started) == 6 and {r.status for r in results} == {"done"}
    assert starter.most_live == 2


def failing_base(argv: list[str]) -> Script:
    return Script(code=1, log=FAILED_LOG) if "base/Dockerfile" in argv else Script()


def test_a_failure_skips_its_dependents_and_stops_what_has_not_started(diamond: Plan) -> None:
    events: list[Event] = []
    starter = FakeStarter(failing_base)
    results = {
        r.name: r for r in run_plan(diamond, commands(jobs=1), events.append, starter=starter)
    }
    assert [p.label for p in starter.started] == ["base"]
    assert results["base"].status == "failed"
    assert results["base"].detail is not None and "exit code: 3" in results["base"].detail
    assert results["mid"].status == results["side"].status == "skipped"
    assert results["mid"].detail == "needs base, which failed"
    assert results["top"].detail == "needs mid, which was skipped"
    assert results["lone"].status == "skipped"
    assert results["lone"].detail is not None and "--keep-going" in results["lone"].detail
    skipped = [e.target or "" for e in events if e.event == "skipped"]
    assert sorted(skipped) == ["lone", "mid", "side", "top"]


def test_keep_going_builds_the_targets_that_do_not_depend_on_the_failure(diamond: Plan) -> None:
    starter = FakeStarter(failing_base)
    results = run_plan(diamond, commands(jobs=1, keep_going=True), lambda e: None, starter=starter)
    status = {r.name: r.status for r in results}
    assert status == {
        "base": "failed",
        "mid": "skipped",
        "side": "skipped",
        "top": "skipped",
        "lone": "done",
    }
    assert [p.label for p in starter.started] == ["base", "lone"]


def test_two_targets_pushing_to_one_repository_never_run_at_once(
    make_plan: Callable[..., Plan],
) -> None:
    toml = f"""
[project]
platforms = ["linux/amd64"]
[target.first]
context = "c"
tags = ["{REGISTRY}/app:first"]
[target.second]
context = "c"
tags = ["{REGISTRY}/app:second"]
[target.elsewhere]
context = "c"
tags = ["{REGISTRY}/other:1"]
"""
    the_plan = make_plan(toml, {"c/Dockerfile": "FROM scratch\n"})
    starter = FakeStarter()
    run_plan(the_plan, commands(jobs=4), lambda e: None, starter=starter)
    assert starter.position("exit", "first") < starter.position("start", "second")
    assert starter.position("start", "elsewhere") < starter.position("exit", "first")


def test_only_builds_the_subset_and_takes_the_rest_as_built(diamond: Plan) -> None:
    starter = FakeStarter()
    results = run_plan(
        diamond, commands(only=frozenset({"mid", "lone"})), lambda e: None, starter=starter
    )
    assert [r.name for r in results] == ["lone", "mid"]  # plan order: waves, then the file
    assert sorted(p.label for p in starter.started) == ["lone", "mid"]
    mid = starter.by_label()["mid"].argv
    # base was built before: mid reads it from its layout, unpinned.
    assert any(
        a.endswith("=oci-layout://" + str(diamond.project.root / ".buildgraph/oci/base"))
        for a in mid
    )


def test_a_cancel_stops_every_build_started_and_reports_them_cancelled(diamond: Plan) -> None:
    cancel = threading.Event()

    def cancel_when_two_run(starter: FakeStarter) -> None:
        if len(starter.started) == 2:
            cancel.set()

    starter = FakeStarter(lambda argv: Script(seconds=None), on_start=cancel_when_two_run)
    with pytest.raises(Interrupted) as stopped:
        run_plan(
            diamond,
            commands(jobs=2, only=frozenset({"mid", "side", "lone"}), cancel=cancel),
            lambda e: None,
            starter=starter,
        )
    assert [(p.label, p.stopped) for p in starter.started] == [("lone", True), ("mid", True)]
    assert [(r.name, r.status) for r in stopped.value.results] == [
        ("lone", "cancelled"),
        ("mid", "cancelled"),
    ]
    assert all(r.log and r.log.endswith(f"{r.name}.log") for r in stopped.value.results)
