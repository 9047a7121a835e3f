"""The plan cache of `build`: a plan is reused only while everything it was made from is
unchanged; each kind of input, changed, makes a new plan."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from buildgraph.build import uptodate as plancache
from buildgraph.build.command import BuildRequest, plan_for
from buildgraph.errors import ConfigError
from buildgraph.plan import load as pipeline

TOML = """
[variables]
TAG = { default = "dev", env = "APP_TAG" }
[target.base]
context = "base"
tags = ["r/base:{{ TAG }}"]
[target.app]
context = "app"
contexts = { assets = "shared" }
tags = ["r/app:{{ TAG }}"]
"""
FILES = {
    "base/Dockerfile": "FROM scratch\n",
    "app/Dockerfile": "FROM scratch\nCOPY --from=assets / /\n",
    "shared/readme": "x",
}


@pytest.fixture(autouse=True)
def cache_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("cache-home")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    # Files these tests write are seconds old at most: trust them as if older (one test
    # below checks the rule itself).
    monkeypatch.setattr(plancache, "SETTLE_NS", -(10**12))
    yield home


@pytest.fixture()
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(TOML, FILES)


@pytest.fixture()
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The project files actually read and planned (not reused), in order."""
    seen: list[Path] = []
    real = pipeline.load

    def counting(file: Path, *args: object, **kwargs: object) -> pipeline.Loaded:
        seen.append(file)
        return real(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "load", counting)
    return seen


def plan(
    project: Path, environ: dict[str, str] | None = None, **request: object
) -> plancache.CachedPlan:
    return plan_for(project, {}, BuildRequest(**request), environ or {})  # type: ignore[arg-type]


def tags(made: plancache.CachedPlan) -> dict[str, tuple[str, ...]]:
    return {p.name: p.target.tags for p in made.plan.targets}


def test_an_unchanged_project_reuses_its_plan(project: Path, loads: list[Path]) -> None:
    first = plan(project)
    second = plan(project)
    assert loads == [project]
    assert not first.reused and second.reused
    assert second.plan == first.plan
    assert second.dockerfiles == first.dockerfiles


def test_editing_the_project_file_makes_a_new_plan(project: Path, loads: list[Path]) -> None:
    plan(project)
    project.write_text(TOML.replace("r/app:", "r/application:"))
    made = plan(project)
    assert not made.reused and tags(made)["app"] == ("r/application:dev",)


def test_editing_a_dockerfile_makes_a_new_plan_with_its_edges(project: Path) -> None:
    assert [p.name for p in plan(project).plan.waves[0]] == ["base", "app"]
    (project.parent / "app/Dockerfile").write_text("FROM r/base:dev\n")
    made = plan(project)
    assert not made.reused
    assert made.plan["app"].needs == ("base",)


def test_a_removed_context_folder_is_an_error_not_an_old_plan(
    make_project: Callable[..., Path],
) -> None:
    inline = '[target.tool]\ncontext = "tool"\ndockerfile-inline = "FROM scratch"\n'
    project = make_project(TOML + inline, {**FILES, "tool/main.go": ""})
    plan(project)
    (project.parent / "tool/main.go").unlink()
    (project.parent / "tool").rmdir()
    with pytest.raises(ConfigError, match="context directory 'tool' does not exist"):
        plan(project)


def test_a_removed_named_context_is_an_error_not_an_old_plan(project: Path) -> None:
    plan(project)
    (project.parent / "shared/readme").unlink()
    (project.parent / "shared").rmdir()
    with pytest.raises(ConfigError, match="named context 'assets'"):
        plan(project)


def test_the_environment_variable_of_a_variable_is_an_input(project: Path) -> None:
    assert tags(plan(project))["base"] == ("r/base:dev",)
    assert plan(project, {"APP_TAG": "dev", "UNRELATED": "1"}).reused is False  # now set
    made = plan(project, {"APP_TAG": "1.2"})
    assert not made.reused and tags(made)["base"] == ("r/base:1.2",)
    assert plan(project, {"APP_TAG": "1.2", "OTHER": "x"}).reused  # unrelated variables: no


def test_command_line_names_mode_and_vars_are_part_of_the_key(project: Path) -> None:
    plan(project)
    assert not plan(project, names=("app",)).reused
    assert not plan(project, push=True).reused
    made = plan_for(project, {"TAG": "9"}, BuildRequest(), {})
    assert not made.reused and tags(made)["app"] == ("r/app:9",)
    assert plan(project).reused and plan(project, push=True).reused


def test_a_change_to_buildgraph_itself_makes_a_new_plan(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(project)
    monkeypatch.setattr(plancache, "code_signature", lambda: "another version")
    assert not plan(project).reused


def test_a_file_changed_while_planning_is_not_trusted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plancache, "SETTLE_NS", 2_000_000_000)  # the real rule
    plan(project)  # its files were written just now: within the window
    assert not plan(project).reused


def test_a_damaged_entry_is_a_miss(project: Path, cache_home: Path) -> None:
    plan(project)
    [entry] = (cache_home / "buildgraph" / "plans").iterdir()
    entry.write_bytes(b"not a pickle")
    assert not plan(project).reused
    assert plan(project).reused  # and the next build records it again


def test_entries_are_the_users_alone_and_outside_the_project(
    project: Path, cache_home: Path
) -> None:
    plan(project)
    [entry] = (cache_home / "buildgraph" / "plans").iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    assert not any(".pickle" in name for _, _, names in os.walk(project.parent) for name in names)


def test_two_keys_sharing_an_entry_name_never_get_each_others_plan(
    project: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plancache, "entry_path", lambda key: cache_home / "one.pickle")
    plan(project, names=("base",))
    made = plan(project, names=("app",))
    assert not made.reused and made.plan.names == ("app",)


def test_installing_a_library_makes_a_new_plan(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    libraries = tmp_path_factory.mktemp("site-packages")
    monkeypatch.setattr(plancache.site, "getsitepackages", lambda: [str(libraries)])
    plan(project)
    assert plan(project).reused
    (libraries / "jinja2-9.0.dist-info").mkdir()
    assert not plan(project).reused
