"""render.plan_text and plan_json: what the plan says of a dependency nobody asked for."""

from __future__ import annotations

import json
from pathlib import Path

from buildgraph.plan.load import load, plan
from buildgraph.render.notes import render_notes
from buildgraph.render.plan_json import render_plan_json
from buildgraph.render.plan_text import render_plan_text
from buildgraph.report.style import Style
from tests.conftest import FIXTURES

SHOP = FIXTURES / "shop" / "buildgraph.toml"
# e2e needs the apps and tool through depends_on only (bake cannot see it), base through
# its FROM (a target: link bake follows).
NOTE = (
    "note: {name} is exported though not asked for: e2e needs it through depends_on, which "
    "bake cannot see (no target: link), so it reads it back from the registry or image store"
)


def test_plan_says_which_dependencies_are_exported_though_not_asked_for() -> None:
    the_plan = plan(load(SHOP, {}, environ={}), ("e2e",))
    text = render_plan_text(the_plan, Style(False), SHOP.parent)
    notes = [line for line in text.splitlines() if "not asked for:" in line]
    assert notes == [NOTE.format(name=n) for n in ("tool", "app-a1", "app-a2", "app-b1")]
    assert "build cache only: not asked for" in text  # base
    document = json.loads(render_plan_json(the_plan))
    assert document["notes"] == [note.removeprefix("note: ") for note in notes]
    facts = {t["name"]: t for wave in document["waves"] for t in wave}
    assert facts["base"]["output"].startswith("build cache only: not asked for")
    assert facts["base"]["outputs"] == ["type=cacheonly"]  # what its build uses
    assert facts["e2e"]["outputs"] == ["type=cacheonly"]  # its own


def test_render_says_so_too(tmp_path: Path) -> None:
    the_plan = plan(load(SHOP, {}, environ={}), ("e2e",))
    said = list(render_notes(the_plan, "bake", tmp_path / "b.json", [], tmp_path))
    assert f"buildgraph: {NOTE.format(name='tool')}" in said
    assert not any("base is exported" in line for line in said)


def test_a_plan_of_what_was_asked_only_has_no_such_note() -> None:
    the_plan = plan(load(SHOP, {}, environ={}), ())
    assert "not asked for:" not in render_plan_text(the_plan, Style(False), SHOP.parent)
    assert json.loads(render_plan_json(the_plan))["notes"] == []


def test_plan_says_what_the_registry_holds_of_each_fingerprint() -> None:
    from buildgraph.plan.plan import OutputMode
    from buildgraph.render.plan_json import plan_document

    the_plan = plan(load(SHOP, {}, environ={}), ("tool",), OutputMode.PUSH)
    states = {
        "tool": {"held": True, "ref": "r/tool@sha256:" + "1" * 64, "problem": None},
    }
    text = render_plan_text(the_plan, Style(False), SHOP.parent, registry=states)
    assert (
        f"registry: holds this fingerprint (r/tool@sha256:{'1' * 64}): build --push reuses" in text
    )
    down = {"tool": {"held": None, "ref": None, "problem": "registry r does not answer (x)"}}
    text = render_plan_text(the_plan, Style(False), SHOP.parent, registry=down)
    assert "registry: unknown (registry r does not answer (x)): build --push will build it" in text
    assert "registry:" not in render_plan_text(the_plan, Style(False), SHOP.parent)
    [tool] = [
        t
        for wave in plan_document(the_plan, registry=states)["waves"]
        for t in wave
        if t["name"] == "tool"
    ]
    assert tool["registry"] == states["tool"]
