"""Bake runs with a fake starter: when the bake started early is fed and when stopped, and
what a failed bake run's log says of each of its targets."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.plan.plan import Plan
from buildgraph.runner.bake import EarlyBake
from buildgraph.runner.execute import run_plan
from buildgraph.runner.options import BuildOptions, Interrupted
from tests.unit.runner.fake_processes import FakeStarter, Script, digest_for, flag

REGISTRY = "localhost:5000/t"

# app is FROM base's tag: bake orders the two itself, in one run.
ONE_RUN = f"""
[project]
platforms = ["linux/amd64"]
[target.base]
context = "base"
tags = ["{REGISTRY}/base:1"]
[target.app]
context = "app"
tags = ["{REGISTRY}/app:1"]
"""
ONE_RUN_FILES = {
    "base/Dockerfile": "FROM scratch\nCOPY a /a\n",
    "app/Dockerfile": f"FROM {REGISTRY}/base:1\nRUN true\n",
}
# later depends on base by depends_on alone, which bake cannot see: a second run.
TWO_RUNS = ONE_RUN.replace('context = "app"', 'context = "app"\ndepends_on = ["base"]')
TWO_RUNS_FILES = {**ONE_RUN_FILES, "app/Dockerfile": "FROM scratch\nCOPY b /b\n"}

FAILING = f"""
[project]
platforms = ["linux/amd64", "linux/arm64"]
[target.base]
context = "base"
tags = ["{REGISTRY}/base:1"]
[target.broken]
context = "broken"
tags = ["{REGISTRY}/broken:1"]
[target.after-broken]
context = "after-broken"
tags = ["{REGISTRY}/after-broken:1"]
[target.independent]
context = "independent"
platforms = ["linux/amd64"]
tags = ["{REGISTRY}/independent:1"]
"""
FAILING_FILES = {
    "base/Dockerfile": "FROM scratch\nCOPY a /a\n",
    "broken/Dockerfile": f'FROM {REGISTRY}/base:1\nRUN echo "fails" && exit 3\n',
    "after-broken/Dockerfile": f"FROM {REGISTRY}/broken:1\nRUN true\n",
    "independent/Dockerfile": "FROM scratch\nCOPY hello.txt /hello.txt\n",
}
# As bake 0.13 prints it: BuildKit ran broken's failing step once, for both targets that
# use it, and labelled it with the dependent; independent was cut short mid-export.
FAILED_BAKE_LOG = """\
#21 [base] exporting to image
#21 exporting layers done
#21 DONE 0.3s

#24 [independent] exporting to image
#24 pushing layer 19420a86c141 0.0s done

#22 [after-broken linux/amd64 1/2] RUN echo "fails" && exit 3
#22 ERROR: process "/bin/sh -c echo \\"fails\\" && exit 3" did not complete successfully: exit code: 3
------
 > [after-broken linux/amd64 1/2] RUN echo "fails" && exit 3:
0.577 fails
------
ERROR: failed to solve: process did not complete successfully: exit code: 3
"""


def targets_of(argv: list[str]) -> list[str]:
    """The targets a `bake` command line names (after `--progress X --`)."""
    rest = argv[argv.index("--progress") + 2 :]
    assert rest[:1] in ([], ["--"]), "target names follow `--`, never where options are read"
    return rest[1:]


def test_the_early_bake_is_fed_when_the_first_run_is_the_whole_plan(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(ONE_RUN, ONE_RUN_FILES)
    starter = FakeStarter()
    early = EarlyBake(the_plan.project.root, None, None, starter=starter)
    results = run_plan(the_plan, BuildOptions(), lambda e: None, early, starter=starter)
    [process] = starter.started
    assert flag(process.argv, "-f") == "-" and targets_of(process.argv) == []
    assert process.fed == (the_plan.project.root / ".buildgraph" / "bake.json").read_text()
    assert [(r.name, r.status) for r in results] == [("base", "done"), ("app", "done")]


@pytest.mark.parametrize(
    ("toml", "files", "only", "runs"),
    [
        (TWO_RUNS, TWO_RUNS_FILES, None, [["base"], ["app"]]),
        (ONE_RUN, ONE_RUN_FILES, frozenset({"app"}), [["app"]]),  # watch: a subset
    ],
    ids=["two-runs", "subset"],
)
def test_the_early_bake_is_stopped_when_the_first_run_is_not_the_whole_plan(
    make_plan: Callable[..., Plan],
    toml: str,
    files: dict[str, str],
    only: frozenset[str] | None,
    runs: list[list[str]],
) -> None:
    the_plan = make_plan(toml, files)
    starter = FakeStarter()
    early = EarlyBake(the_plan.project.root, "b1", None, starter=starter)
    options = BuildOptions(builder="b1", only=only)
    results = run_plan(the_plan, options, lambda e: None, early, starter=starter)
    first, *bakes = starter.started
    assert first.stopped and first.fed is None
    assert starter.position("exit", "bake-1") < starter.position("start", "bake-1", second=True)
    assert [targets_of(p.argv) for p in bakes] == runs
    assert all(p.argv[:5] == ["docker", "buildx", "--builder", "b1", "bake"] for p in bakes)
    assert all(
        flag(p.argv, "-f") == str(the_plan.project.root / ".buildgraph/bake.json") for p in bakes
    )
    assert {r.status for r in results} == {"done"}
    assert results[-1].name == "app" and results[-1].digest == digest_for("app")


def failing_run(argv: list[str]) -> Script:
    return Script(code=1, log=FAILED_BAKE_LOG) if "broken" in targets_of(argv) else Script()


def test_a_failed_run_blames_the_culprit_skips_its_dependents_cancels_the_rest(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(FAILING, FAILING_FILES)
    starter = FakeStarter(failing_run)
    results = {
        r.name: r for r in run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
    }
    assert [targets_of(p.argv) for p in starter.started] == [
        ["base", "independent", "broken", "after-broken"]
    ]
    assert {name: r.status for name, r in results.items()} == {
        "base": "done",
        "broken": "failed",
        "after-broken": "skipped",
        "independent": "cancelled",
    }
    assert results["broken"].detail == (
        "ERROR: failed to solve: process did not complete successfully: exit code: 3"
    )
    assert results["after-broken"].detail == "needs broken, which failed"


def test_keep_going_runs_again_what_the_failed_run_cut_short(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(FAILING, FAILING_FILES)
    starter = FakeStarter(failing_run)
    options = BuildOptions(keep_going=True)
    results = {r.name: r for r in run_plan(the_plan, options, lambda e: None, starter=starter)}
    assert [targets_of(p.argv) for p in starter.started] == [
        ["base", "independent", "broken", "after-broken"],
        ["independent"],
    ]
    assert results["independent"].status == "done"
    assert results["independent"].digest == digest_for("independent")
    assert results["broken"].status == "failed"


def test_a_cancel_stops_the_bake_run_and_cancels_its_targets(
    make_plan: Callable[..., Plan],
) -> None:
    the_plan = make_plan(ONE_RUN, ONE_RUN_FILES)
    cancel = threading.Event()
    starter = FakeStarter(lambda argv: Script(seconds=None), on_start=lambda s: cancel.set())
    with pytest.raises(Interrupted) as stopped:
        run_plan(the_plan, BuildOptions(cancel=cancel), lambda e: None, starter=starter)
    [process] = starter.started
    assert process.stopped
    assert [(r.name, r.status) for r in stopped.value.results] == [
        ("base", "cancelled"),
        ("app", "cancelled"),
    ]


def test_a_target_named_like_an_option_stays_a_name() -> None:
    from buildgraph.runner.bake import bake_argv

    argv = bake_argv(None, None, "bake.json", Path("m.json"), ["--print"])
    assert argv[-2:] == ["--", "--print"]


def vertex_event(name: str, started: str, completed: str) -> str:
    vertex = {
        "digest": "sha256:" + name[:6],
        "name": name,
        "started": f"2026-12-01T10:00:{started}Z",
        "completed": f"2026-12-01T10:00:{completed}Z",
    }
    return json.dumps({"vertexes": [vertex]}) + "\n"


def test_each_target_of_a_bake_run_gets_its_own_seconds(
    make_plan: Callable[..., Plan],
) -> None:
    """From the steps' times in bake's rawjson progress, not the run's: base's steps ran
    for 1.5 s, app's (after base's) for 4 s."""
    the_plan = make_plan(ONE_RUN, ONE_RUN_FILES)
    stream = (
        vertex_event("[base 1/1] COPY a /a", "01.000", "02.500")
        + vertex_event("[app 1/2] FROM base", "02.600", "02.700")
        + vertex_event("[app 2/2] RUN true", "02.700", "06.600")
    )
    starter = FakeStarter(lambda argv: Script(log=stream))
    results = run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
    seconds = {r.name: r.seconds for r in results}
    assert seconds == {"base": pytest.approx(1.5), "app": pytest.approx(4.0)}
    assert flag(starter.started[0].argv, "--progress") == "rawjson"
    readable = (the_plan.project.root / ".buildgraph/logs/bake-1.log").read_text()
    assert readable.splitlines()[:2] == ["#1 [base 1/1] COPY a /a", "#1 DONE 1.5s"]


def test_buildx_own_display_leaves_the_run_seconds(make_plan: Callable[..., Plan]) -> None:
    the_plan = make_plan(ONE_RUN, ONE_RUN_FILES)
    starter = FakeStarter(lambda argv: Script(seconds=0.2))
    results = run_plan(the_plan, BuildOptions(progress="tty"), lambda e: None, starter=starter)
    assert flag(starter.started[0].argv, "--progress") == "tty"
    assert results[0].seconds == results[1].seconds >= 0.2


@pytest.mark.parametrize(("version", "fed"), [("0.29.1", True), ("0.13.1", False), (None, False)])
def test_an_old_bake_names_its_targets_when_a_dependency_must_export_nothing(
    make_plan: Callable[..., Plan], version: str | None, fed: bool
) -> None:
    """base is only app's dependency: cacheonly in the file. bake before 0.16 gives such a
    target its driver's default export unless it is named, so the early bake, which names
    nothing, is stopped for a run that names both."""
    the_plan = make_plan(ONE_RUN, ONE_RUN_FILES, names=("app",))
    starter = FakeStarter()
    early = EarlyBake(the_plan.project.root, None, None, starter=starter)
    options = BuildOptions(buildx_version=version)
    results = run_plan(the_plan, options, lambda e: None, early, starter=starter)
    assert {r.status for r in results} == {"done"}
    if fed:
        [process] = starter.started
        assert process.fed
    else:
        stopped, named = starter.started
        assert stopped.stopped and stopped.fed is None
        assert targets_of(named.argv) == ["base", "app"]


def test_a_dependency_that_exports_nothing_is_done_when_its_steps_are(
    make_plan: Callable[..., Plan],
) -> None:
    """It has no export step: when another target of its run fails, its finished steps
    say it is done (it was "cancelled" before)."""
    toml = FAILING.replace("[target.independent]", "[target.independent]\ndepends_on = []")
    the_plan = make_plan(toml, FAILING_FILES, names=("after-broken", "independent"))
    stream = (
        vertex_event("[base 1/1] COPY a /a", "01.000", "02.000")
        + vertex_event("[independent 1/1] COPY hello.txt /hello.txt", "01.000", "01.500")
        + '{"vertexes":[{"digest":"sha256:b","name":"[broken 2/2] RUN exit 3",'
        '"started":"2026-12-01T10:00:02.100Z","completed":"2026-12-01T10:00:03.000Z",'
        '"error":"process did not complete successfully: exit code: 3"}]}\n'
        "ERROR: failed to solve: process did not complete successfully: exit code: 3\n"
    )
    starter = FakeStarter(lambda argv: Script(code=1, log=stream))
    results = {
        r.name: r for r in run_plan(the_plan, BuildOptions(), lambda e: None, starter=starter)
    }
    assert results["base"].status == "done"  # cacheonly: nobody asked for it
    assert results["broken"].status == "failed"
    assert results["after-broken"].status == "skipped"
