"""The `docker buildx bake --print` command line, how many prints a definition costs, and
what its failures become."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from buildgraph.errors import EnvironmentProblem
from buildgraph.runner.bake_print import (
    DEFAULT_COPY,
    DEFAULT_COPY_HCL,
    bake_print_argv,
    print_definitions,
)
from buildgraph.runner.process import Captured


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


# A fake bake: what it prints for the names after `--`, and whether our file of the
# default group was read with the definition. Each run is kept.
Answer = Callable[[list[str], bool], Captured]


class FakeBake:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.runs: list[list[str]] = []

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        timeout: float | None,
        env: Mapping[str, str] | None = None,
    ) -> Captured:
        self.runs.append(list(argv))
        names = list(argv[argv.index("--") + 1 :]) if "--" in argv else []
        ours = [Path(a) for a in argv if a.endswith("default-of-the-files.hcl")]
        if ours:  # there while bake reads it, and what it says
            assert ours[0].read_text() == DEFAULT_COPY_HCL
        return self.answer(names, bool(ours))

    @property
    def names(self) -> list[list[str]]:
        return [run[run.index("--") + 1 :] if "--" in run else [] for run in self.runs]


def printed(groups: dict[str, list[str]], targets: list[str], copy: str | None = None) -> Captured:
    """A print of bake 0.29: `copy` our group's description, with the default's members."""
    shown: dict[str, Any] = {n: {"targets": m} for n, m in groups.items()}
    if copy is not None:
        shown[DEFAULT_COPY] = {"description": copy, "targets": groups.get("file-default", [])}
        shown.pop("file-default", None)
    text = json.dumps({"group": shown, "target": {t: {"context": "."} for t in targets}})
    return Captured(0, text, "")


@pytest.fixture()
def environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A docker on PATH (never run: the fake is) and a docker setup of its own, so what
    is remembered of its buildx is this test's alone."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "docker").write_text("#!/bin/sh\nexit 1\n")
    (folder / "docker").chmod(0o755)
    (tmp_path / "docker.sock").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {
        "PATH": str(folder),
        "DOCKER_HOST": f"unix://{tmp_path / 'docker.sock'}",
        "DOCKER_CONFIG": str(tmp_path / "config"),
    }


def read(
    bake: FakeBake, environ: dict[str, str], names: list[str], files: tuple[str, ...] = ("b.hcl",)
) -> tuple[dict[str, Any], bool]:
    folder = Path(environ["DOCKER_CONFIG"]).parent
    paths = [folder / f for f in files]
    return print_definitions(paths, names, {}, folder, environ, run=bake)


def test_the_default_group_is_one_print_of_every_target(environ: dict[str, str]) -> None:
    # bake 0.29 prints as `default` every name asked; our group holds the file's.
    bake = FakeBake(
        lambda names, ours: printed(
            {"default": ["a", "b", "c", DEFAULT_COPY, "g"], "g": ["c"], "file-default": ["g", "a"]},
            ["a", "b", "c"],
            copy="declared",
        )
    )
    definition, complete = read(bake, environ, [])
    assert bake.names == [["*"]] and complete
    assert definition["group"] == {"default": {"targets": ["a", "g"]}, "g": {"targets": ["c"]}}
    assert set(definition["target"]) == {"a", "b", "c"}


def test_a_group_naming_default_gets_the_files_default(environ: dict[str, str]) -> None:
    bake = FakeBake(
        lambda names, ours: printed(
            {"default": ["a", "b", "other", DEFAULT_COPY], "other": ["default", "b"],
             "file-default": ["a"]},
            ["a", "b"],
            copy="declared",
        )
    )  # fmt: skip
    definition, _ = read(bake, environ, ["other"])
    assert bake.names == [["other", "*"]]
    assert definition["group"]["default"] == {"targets": ["a"]}


def test_compose_files_alone_default_to_every_target(environ: dict[str, str]) -> None:
    bake = FakeBake(
        lambda names, ours: printed(
            {"default": [DEFAULT_COPY, "web", "worker"]}, ["web", "worker"], copy="undeclared"
        )
    )
    definition, complete = read(bake, environ, [], ("compose.yaml", "compose.override.YML"))
    assert len(bake.runs) == 1 and complete
    assert definition["group"] == {"default": {"targets": ["web", "worker"]}}


def test_an_undeclared_default_group_is_printed_alone_when_needed(
    environ: dict[str, str],
) -> None:
    """Compose with an HCL file beside it: its default group is Compose's, which no
    reference reaches; the target `extra` the HCL file adds is not in it."""

    def answer(names: list[str], ours: bool) -> Captured:
        if names == ["default"]:
            return printed({"default": ["web"]}, ["web"])
        return printed(
            {"default": [DEFAULT_COPY, "extra", "web"]}, ["extra", "web"], copy="undeclared"
        )

    bake = FakeBake(answer)
    definition, complete = read(bake, environ, [], ("compose.yaml", "docker-bake.hcl"))
    assert bake.names == [["*"], ["default"]] and complete
    assert definition["group"] == {"default": {"targets": ["web"]}}
    assert set(definition["target"]) == {"extra", "web"}
    # Names that do not reach it: one print, and no default group.
    bake = FakeBake(answer)
    definition, _ = read(bake, environ, ["extra"], ("compose.yaml", "docker-bake.hcl"))
    assert bake.names == [["extra", "*"]] and "default" not in definition["group"]


def test_a_buildx_matching_no_pattern_is_remembered(environ: dict[str, str]) -> None:
    def answer(names: list[str], ours: bool) -> Captured:
        if "*" in names:
            return Captured(1, "", "ERROR: failed to find target *\n")
        return printed({"default": ["a"]}, ["a"])

    bake = FakeBake(answer)
    assert read(bake, environ, [])[1] is False
    assert bake.names == [["*"], []]
    bake = FakeBake(answer)
    definition, complete = read(bake, environ, [])
    assert bake.names == [[]] and not complete  # one print: the default group, as bake does
    assert definition["group"] == {"default": {"targets": ["a"]}}
    # Another docker setup is not taken for this one.
    bake = FakeBake(answer)
    read(bake, {**environ, "DOCKER_CONFIG": environ["DOCKER_CONFIG"] + "-other"}, [])
    assert len(bake.runs) == 2


def test_a_group_bake_cannot_build_is_not_taken_for_an_old_buildx(
    environ: dict[str, str],
) -> None:
    def answer(names: list[str], ours: bool) -> Captured:
        if "*" in names:
            return Captured(1, "", "ERROR: failed to find target missing\n")
        return printed({"default": ["a"]}, ["a"])

    for _ in range(2):
        bake = FakeBake(answer)
        _, complete = read(bake, environ, ["a"])
        assert bake.names == [["a", "*"], ["a"]] and not complete
