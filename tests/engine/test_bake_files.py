"""bake and Compose files read directly: the installed `docker buildx bake --print`
evaluates them, then buildgraph's graph, plan and build apply. Fixtures:
tests/fixtures/bake_files (HCL with an override file, a matrix, a `target:` link and an
image reference between targets) and tests/fixtures/compose_files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.engine.test_build import buildgraph, events, namespace, summary

pytestmark = pytest.mark.engine


@pytest.fixture()
def bake_project(tmp_path: Path, engine: str) -> Path:
    project = tmp_path / "bake"
    shutil.copytree(FIXTURES / "bake_files", project)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    return project


def targets_of(plan_json: str) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for wave in json.loads(plan_json)["waves"] for t in wave}


def prints_every_target(folder: Path) -> bool:
    """Whether this buildx matches a target pattern (`bake --print '*'`)."""
    done = subprocess.run(
        ["docker", "buildx", "bake", "--print", "*"], cwd=folder, capture_output=True
    )
    return done.returncode == 0


def test_plan_reads_the_files_bake_picks_up_with_their_variables(bake_project: Path) -> None:
    result = buildgraph(
        "plan", "--format", "json", "--var", "TAG=9", cwd=bake_project, env={"NS": "fromenv"}
    )
    assert result.returncode == 0, result.stderr
    targets = targets_of(result.stdout)
    assert {"app", "tool-a", "tool-b"} <= set(targets)
    # --var and the environment set bake's variables; the override file was read too.
    assert targets["app"]["tags"] == [
        "localhost:5000/fromenv/app:9",
        "localhost:5000/fromenv/app:override",
    ]
    assert targets["tool-a"]["needs"] == ["app"]  # the `target:` link
    assert json.loads(result.stdout)["project"] == str(bake_project / "docker-bake.hcl")


def test_a_target_outside_the_selection_that_an_image_comes_from_is_built_first(
    bake_project: Path,
) -> None:
    """app is FROM base's tag, and base is in no group bake would build: bake alone pulls a
    stale base. buildgraph sees every target (where buildx prints them all) and builds
    base for app."""
    result = buildgraph("plan", "app", "--format", "json", cwd=bake_project)
    assert result.returncode == 0, result.stderr
    targets = targets_of(result.stdout)
    if prints_every_target(bake_project):
        assert targets["app"]["needs"] == ["base"]
        assert targets["base"]["reason"].startswith("needed by")
    else:  # an older buildx prints only what is asked: base stays an image to pull
        assert set(targets) == {"app"}


def test_several_files_later_ones_override_and_one_alone_is_read_alone(
    bake_project: Path,
) -> None:
    alone = buildgraph("plan", "app", "-f", "docker-bake.hcl", "--format", "json", cwd=bake_project)
    assert alone.returncode == 0, alone.stderr
    assert targets_of(alone.stdout)["app"]["tags"] == ["localhost:5000/bgbake/app:dev"]
    both = buildgraph(
        "plan", "app", "-f", "docker-bake.hcl", "-f", "docker-bake.override.hcl",
        "--format", "json", cwd=bake_project,
    )  # fmt: skip
    assert targets_of(both.stdout)["app"]["tags"][-1] == "localhost:5000/bgbake/app:override"


def test_graph_validate_and_render_read_it_too(bake_project: Path) -> None:
    graph = buildgraph("graph", cwd=bake_project)
    assert graph.returncode == 0, graph.stderr
    assert '"app" -> "tool-a";' in graph.stdout
    assert buildgraph("validate", cwd=bake_project).returncode == 0
    rendered = buildgraph("render", "--format", "bake", cwd=bake_project)
    assert rendered.returncode == 0, rendered.stderr
    assert set(json.loads(rendered.stdout)["target"]) >= {"app", "tool-a", "tool-b"}


def test_a_compose_file_is_read_as_bake_reads_it(tmp_path: Path, engine: str) -> None:
    project = tmp_path / "compose"
    shutil.copytree(FIXTURES / "compose_files", project)
    result = buildgraph("plan", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr
    targets = targets_of(result.stdout)
    assert set(targets) == {"web", "worker"}  # db has no build section
    assert targets["web"]["platforms"] == ["linux/amd64"]  # from x-bake
    assert targets["worker"]["tags"] == ["localhost:5000/bgcompose/worker:dev"]


def test_what_bake_cannot_read_is_exit_2_naming_the_file(tmp_path: Path, engine: str) -> None:
    (tmp_path / "docker-bake.hcl").write_text('target "a" {\n  context = \n}\n')
    result = buildgraph("plan", cwd=tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "docker-bake.hcl") in result.stderr
    assert "bake cannot read it" in result.stderr and "Traceback" not in result.stderr


def test_a_bake_file_builds_and_pushes_through_buildgraph(bake_project: Path) -> None:
    ns = namespace()
    # base named too: a buildx that prints only what is asked would not show it (above).
    result = buildgraph(
        "build", "base", "tools", "--push", "--format", "json", "--var", f"NS={ns}",
        cwd=bake_project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    done = summary(result.stdout)
    assert {done[n]["status"] for n in ("base", "app", "tool-a", "tool-b")} == {"done"}
    # app is FROM base's tag: bake is told to take it from the base just built.
    rendered = json.loads((bake_project / ".buildgraph" / "bake.json").read_text())
    assert rendered["target"]["app"]["contexts"] == {f"localhost:5000/{ns}/base:dev": "target:base"}
    for name in ("tool-a", "tool-b"):
        pushed = subprocess.run(
            ["docker", "buildx", "imagetools", "inspect", f"localhost:5000/{ns}/{name}:dev"],
            capture_output=True,
        )
        assert pushed.returncode == 0
    assert any(e["event"] == "queued" for e in events(result.stdout))


def test_a_group_bake_cannot_build_does_not_stop_other_names(tmp_path: Path, engine: str) -> None:
    """`*` matches groups too: a group naming a missing target fails bake's print of every
    target, so what was asked for is printed alone (as in a real file, aztfmod/rover)."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "docker-bake.hcl").write_text(
        'group "broken" {\n  targets = ["app", "missing"]\n}\n'
        'target "app" {\n  context = "app"\n}\n'
    )
    result = buildgraph("plan", "app", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(targets_of(result.stdout)) == {"app"}
    broken = buildgraph("plan", "broken", cwd=tmp_path)
    assert broken.returncode == 2 and "missing" in broken.stderr
