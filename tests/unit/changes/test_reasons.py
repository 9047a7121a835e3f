"""Why watch rebuilds each target: its own files, its definition, or a dependency."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from buildgraph.changes.reasons import rebuild_reasons
from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import Plan

TOML = """
[target.base]
context = "base"
[target.api]
context = "api"
[target.web]
context = "web"
depends_on = ["api"]
[target.slim]
context = "web"
depends_on = ["web", "base"]
"""
FILES = {f"{c}/Dockerfile": "FROM scratch\n" for c in ("base", "api", "web")}


def example_plan(make_project: Callable[..., Path]) -> Plan:
    return plan(load(make_project(TOML, FILES), {}, environ={}), [])


def test_a_changed_file_names_itself_and_dependents_name_what_they_need(
    make_project: Callable[..., Path],
) -> None:
    reasons = rebuild_reasons(example_plan(make_project), {"api": ["api/run.sh"]}, ())
    assert reasons == {
        "api": "api/run.sh changed",
        "web": "it needs api, rebuilt",
        "slim": "it needs web, rebuilt",
    }


def test_a_definition_change_and_many_files(make_project: Callable[..., Path]) -> None:
    the_plan = example_plan(make_project)
    reasons = rebuild_reasons(the_plan, {"web": ["web/a", "web/b", "web/c", "web/d"]}, {"base"})
    assert list(reasons) == [p.name for p in the_plan.targets if p.name in reasons]  # build order
    assert reasons == {
        "base": "its definition changed",
        "web": "web/a, web/b changed (and 2 more)",
        "slim": "it needs web, base, rebuilt",
    }


def test_nothing_touched_rebuilds_nothing(make_project: Callable[..., Path]) -> None:
    assert rebuild_reasons(example_plan(make_project), {"api": []}, ()) == {}


def test_a_rebuild_asked_on_the_page_names_the_page_and_takes_the_dependents(
    make_project: Callable[..., Path],
) -> None:
    from buildgraph.changes.reasons import ASKED

    reasons = rebuild_reasons(example_plan(make_project), {}, (), asked=("web",))
    assert reasons == {"web": ASKED, "slim": "it needs web, rebuilt"}
