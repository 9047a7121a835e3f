"""render.notes: what `render` says about running the file it wrote, entitlements included."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode
from buildgraph.render.bake_json import render_bake_json
from buildgraph.render.bake_target import Rebaser
from buildgraph.render.notes import render_notes

TOML = """
[target.app]
context = "../shared files"
output = ["type=local,dest=../dist"]
"""


def notes_for(tmp_path: Path, toml: str) -> list[str]:
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "shared files").mkdir()
    (tmp_path / "shared files" / "Dockerfile").write_text("FROM scratch\n")
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "buildgraph.toml").write_text(toml)
    the_plan = plan(load(root / "buildgraph.toml", {}, environ={}), (), OutputMode.DEFAULT)
    output = root / "bake.json"
    rebaser = Rebaser(the_plan.project, output.parent)
    render_bake_json(the_plan, rebaser)
    return list(render_notes(the_plan, "bake", output, list(rebaser.entitlements), Path.cwd()))


def test_the_command_holds_exactly_the_allow_flags_needed_quoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run, why, make = notes_for(tmp_path, TOML)
    shared, dist = tmp_path / "shared files", tmp_path / "dist"
    assert run == (
        "buildgraph: run it with: cd project && docker buildx bake -f bake.json"
        f" '--allow=fs.read={shared}' --allow=fs.write={dist}"
    )
    assert "buildx 0.19+" in why and "older buildx" in why
    assert make.endswith(f": {dist}")
    assert "fs=*" not in run


def test_no_entitlement_no_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    notes = notes_for(tmp_path, '[target.app]\ncontext = "."\ntags = ["x/app"]\n')
    assert notes == ["buildgraph: run it with: cd project && docker buildx bake -f bake.json"]


def test_an_empty_plan_has_no_command_to_run(tmp_path: Path) -> None:
    project = tmp_path / "buildgraph.toml"
    project.write_text(
        '[target.a]\ncontext = "."\ndockerfile-inline = "FROM scratch"\n[group.none]\ntargets = []\n'
    )
    the_plan = plan(load(project, {}), ["none"])
    assert list(render_notes(the_plan, "bake", tmp_path / "out.json", [], tmp_path)) == []
