"""The plan cache of `build`: a plan is reused only while everything it was made from is
unchanged; each kind of input, changed, makes a new plan."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from buildgraph.build import uptodate as plancache
from buildgraph.build.command import BuildRequest, plan_for
from buildgraph.errors import ConfigError
from buildgraph.plan import load as pipeline
from buildgraph.projectfile.locate import locate_definition

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
    return plan_for(locate_definition(project), {}, BuildRequest(**request), environ or {})  # type: ignore[arg-type]


def tags(made: plancache.CachedPlan) -> dict[str, tuple[str, ...]]:
    return {p.name: p.target.tags for p in made.plan.targets}


def test_an_unchanged_project_reuses_its_plan(project: Path, loads: list[Path]) -> None:
    first = plan(project)
    second = plan(project)
    assert loads == [project]
    assert not first.reused and second.reused
    assert second.plan == first.plan
    assert second.dockerfiles == first.dockerfiles


@pytest.mark.parametrize("call", ["timestamp()", "uuidv4()"])
def test_a_plan_that_called_an_impure_function_is_made_again(
    make_project: Callable[..., Path], loads: list[Path], call: str
) -> None:
    project = make_project(
        TOML.replace('"r/app:{{ TAG }}"', f'"r/app:{{{{ md5({call}) }}}}"'), FILES
    )
    first, second = plan(project), plan(project)
    assert not first.reused and not second.reused and loads == [project, project]
    assert tags(first)["app"] != tags(second)["app"] or call == "timestamp()"


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
    made = plan_for(locate_definition(project), {"TAG": "9"}, BuildRequest(), {})
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
    entry.write_bytes(b"not an entry")
    assert not plan(project).reused
    assert plan(project).reused  # and the next build records it again


def test_entries_are_the_users_alone_and_outside_the_project(
    project: Path, cache_home: Path
) -> None:
    plan(project)
    [entry] = (cache_home / "buildgraph" / "plans").iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    assert not any(entry.name in names for _, _, names in os.walk(project.parent))


def test_two_keys_sharing_an_entry_name_never_get_each_others_plan(
    project: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plancache, "entry_path", lambda key: cache_home / "one.json")
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


# The entry: JSON, decoded into the same frozen objects, strictly.

EXAMPLE = Path(__file__).parents[3] / "examples" / "monorepo" / "buildgraph.toml"
RICH = """
[project]
name = "rich"
platforms = ["linux/amd64", "linux/arm64"]
registry = "r.test/rich"
[variables]
TAG = { default = "dev", env = "RICH_TAG" }
[target._common]
labels = { vendor = "rich", title = "{{ target }}" }
args = { TAG = "{{ TAG }}" }
[target.base]
inherits = ["_common"]
context = "base"
tags = ["{{ registry }}/base:{{ TAG }}"]
output = [{ type = "image", push = "false" }, "type=cacheonly"]
cache-to = [{ type = "inline" }]
[target.app]
inherits = ["_common"]
context = "app"
matrix = { variant = ["a", "b"], level = ["1", "2"] }
matrix-exclude = [{ variant = "b", level = "2" }]
name = "app-{{ variant }}{{ level }}"
args = { VARIANT = "{{ variant }}" }
tags = ["{{ registry }}/app:{{ TAG }}-{{ variant }}{{ level }}"]
contexts = { lib = "app/lib", base = "target:base", tool = "docker-image://busybox:1" }
target = "release"
no-cache = true
shm-size = "128m"
[target.tool]
context = "tools"
dockerfile-inline = "FROM scratch\\nCOPY tool.sh /tool.sh\\n"
platforms = ["linux/amd64"]
output = [{ type = "local", dest = "out/tool" }]
depends_on = ["base"]
[group.default]
targets = ["app", "tool"]
description = "all of it"
"""
RICH_FILES = {
    "base/Dockerfile": "FROM busybox:1.36 AS fetch\nRUN true\nFROM scratch\nCOPY --from=fetch / /\n",
    "app/Dockerfile": (
        "ARG TAG=dev\n"
        "FROM --platform=$BUILDPLATFORM r.test/rich/base:${TAG} AS build\n"
        "RUN make\nRUN make test\n"
        "FROM build AS test\nRUN --mount=from=lib,target=/lib true\n"
        "FROM alpine:3.19 AS release\nCOPY --from=build /out /\n"
    ),
    "app/lib/x": "",
    "tools/tool.sh": "",
}


def shape(value: object) -> object:
    """The types all the way down: equal dataclasses could still hold a list for a tuple,
    a dict for a read-only mapping."""
    if hasattr(value, "__dataclass_fields__"):
        names = value.__dataclass_fields__
        return (type(value), tuple((n, shape(getattr(value, n))) for n in names))
    if isinstance(value, tuple | list):
        return (type(value), tuple(shape(v) for v in value))
    if hasattr(value, "items"):
        return (type(value), tuple((k, shape(v)) for k, v in value.items()))
    return type(value)


@pytest.mark.parametrize("which", ["example", "rich"])
@pytest.mark.parametrize("request_", [{}, {"push": True}, {"load": True, "names": ("app-a1",)}])
def test_a_reused_plan_equals_a_fresh_one(
    make_project: Callable[..., Path], which: str, request_: dict[str, object]
) -> None:
    if which == "example":
        project = EXAMPLE
        request_ = {**request_, "names": ()}  # app-a1 is the rich fixture's
    else:
        project = make_project(RICH, RICH_FILES)
    fresh = plan(project, **request_)  # type: ignore[arg-type]
    reused = plan(project, **request_)  # type: ignore[arg-type]
    assert reused.reused and not fresh.reused
    assert reused.plan == fresh.plan  # every dataclass, all the way down
    assert reused.dockerfiles == fresh.dockerfiles
    assert shape(reused.plan) == shape(fresh.plan)
    assert shape(reused.dockerfiles) == shape(fresh.dockerfiles)
    if which == "rich" and not request_:
        assert len(fresh.plan.targets) == 5 and any(p.links for p in fresh.plan.targets)
        assert any(len(info.stages) > 2 for info in fresh.dockerfiles.values())


def test_an_entry_is_json_not_pickle(project: Path, cache_home: Path) -> None:
    plan(project)
    [entry] = (cache_home / "buildgraph" / "plans").iterdir()
    header, body = entry.read_bytes().split(b"\n")
    assert json.loads(header)[0] == plancache.ENTRY_FORMAT and json.loads(body)
    assert "pickle" not in Path(plancache.__file__).read_text()


def entry_of(cache_home: Path) -> tuple[Path, list[object], list[object]]:
    [entry] = (cache_home / "buildgraph" / "plans").iterdir()
    header, body = entry.read_bytes().split(b"\n")
    return entry, json.loads(header), json.loads(body)


def spoiled(body: list[Any], how: str) -> object:
    """The plan's JSON, spoiled one way: each is a miss."""
    project, _, planned, _, _, infos, _ = body
    target = project[2][0]
    if how == "a field of another type":
        planned[0][1] = str(planned[0][1])
    elif how == "a boolean for a number":
        planned[0][1] = True
    elif how == "a field missing":
        del target[-1]
    elif how == "a field more":
        planned[0].append(1)
    elif how == "a null among the attributes":
        target[1]["tags"] = [None]
    elif how == "a position out of range":
        planned[0][0] = 10**6
    elif how == "a negative position":
        planned[0][0] = -1
    elif how == "a name not planned":
        planned[0][4] = ["nobody"]
    elif how == "an unknown mode":
        body[3] = "sideways"
    elif how == "a relative project file":
        project[0] = "buildgraph.toml"
    elif how == "two targets of one name":
        project[2].append(project[2][0])
    elif how == "a stage's line as text":
        infos[0][0][0][4] = "1"
    elif how == "an object for the plan":
        return {"plan": body}
    elif how == "deep nesting":
        return "deep"
    return body


SPOILS = [
    "a field of another type",
    "a boolean for a number",
    "a field missing",
    "a field more",
    "a null among the attributes",
    "a position out of range",
    "a negative position",
    "a name not planned",
    "an unknown mode",
    "a relative project file",
    "two targets of one name",
    "a stage's line as text",
    "an object for the plan",
    "deep nesting",
]


@pytest.mark.parametrize("how", SPOILS)
def test_a_spoiled_entry_is_a_miss_never_an_error(
    make_project: Callable[..., Path], cache_home: Path, how: str
) -> None:
    project = make_project(RICH, RICH_FILES)
    plan(project)
    entry, header, body = entry_of(cache_home)
    made = spoiled(body, how)
    text = b"[" * 100_000 + b"]" * 100_000 if made == "deep" else json.dumps(made).encode()
    entry.write_bytes(json.dumps(header).encode() + b"\n" + text)
    again = plan(project)
    assert not again.reused and len(again.plan.targets) == 5


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"not json\n[]", b"[1]\n[]", b"\xff\xfe\n\x00", b'[3,"k",[],[],[],[]]'],
)
def test_a_damaged_header_is_a_miss(project: Path, cache_home: Path, data: bytes) -> None:
    plan(project)
    entry, _, _ = entry_of(cache_home)
    entry.write_bytes(data)
    assert not plan(project).reused


def test_a_header_of_changed_contents_is_a_miss(project: Path, cache_home: Path) -> None:
    plan(project)
    entry, header, body = entry_of(cache_home)
    header[2][0][1] = "something else"  # type: ignore[index]
    entry.write_bytes(json.dumps(header).encode() + b"\n" + json.dumps(body).encode())
    assert not plan(project).reused


def test_an_entry_writable_by_others_is_not_trusted(project: Path, cache_home: Path) -> None:
    plan(project)
    entry, _, _ = entry_of(cache_home)
    entry.chmod(0o666)
    assert not plan(project).reused


def test_an_entry_that_is_a_link_is_not_trusted(project: Path, cache_home: Path) -> None:
    plan(project)
    entry, _, _ = entry_of(cache_home)
    kept = cache_home / "kept"
    entry.rename(kept)
    entry.symlink_to(kept)
    assert not plan(project).reused


def test_an_entry_of_another_user_is_not_trusted(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan(project)
    monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 4242)
    assert not plan(project).reused


def test_the_cache_folder_is_made_0700(project: Path, cache_home: Path) -> None:
    plan(project)
    assert stat.S_IMODE((cache_home / "buildgraph").stat().st_mode) == 0o700


def test_a_plan_json_cannot_hold_as_it_is_is_not_recorded(project: Path, cache_home: Path) -> None:
    made = plan(project)
    first = made.plan.targets[0]
    odd = replace(first.target, attrs={**first.target.attrs, "tags": ["a list"]})
    project_ = replace(made.plan.project, targets={**made.plan.project.targets, first.name: odd})
    bad = replace(
        made,
        plan=replace(
            made.plan,
            project=project_,
            targets=(replace(first, target=odd), *made.plan.targets[1:]),
        ),
    )
    read = plancache.PathsRead((project,), (), ())
    assert not plancache.record("another key", bad, read, (), {}, 0)
