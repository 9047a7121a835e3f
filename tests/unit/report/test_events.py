"""The summary table a person reads after a build."""

from __future__ import annotations

from buildgraph.graph.critical_path import CriticalPath
from buildgraph.report.events import TargetResult, instruction_position, summary_table
from buildgraph.report.style import Style

RESULTS = [
    TargetResult("base", ("linux/amd64",), "done", 2.04),
    TargetResult("api", ("linux/amd64",), "done", 7.5, steps=4, cached_steps=3),
    TargetResult("web", ("linux/amd64",), "reused"),
]


def test_the_summary_names_the_critical_path_with_its_seconds() -> None:
    text = summary_table(RESULTS, Style(False), CriticalPath(("base", "api"), 9.54))
    lines = text.splitlines()
    assert lines[0].split() == ["target", "platforms", "status", "seconds", "cached", "digest"]
    assert lines[2].split()[:5] == ["api", "linux/amd64", "done", "7.5", "3/4"]
    assert lines[3].split()[:5] == ["web", "linux/amd64", "reused", "-", "-"]
    assert lines[4] == "critical path: base -> api (9.5s)"


def test_a_path_of_one_target_or_none_is_not_shown() -> None:
    assert "critical path" not in summary_table(RESULTS, Style(False), CriticalPath(("api",), 7.5))
    assert "critical path" not in summary_table(RESULTS, Style(False))


def test_a_failure_is_told_under_the_table_with_its_place_and_its_log() -> None:
    failed = TargetResult(
        "broken",
        ("linux/amd64",),
        "failed",
        1.25,
        detail="ERROR: process did not complete successfully: exit code: 3",
        log="/p/.buildgraph/logs/bake-1.log",
        steps=1,
        failed_at="broken/Dockerfile:4",
    )
    lines = summary_table([*RESULTS, failed], Style(False)).splitlines()
    assert lines[4].split()[:5] == ["broken", "linux/amd64", "failed", "1.2", "0/1"]
    assert lines[-3:] == [
        "broken: ERROR: process did not complete successfully: exit code: 3",
        "  at broken/Dockerfile:4",
        "  full log: /p/.buildgraph/logs/bake-1.log",
    ]


def test_the_steps_of_instructions_are_known_by_their_place_in_the_stage() -> None:
    assert instruction_position("[app 2/3] RUN make") == (2, 3)
    assert instruction_position("[app base 1/2] COPY bin/busybox /bin/busybox") == (1, 2)
    assert instruction_position("[stage-1 10/12] RUN [1/2] a b") == (10, 12)
    assert instruction_position("[app internal] load build context") is None
    assert instruction_position("[app] exporting to image") is None
    assert instruction_position("RUN echo [1/2]") is None
