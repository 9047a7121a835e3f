"""The `docker buildx bake --print` command line, and what its failures become."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import EnvironmentProblem
from buildgraph.runner.bake_print import bake_print_argv, print_definitions


def test_names_follow_a_double_dash_and_each_set_is_one_argument() -> None:
    argv = bake_print_argv(
        "docker", [Path("a.hcl"), Path("b.hcl")], ["-odd", "app"], ["app.tags=x y", "*.push=true"]
    )
    assert argv == [
        "docker", "buildx", "bake", "-f", "a.hcl", "-f", "b.hcl",
        "--set=app.tags=x y", "--set=*.push=true", "--print", "--", "-odd", "app",
    ]  # fmt: skip
    assert bake_print_argv("docker", [Path("a.hcl")], [])[-1] == "--print"


def test_no_docker_on_path_is_an_environment_problem(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="docker is not on PATH"):
        print_definitions([tmp_path / "docker-bake.hcl"], [], {}, tmp_path, {"PATH": str(tmp_path)})


def test_a_docker_without_buildx_is_an_environment_problem(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho \"docker: 'buildx' is not a docker command.\" >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(EnvironmentProblem, match="no buildx plugin"):
        print_definitions(
            [tmp_path / "docker-bake.hcl"], ["app"], {}, tmp_path, {"PATH": str(tmp_path)}
        )
