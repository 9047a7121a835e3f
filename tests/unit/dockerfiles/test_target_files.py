from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from buildgraph.dockerfiles import target_files
from buildgraph.dockerfiles.dockerfile import DockerfileInfo
from buildgraph.dockerfiles.target_files import read_dockerfiles
from buildgraph.errors import ConfigError, Problem
from buildgraph.projectfile.document import load_document
from buildgraph.resolve.project import resolve_project

DOCKERFILE = """\
ARG BASE=alpine
FROM ${BASE}:3 AS build
ARG LATE
COPY --from=tools:1 /bin/x /x
FROM build
"""


def infos(make_project: Callable[..., Path], targets: str) -> dict[str, DockerfileInfo]:
    path = make_project(targets, {"Dockerfile": DOCKERFILE})
    project = resolve_project(load_document(path, None), {}, {})
    return dict(read_dockerfiles(project))


def test_args_the_dockerfile_cannot_see_share_one_parse(
    make_project: Callable[..., Path],
) -> None:
    found = infos(
        make_project,
        """
[target.a]
args = { LATE = "1", OTHER = "x" }
[target.b]
args = { LATE = "2" }
[target.c]
""",
    )
    # LATE is declared after FROM: FROM cannot see it, so it changes nothing.
    assert found["a"] is found["b"] is found["c"]


def test_global_and_predefined_args_change_the_parse(make_project: Callable[..., Path]) -> None:
    found = infos(
        make_project,
        """
[target.a]
[target.b]
args = { BASE = "debian" }
[target.c]
args = { BASE = "debian", TARGETARCH = "arm64" }
""",
    )
    refs = {name: [r.ref for r in info.external_refs] for name, info in found.items()}
    assert refs == {
        "a": ["alpine:3", "tools:1"],
        "b": ["debian:3", "tools:1"],
        "c": ["debian:3", "tools:1"],
    }
    assert found["a"] is not found["b"]
    assert found["b"] is not found["c"]  # a predefined arg may change the FROM of some


def _problems(path: Path) -> list[Problem]:
    project = resolve_project(load_document(path, None), {}, {})
    with pytest.raises(ConfigError) as caught:
        read_dockerfiles(project)
    return list(caught.value.problems)


def test_a_dockerfile_that_cannot_be_read_is_an_error_not_a_lost_edge(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_project('[target.app]\ntags = ["app"]\n', {"Dockerfile": "FROM base\n"})

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(target_files, "open", refuse, raising=False)
    [problem] = _problems(path)
    assert (problem.target, problem.key) == ("app", "dockerfile")
    assert "cannot be read: Permission denied" in problem.message
    assert problem.line == 1


def test_a_directory_or_fifo_where_the_dockerfile_should_be_is_an_error(
    make_project: Callable[..., Path],
) -> None:
    path = make_project(
        '[target.dir]\ncontext = "a"\n[target.fifo]\ncontext = "b"\n', {"b/x": "", "a/x": ""}
    )
    (path.parent / "a" / "Dockerfile").mkdir()
    os.mkfifo(path.parent / "b" / "Dockerfile")  # opened, it would block for ever
    problems = _problems(path)
    assert [(p.target, p.key) for p in problems] == [("dir", "dockerfile"), ("fifo", "dockerfile")]
    assert "is a directory" in problems[0].message
    assert "is not a regular file" in problems[1].message


def test_nul_bytes_and_overlong_names_in_paths_are_clean_errors(
    make_project: Callable[..., Path],
) -> None:
    long = "a" * 300
    path = make_project(
        f"""
[target.nul]
dockerfile = "Dock\\u0000erfile"
[target.long]
dockerfile = "{long}"
[target.nulctx]
context = "c\\u0000tx"
[target.longctx]
context = "{long}"
[target.named]
contexts = {{ a = "x\\u0000y", b = "{long}" }}
""",
        {"Dockerfile": "FROM alpine\n"},
    )
    problems = _problems(path)
    assert [(p.target, p.key) for p in problems] == [
        ("nul", "dockerfile"),
        ("long", "dockerfile"),
        ("nulctx", "context"),
        ("longctx", "context"),
        ("named", "contexts"),
        ("named", "contexts"),
    ]
    for problem in problems:
        assert "\x00" not in str(problem) and len(problem.message) < 600
    assert "NUL byte" in problems[0].message
    assert "too long" in problems[1].message


def test_a_context_that_denies_access_is_a_clean_error(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a user without access to a mode-000 context sees it (root reads through 000).
    path = make_project('[target.app]\ncontext = "locked"\n', {"locked/Dockerfile": "FROM a\n"})
    locked, real_stat = path.parent / "locked", os.stat

    def stat(target: object, *args: object, **kwargs: object) -> os.stat_result:
        if str(target).startswith(str(locked) + os.sep):
            raise PermissionError(13, "Permission denied", str(target))
        return real_stat(target, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", stat)
    [problem] = _problems(path)
    assert (problem.target, problem.key) == ("app", "dockerfile")
    assert "cannot be read: Permission denied" in problem.message
