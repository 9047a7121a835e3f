"""`buildgraph build`'s flow: the bake started early is stopped whenever the build stops
before feeding it (bad input, a builder gap), and only bake builds start one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from buildgraph.build import command as build_module
from buildgraph.build.command import BuildRequest, run_build
from buildgraph.errors import ConfigError, EnvironmentProblem
from buildgraph.runner import bake, probe
from tests.conftest import HEALTHY_X86

TOML = """
[project]
platforms = ["linux/amd64", "linux/arm64"]
[target.app]
context = "app"
tags = ["localhost:5000/app:1"]
"""


class RecordingEarlyBake:
    made: list[RecordingEarlyBake] = []

    def __init__(self, root: Path, builder: str | None, progress: str | None) -> None:
        self.root, self.stopped = root, False
        RecordingEarlyBake.made.append(self)

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture(autouse=True)
def early(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    RecordingEarlyBake.made = []
    monkeypatch.setattr(bake, "EarlyBake", RecordingEarlyBake)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture()
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(TOML, {"app/Dockerfile": "FROM scratch\nRUN true\n"})


def test_bad_input_stops_the_early_bake(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe, "kept_facts", lambda builder, environ: HEALTHY_X86)
    with pytest.raises(ConfigError, match="no target or group named 'nope'"):
        run_build(project, {}, BuildRequest(names=("nope",)), {})
    [early] = RecordingEarlyBake.made
    assert early.stopped and early.root == project.parent


def test_a_builder_gap_stops_the_early_bake(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_qemu = replace(HEALTHY_X86, binfmt={})
    monkeypatch.setattr(probe, "kept_facts", lambda builder, environ: no_qemu)
    with pytest.raises(EnvironmentProblem, match="linux/arm64 needs QEMU"):
        run_build(project, {}, BuildRequest(), {})
    [early] = RecordingEarlyBake.made
    assert early.stopped


def test_the_early_bake_is_handed_to_the_runner(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "kept_facts", lambda builder, environ: HEALTHY_X86)
    handed = []
    monkeypatch.setattr(
        build_module, "build", lambda made, request, facts, early: handed.append(early) or 0
    )
    assert run_build(project, {}, BuildRequest(), {}) == 0
    assert handed == RecordingEarlyBake.made


@pytest.mark.parametrize(
    "request_", [BuildRequest(via="commands"), BuildRequest(push=True, split_platforms=True)]
)
def test_only_bake_builds_start_one_early(
    project: Path, monkeypatch: pytest.MonkeyPatch, request_: BuildRequest
) -> None:
    monkeypatch.setattr(probe, "kept_facts", lambda builder, environ: HEALTHY_X86)
    monkeypatch.setattr(build_module, "build", lambda made, request, facts, early: 0)
    run_build(project, {}, request_, {})
    assert RecordingEarlyBake.made == []


@pytest.mark.parametrize("where", ["missing-folder/buildgraph.toml", "typo.toml"])
def test_a_project_file_that_is_not_there_starts_nothing_and_makes_nothing(
    tmp_path: Path, where: str
) -> None:
    with pytest.raises(ConfigError, match="project file not found"):
        run_build(tmp_path / where, {}, BuildRequest(), {})
    assert RecordingEarlyBake.made == []
    assert list(tmp_path.iterdir()) == []


def test_the_early_bake_starts_before_any_planning_module_is_imported() -> None:
    """What `build` imports to start bake (the CLI, build.command, runner.bake, the project
    file's locator) pulls in none of what plans: bake's start-up overlaps their import."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import buildgraph.cli.main, buildgraph.build.command, buildgraph.runner.bake\n"
        "import buildgraph.projectfile.locate\n"
        "heavy = ('jinja2', 'networkx', 'tomli', 'buildgraph.plan', 'buildgraph.resolve',\n"
        "         'buildgraph.graph', 'buildgraph.dockerfiles', 'buildgraph.projectfile.document')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_second_build_in_the_project_is_refused_at_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two builds would write one .buildgraph/: the second is refused (exit 3) before it
    starts a bake or plans, naming the process that holds the project."""
    import os

    from buildgraph.locations import ProjectLock

    monkeypatch.setattr(probe, "kept_facts", lambda builder, environ: HEALTHY_X86)
    held = ProjectLock(project.parent)
    try:
        with pytest.raises(EnvironmentProblem, match=f"process {os.getpid()}") as caught:
            run_build(project, {}, BuildRequest(), {})
        assert caught.value.exit_code == 3
        assert RecordingEarlyBake.made == []
    finally:
        held.release()
    monkeypatch.setattr(build_module, "build", lambda made, request, facts, early: 0)
    assert run_build(project, {}, BuildRequest(), {}) == 0  # free again once released
