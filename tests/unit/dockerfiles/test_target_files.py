from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from buildgraph.dockerfiles.dockerfile import DockerfileInfo
from buildgraph.dockerfiles.target_files import read_dockerfiles
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
