from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.dockerfile import normalize_ref, parse_dockerfile


def refs(text: str, args: dict[str, str] | None = None) -> list[tuple[str, int, str]]:
    return [(r.ref, r.line, r.instruction) for r in parse_dockerfile(text, args).external_refs]


def test_from_copy_and_mount_references() -> None:
    text = """\
FROM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache,from=cache-image:1 go build
COPY --link --from=tools/linter:2 /bin/lint /bin/
FROM scratch
COPY --from=build /out /
COPY --from=0 /x /
"""
    assert refs(text) == [
        ("golang:1.22", 1, "FROM"),
        ("cache-image:1", 2, "RUN --mount=from"),
        ("tools/linter:2", 3, "COPY --from"),
    ]


def test_meta_args_expand_with_defaults_overrides_and_operators() -> None:
    text = """\
ARG REGISTRY=localhost:5000/acme
ARG TAG
ARG FULL=${REGISTRY}/base
FROM ${FULL}:${TAG:-dev}
FROM $REGISTRY/other:${TAG:+x}
"""
    assert [r[0] for r in refs(text)] == [
        "localhost:5000/acme/base:dev",
        "localhost:5000/acme/other:",
    ]
    assert [r[0] for r in refs(text, {"TAG": "9", "REGISTRY": "r"})][:1] == ["r/base:9"]


def test_undeclared_build_args_do_not_reach_from() -> None:
    assert refs("FROM img:${NOPE:-x}\n", {"NOPE": "y"}) == [("img:x", 1, "FROM")]


def test_platform_args_leave_the_ref_out_but_keep_the_stage() -> None:
    info = parse_dockerfile("FROM --platform=$BUILDPLATFORM golang:${TARGETARCH}\nRUN make\n")
    assert info.external_refs == ()
    assert info.stages[0].platform == "$BUILDPLATFORM"


def test_stages_names_platforms_and_run_lines() -> None:
    text = """\
# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang AS Build
RUN go build \\
    ./...
RUN ["echo", "exec form"]
from alpine as final
COPY --from=build /a /b
"""
    info = parse_dockerfile(text)
    assert [(s.name, s.base, s.platform, s.line, s.run_lines) for s in info.stages] == [
        ("build", "golang", "$BUILDPLATFORM", 2, (3, 5)),
        ("final", "alpine", None, 6, ()),
    ]
    assert [r.ref for r in info.external_refs] == ["golang", "alpine"]


def test_continuations_comments_and_escape_directive() -> None:
    text = """\
# escape=`
FROM a:1 `
  AS one
# a comment inside nothing
COPY `
  # comment inside a continued instruction
  --from=b:2 /x /y
"""
    assert refs(text) == [("a:1", 2, "FROM"), ("b:2", 5, "COPY --from")]


def test_heredoc_bodies_are_not_instructions() -> None:
    text = """\
FROM base:1
RUN <<EOF
FROM not-an-image:1
COPY --from=not-either /a /b
EOF
COPY <<-"DATA" <<OTHER /x
FROM still-not
DATA
FROM nor-this
OTHER
COPY --from=real:2 /a /b
"""
    assert refs(text) == [("base:1", 1, "FROM"), ("real:2", 11, "COPY --from")]


def test_stage_names_and_scratch_are_not_images() -> None:
    text = "FROM scratch AS s\nFROM s\nCOPY --from=S /a /b\n"
    assert refs(text) == []


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("alpine", "docker.io/library/alpine:latest"),
        ("alpine:3.19", "docker.io/library/alpine:3.19"),
        ("acme/app", "docker.io/acme/app:latest"),
        ("docker.io/acme/app:1", "docker.io/acme/app:1"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
        ("localhost/a", "localhost/a:latest"),
        ("ghcr.io/o/r:v1", "ghcr.io/o/r:v1"),
        ("alpine@sha256:" + "a" * 64, "docker.io/library/alpine@sha256:" + "a" * 64),
        ("a/b:1@sha256:" + "b" * 64, "docker.io/a/b:1@sha256:" + "b" * 64),
    ],
)
def test_normalize_ref(ref: str, full: str) -> None:
    assert normalize_ref(ref) == full


@given(st.text(max_size=300))
def test_parser_never_raises_and_lines_are_in_the_file(text: str) -> None:
    info = parse_dockerfile(text)
    count = len(text.splitlines())
    for ref in info.external_refs:
        assert 1 <= ref.line <= count
    for stage in info.stages:
        assert all(1 <= line <= count for line in (stage.line, *stage.run_lines))
