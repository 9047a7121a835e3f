"""bake and Compose files read directly: the installed `docker buildx bake --print`
evaluates them, then buildgraph's graph, plan and build apply. Fixtures:
tests/fixtures/bake_files (HCL with an override file, a matrix, a `target:` link and an
image reference between targets) and tests/fixtures/compose_files."""

from __future__ import annotations

import json
import os
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


def test_a_default_group_bake_cannot_build_is_refused_only_when_selected(
    tmp_path: Path, engine: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "docker-bake.hcl").write_text(
        'group "default" {\n  targets = ["a", "missing"]\n}\ntarget "a" {}\n'
    )
    refused = buildgraph("plan", cwd=tmp_path)
    assert refused.returncode == 2 and "missing" in refused.stderr
    named = buildgraph("plan", "a", "--format", "json", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert set(targets_of(named.stdout)) == {"a"}


# Definitions whose default group bake evaluates: (files, or a fixture folder, whether an
# HCL or JSON file or Compose files alone declare it, so that one print says it on a buildx
# matching patterns).
DEFAULT_GROUPS: dict[str, tuple[dict[str, str] | Path, bool]] = {
    "fixture bake_files": (FIXTURES / "bake_files", True),
    "fixture compose_files": (FIXTURES / "compose_files", True),
    "nested groups, a function, a variable, a group naming default": (
        {"docker-bake.hcl": """\
variable "LIST" {
  default = "x,y"
}
group "default" {
  targets = concat(["g1"], split(",", LIST))
}
group "g1" {
  targets = ["a", "g2"]
}
group "g2" {
  targets = ["b", "b"]
}
group "other" {
  targets = ["default", "c"]
}
target "a" {}
target "b" {}
target "c" {}
target "x" {}
target "y" {}
target "z" {}
"""},
        True,
    ),
    "an override file's default group": (
        {
            "docker-bake.hcl": 'group "default" {\n  targets = ["a"]\n}\n'
            'target "a" {}\ntarget "b" {}\ntarget "c" {}\n',
            "docker-bake.override.hcl": 'group "default" {\n  targets = ["c", "b"]\n}\n',
        },
        True,
    ),
    "JSON with a variable": (
        {"docker-bake.json": json.dumps({
            "variable": {"WHICH": {"default": "b"}},
            "group": {"default": {"targets": ["a", "${WHICH}"]}},
            "target": {"a": {}, "b": {}, "c": {}},
        })},
        True,
    ),
    "Compose with an HCL default group": (
        {
            "compose.yaml": "services:\n  web: {build: {context: .}}\n"
            "  worker: {build: {context: .}}\n  db: {image: postgres}\n",
            "docker-bake.hcl": 'group "default" {\n  targets = ["web", "extra"]\n}\n'
            'target "extra" {}\n',
        },
        True,
    ),
    "Compose files alone": (
        {
            "compose.yaml": "services:\n  web: {build: {context: .}}\n  db: {image: postgres}\n",
            "compose.override.yaml": "services:\n  worker: {build: {context: .}}\n",
        },
        True,
    ),
    "Compose with an HCL file adding a target": (
        {
            "compose.yaml": "services:\n  web: {build: {context: .}}\n",
            "docker-bake.hcl": 'target "web" {\n  args = { X = "1" }\n}\ntarget "extra" {}\n',
        },
        False,
    ),
    "a target named default": ({"docker-bake.hcl": 'target "default" {}\ntarget "b" {}\n'}, False),
}  # fmt: skip


def definition_of(case: str, folder: Path) -> list[Path]:
    """The files of `case` written in `folder` (a Dockerfile beside them)."""
    files = DEFAULT_GROUPS[case][0]
    if isinstance(files, Path):
        shutil.copytree(files, folder, dirs_exist_ok=True)
        return sorted(p for p in folder.iterdir() if p.suffix in (".hcl", ".json", ".yaml"))
    (folder / "Dockerfile").write_text("FROM scratch\n")
    for name, text in files.items():
        (folder / name).write_text(text)
    return [folder / name for name in files]


@pytest.mark.parametrize("case", list(DEFAULT_GROUPS))
def test_the_default_group_is_what_bake_builds_in_one_print(
    case: str, tmp_path: Path, buildx: str, buildx_version: tuple[int, int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from buildgraph.plan.load import load, requested_targets

    paths = definition_of(case, tmp_path)
    declared = DEFAULT_GROUPS[case][1]
    theirs = subprocess.run(
        [buildx, "buildx", "bake", *(f for p in paths for f in ("-f", str(p))), "--print"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    bake_printed = json.loads(theirs.stdout)
    # Each bake process counted by a docker of ours in front of the real one; what is
    # remembered of the buildx goes to a cache of this test's.
    shim, log = tmp_path / "bin" / "docker", tmp_path / "bake-runs"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\n[ "$2" = bake ] && echo "$*" >> {log}\nexec {buildx} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    environ = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}

    def bake_runs() -> int:
        runs = len(log.read_text().splitlines()) if log.exists() else 0
        log.unlink(missing_ok=True)
        return runs

    for _ in range(2):  # the second read: an old buildx is known by then
        project = load(paths, {}, cwd=tmp_path, environ=environ).project
        assert requested_targets(project, ["default"]) == set(bake_printed["target"])
        # buildx 0.13 prints no default group of a target named default alone.
        printed_default = bake_printed.get("group", {}).get("default")
        group = project.groups.get("default")
        assert (group and sorted(group.targets)) == (
            printed_default and sorted(printed_default["targets"])
        )
        runs = bake_runs()
        if buildx_version >= (0, 26, 0):
            assert runs == (1 if declared else 2)
            assert set(project.targets) >= set(bake_printed["target"])  # and every other
        else:
            assert runs <= 2
    assert runs == 1 or buildx_version >= (0, 26, 0)


def test_a_group_naming_the_default_group_builds_its_members(tmp_path: Path, buildx: str) -> None:
    """`other` names `default`: bake builds the default group's members for it."""
    paths = definition_of("nested groups, a function, a variable, a group naming default", tmp_path)
    result = buildgraph("plan", "other", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    theirs = subprocess.run(
        [buildx, "buildx", "bake", "-f", str(paths[0]), "--print", "other"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert set(targets_of(result.stdout)) == set(json.loads(theirs.stdout)["target"])
    assert set(targets_of(result.stdout)) == {"a", "b", "c", "x", "y"}
