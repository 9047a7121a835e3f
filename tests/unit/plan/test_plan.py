from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import make_plan
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/p/buildgraph.toml")


def plan_of(toml: str):  # type: ignore[no-untyped-def]
    project = resolve_project(parse_document(toml, FILE), {}, {})
    return make_plan(build_graph(project, {}))


def test_a_line_break_in_an_entry_is_an_error_naming_target_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_of(
            "[target.app]\n"
            'output = ["type=registry,name=a\\nb"]\n'
            'secret = ["id=token,src=/run/s3\\nkr1t"]\n'
            "[target.ok]\n"
            'output = ["type=registry,name=a"]\n'
        )
    problems = caught.value.problems
    assert [(p.target, p.key) for p in problems] == [("app", "output"), ("app", "secret")]
    assert all("line break" in p.message and "kr1t" not in str(p) for p in problems)
