"""The summary table a person reads after a build."""

from __future__ import annotations

from buildgraph.graph.critical_path import CriticalPath
from buildgraph.report.events import TargetResult, summary_table
from buildgraph.report.style import Style

RESULTS = [
    TargetResult("base", ("linux/amd64",), "done", 2.04),
    TargetResult("api", ("linux/amd64",), "done", 7.5),
    TargetResult("web", ("linux/amd64",), "reused"),
]


def test_the_summary_names_the_critical_path_with_its_seconds() -> None:
    text = summary_table(RESULTS, Style(False), CriticalPath(("base", "api"), 9.54))
    lines = text.splitlines()
    assert lines[0].split() == ["target", "platforms", "status", "seconds", "digest"]
    assert lines[2].split()[:4] == ["api", "linux/amd64", "done", "7.5"]
    assert lines[3].split()[:4] == ["web", "linux/amd64", "reused", "-"]
    assert lines[4] == "critical path: base -> api (9.5s)"


def test_a_path_of_one_target_or_none_is_not_shown() -> None:
    assert "critical path" not in summary_table(RESULTS, Style(False), CriticalPath(("api",), 7.5))
    assert "critical path" not in summary_table(RESULTS, Style(False))
