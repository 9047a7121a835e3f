"""build.reuse: which targets the registry spares, and the plan of what is left."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from buildgraph.build.reuse import (
    decide,
    fingerprint_tag,
    forced_builds,
    lookups,
    pushed_refs,
    reduced_plan,
    tag_of,
)
from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode, Plan
from buildgraph.render.bake_json import render_bake_json
from buildgraph.render.bake_target import Rebaser

TOML = """
[target.tools]
context = "tools"
[target.base]
context = "base"
tags = ["127.0.0.1:5000/t/base:1"]
contexts = { tools = "target:tools" }
[target.app]
context = "app"
tags = ["127.0.0.1:5000/t/app:1", "127.0.0.1:5000/t/app:latest"]
[target.lean]
context = "lean"
no-cache = true
tags = ["127.0.0.1:5000/t/lean:1"]
[target.local]
context = "local"
output = ["type=local,dest=out"]
contexts = { base = "target:base" }
"""
FILES = {
    "tools/Dockerfile": "FROM scratch\n",
    "base/Dockerfile": "FROM tools\n",
    "app/Dockerfile": "FROM 127.0.0.1:5000/t/base:1\n",
    "lean/Dockerfile": "FROM 127.0.0.1:5000/t/base:1\n",
    "local/Dockerfile": "FROM base\n",
}
FP = {
    n: "sha256:" + c * 64
    for n, c in zip(("tools", "base", "app", "lean", "local"), "abcde", strict=True)
}


def the_plan(make_project: Callable[..., Path], *names: str) -> Plan:
    path = make_project(TOML, FILES)
    return plan(load(path, {}), names or ("base", "app", "lean", "local"), OutputMode.PUSH)


def test_the_tag_holds_the_whole_fingerprint_within_a_tags_length() -> None:
    assert fingerprint_tag("sha256:" + "f" * 64) == "bg-" + "f" * 64
    assert len(fingerprint_tag("sha512:" + "f" * 128)) == 128
    assert tag_of("127.0.0.1:5000/t/app") == "latest"
    assert tag_of("127.0.0.1:5000/t/app:1@sha256:" + "0" * 64) == "1"


def test_only_plain_pushes_are_looked_up(make_project: Callable[..., Path]) -> None:
    planned = the_plan(make_project)
    assert pushed_refs(planned["app"]) == ("127.0.0.1:5000/t/app:1", "127.0.0.1:5000/t/app:latest")
    assert pushed_refs(planned["local"]) == ()  # its own output is no registry
    assert pushed_refs(planned["tools"]) == ()  # cacheonly: nobody asked for it
    wanted = lookups(planned, FP, forced_builds(planned, frozenset()))
    assert sorted(wanted) == ["app", "base"]  # lean is no-cache: never reused
    assert wanted["app"].repo == "127.0.0.1:5000/t/app"
    assert wanted["app"].tag == "bg-" + "c" * 64


def test_a_rebuild_forces_its_dependents_too(make_project: Callable[..., Path]) -> None:
    planned = the_plan(make_project)
    assert forced_builds(planned, frozenset({"base"})) == {"base", "app", "lean", "local"}
    assert forced_builds(planned, frozenset()) == {"lean"}
    assert forced_builds(planned, None) == {p.name for p in planned.targets}


def test_a_reused_base_is_handed_to_dependents_by_digest(
    make_project: Callable[..., Path],
) -> None:
    planned = the_plan(make_project)
    wanted = lookups(planned, FP, frozenset())
    decision = decide(planned, {"base": "sha256:" + "9" * 64}, wanted)
    assert dict(decision.reused) == {"base": "127.0.0.1:5000/t/base@sha256:" + "9" * 64}
    # tools is needed by base only, which is reused: it is not built.
    assert decision.unneeded == {"tools"}
    left = reduced_plan(planned, decision)
    assert [p.name for p in left.targets] == ["app", "lean", "local"]
    pinned = "docker-image://127.0.0.1:5000/t/base@sha256:" + "9" * 64
    for name, ref in (("app", "127.0.0.1:5000/t/base:1"), ("local", "base")):
        assert left[name].target.contexts[ref] == pinned
        assert left[name].links == {} and left[name].needs == ()
    rendered = render_bake_json(left, Rebaser(left.project, left.project.root))
    assert "target:base" not in rendered and pinned in rendered


def test_an_unasked_dependency_is_built_while_anyone_needs_it(
    make_project: Callable[..., Path],
) -> None:
    planned = the_plan(make_project)
    wanted = lookups(planned, FP, frozenset())
    decision = decide(planned, {"app": "sha256:" + "1" * 64}, wanted)
    assert set(decision.reused) == {"app"} and decision.unneeded == frozenset()
    left = reduced_plan(planned, decision)
    assert [p.name for p in left.targets] == ["tools", "base", "lean", "local"]
    assert left["base"].links == {"tools": "tools"}
    assert left.names == ("base", "lean", "local")
