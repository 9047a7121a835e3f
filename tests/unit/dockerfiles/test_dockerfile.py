"""The Dockerfile reader against BuildKit's semantics.

Several cases pin behaviour that surprises (a continuation joins lines without a space,
`cat<<EOF` is no heredoc, COPY --from is never expanded): each is what BuildKit's
Dockerfile frontend does, checked against its source and its own parser tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.dockerfiles.dockerfile import (
    DockerfileInfo,
    ImageRef,
    Stage,
    parse_dockerfile,
    read_dockerfile,
)
from buildgraph.model.image_refs import normalize_ref

DIGEST = "sha256:" + "a" * 64


def refs(text: str, args: dict[str, str] | None = None) -> list[tuple[str, int]]:
    return [(r.ref, r.line) for r in parse_dockerfile(text, args).external_refs]


def ref_names(text: str, args: dict[str, str] | None = None) -> list[str]:
    return [r.ref for r in parse_dockerfile(text, args).external_refs]


def bases(text: str, args: dict[str, str] | None = None) -> list[str]:
    return [s.base for s in parse_dockerfile(text, args).stages]


def test_a_multi_stage_dockerfile() -> None:
    text = """\
# syntax=docker/dockerfile:1
ARG REGISTRY=localhost:5000/acme
FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
RUN --mount=type=cache,target=/root/.cache,from=cache-image:1 go build
COPY --link --from=tools/linter:2 /bin/lint /bin/
RUN ["go", "vet"]

FROM ${REGISTRY}/base:dev
COPY --from=build /out /app
COPY --from=0 /x /
ONBUILD RUN make
"""
    info = parse_dockerfile(text)
    assert info == DockerfileInfo(
        stages=(
            Stage(0, "build", "golang:1.22", "$BUILDPLATFORM", 3, (4, 6)),
            Stage(1, None, "localhost:5000/acme/base:dev", None, 8, ()),
        ),
        external_refs=(
            ImageRef("golang:1.22", 3, "FROM", "build"),
            ImageRef("cache-image:1", 4, "RUN --mount=from", "build"),
            ImageRef("tools/linter:2", 5, "COPY --from", "build"),
            ImageRef("localhost:5000/acme/base:dev", 8, "FROM", "1"),
        ),
    )


# --- parser directives -----------------------------------------------------------------

CONTINUED_BY_BACKTICK = "FROM a:1 `\n  AS one\nCOPY --from=b:2 `\n  /x /y\n"


@pytest.mark.parametrize(
    ("text", "names", "found"),
    [
        pytest.param(
            "# escape=`\n" + CONTINUED_BY_BACKTICK,
            ["one"],
            [("a:1", 2), ("b:2", 4)],
            id="backtick continues lines",
        ),
        pytest.param(
            "#   ESCAPE =  `  \n" + CONTINUED_BY_BACKTICK,
            ["one"],
            [("a:1", 2), ("b:2", 4)],
            id="directive name case-insensitive, blanks around",
        ),
        pytest.param(
            "# syntax=docker/dockerfile:1\n# escape=`\n" + CONTINUED_BY_BACKTICK,
            ["one"],
            [("a:1", 3), ("b:2", 5)],
            id="after another directive",
        ),
        pytest.param(
            "\ufeff# escape=`\n" + CONTINUED_BY_BACKTICK,
            ["one"],
            [("a:1", 2), ("b:2", 4)],
            id="after a byte order mark",
        ),
        pytest.param(
            "# escape=`\nFROM a:1 AS one\nRUN echo \\\nFROM b:2\n",
            ["one", None],
            [("a:1", 2), ("b:2", 4)],
            id="backslash no longer continues",
        ),
        pytest.param(
            "# a comment\n# escape=`\nFROM a:1 \\\n  AS one\n",
            ["one"],
            [("a:1", 3)],
            id="after a comment it is a comment",
        ),
        pytest.param(
            "\n# escape=`\nFROM a:1 \\\n  AS one\n",
            ["one"],
            [("a:1", 3)],
            id="after a blank line it is a comment",
        ),
        pytest.param(
            "# foo=bar\n# escape=`\nFROM a:1 \\\n  AS one\n",
            ["one"],
            [("a:1", 3)],
            id="an unknown directive ends directives",
        ),
        pytest.param(
            "# escape=x\nFROM a:1 \\\n  AS one\n",
            ["one"],
            [("a:1", 2)],
            id="an invalid escape leaves backslash",
        ),
    ],
)
def test_escape_directive(text: str, names: list[str | None], found: list[tuple[str, int]]) -> None:
    info = parse_dockerfile(text)
    assert [s.name for s in info.stages] == names
    assert [(r.ref, r.line) for r in info.external_refs] == found


# --- lines: continuations, comments, line endings --------------------------------------


@pytest.mark.parametrize(
    ("text", "stages", "found"),
    [
        pytest.param(
            "FROM a:1 \\   \n  AS one\nFROM b:2\n",
            [("one", "a:1", 1), (None, "b:2", 3)],
            [("a:1", 1), ("b:2", 3)],
            id="blanks after the backslash",
        ),
        pytest.param(
            "FROM a:1 \\\n# a comment\n\n   \n  AS one\nFROM b:2\n",
            [("one", "a:1", 1), (None, "b:2", 6)],
            [("a:1", 1), ("b:2", 6)],
            id="comment and empty lines inside a continuation",
        ),
        pytest.param(
            "FROM a:1 AS one\nRUN echo \\\\\nFROM b:2\n",
            [("one", "a:1", 1), (None, "b:2", 3)],
            [("a:1", 1), ("b:2", 3)],
            id="an escaped backslash does not continue",
        ),
        pytest.param(
            "FROM registry.example.com/team/\\\napp:1\n",
            [(None, "registry.example.com/team/app:1", 1)],
            [("registry.example.com/team/app:1", 1)],
            id="joined without a separator",
        ),
        pytest.param(
            "FROM registry.example.com/team/\\\n  app:1\n",
            [(None, "registry.example.com/team/", 1)],
            [],
            id="indentation of a continuation line is kept",
        ),
        pytest.param(
            "FROM a:1 \\\r\n  AS one\r\nCOPY --from=c:3 /x /y\r\n",
            [("one", "a:1", 1)],
            [("a:1", 1), ("c:3", 3)],
            id="CRLF",
        ),
        pytest.param(
            "FROM a:1\rFROM b:2\n",
            [(None, "a:1", 1)],
            [],
            id="a lone CR is no line break",
        ),
        pytest.param(
            "  # indented comment\n\tFROM a:1\n    # FROM b:2\nFROM c:3 \\",
            [(None, "a:1", 2), (None, "c:3", 4)],
            [("a:1", 2), ("c:3", 4)],
            id="indented instructions and comments, continuation at the end",
        ),
    ],
)
def test_lines(
    text: str, stages: list[tuple[str | None, str, int]], found: list[tuple[str, int]]
) -> None:
    info = parse_dockerfile(text)
    assert [(s.name, s.base, s.line) for s in info.stages] == stages
    assert [(r.ref, r.line) for r in info.external_refs] == found


# --- heredocs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opening", "body"),
    [
        pytest.param("RUN <<EOF", "EOF", id="plain"),
        pytest.param("RUN <<-EOF", "\t\tEOF", id="dash: tab-indented terminator"),
        pytest.param('RUN <<"EOF"', "EOF", id="double-quoted"),
        pytest.param("RUN <<'EOF'", "EOF", id="single-quoted"),
        pytest.param('RUN <<E"O"F', "EOF", id="partly quoted"),
        pytest.param("RUN << EOF", "EOF", id="blank after <<"),
        pytest.param("RUN 3<<EOF cat /dev/fd/3", "EOF", id="file descriptor"),
        pytest.param("RUN python3 <<EOF > out", "EOF", id="in a command"),
        pytest.param("RUN --mount=type=cache,target=/c <<EOF", "EOF", id="after flags"),
        pytest.param("COPY <<EOF /dest", "EOF", id="COPY"),
        pytest.param("ADD <<EOF /dest", "EOF", id="ADD"),
        pytest.param("onbuild run <<EOF", "EOF", id="ONBUILD RUN"),
        pytest.param("RUN <<ONE <<TWO\n1\nONE", "TWO", id="two on one line"),
        pytest.param("RUN cat \\\n  <<EOF", "EOF", id="on a continued line"),
    ],
)
def test_heredoc_bodies_are_not_instructions(opening: str, body: str) -> None:
    text = f"FROM base:1\n{opening}\nFROM not-an-image:1\nCOPY --from=nor-this:1 /a /b\n{body}\n"
    after = text.count("\n") + 1
    text += "COPY --from=real:2 /a /b\n"
    assert refs(text) == [("base:1", 1), ("real:2", after)]


@pytest.mark.parametrize(
    "opening",
    [
        pytest.param('RUN ["sh", "-c", "cat <<EOF"]', id="exec form"),
        pytest.param('RUN echo "<<EOF"', id="quoted marker"),
        pytest.param("RUN cat<<EOF", id="not a word of its own"),
        pytest.param("ENV X=<<EOF", id="ENV takes none"),
        pytest.param("LABEL x=<<EOF", id="LABEL takes none"),
    ],
)
def test_no_heredoc(opening: str) -> None:
    text = f"FROM base:1\n{opening}\nFROM other:2\nEOF\n"
    assert refs(text) == [("base:1", 1), ("other:2", 3)]


@pytest.mark.parametrize(
    ("terminator", "found"),
    [
        pytest.param("EOF", [("base:1", 1), ("after:3", 5)], id="exact"),
        pytest.param("EOF ", [("base:1", 1)], id="trailing blank: not the terminator"),
        pytest.param("  EOF", [("base:1", 1)], id="indented without dash: not either"),
        pytest.param("\tEOF", [("base:1", 1)], id="tab without dash: not either"),
        pytest.param("eof", [("base:1", 1)], id="case matters"),
    ],
)
def test_heredoc_terminator_is_exact(terminator: str, found: list[tuple[str, int]]) -> None:
    text = f"FROM base:1\nRUN <<EOF\necho\n{terminator}\nFROM after:3\n"
    assert refs(text) == found  # an unterminated heredoc runs to the end of the file


def test_line_numbers_after_heredocs() -> None:
    text = """\
FROM base:1
RUN <<EOF
a
EOF
COPY <<A <<B /x
1
A
2
B
RUN true
FROM next:2
"""
    info = parse_dockerfile(text)
    assert [(s.line, s.run_lines) for s in info.stages] == [(1, (2, 10)), (11, ())]


# --- FROM and stages -------------------------------------------------------------------


def test_instructions_and_as_are_case_insensitive_and_names_lowercased() -> None:
    text = "from alpine:3 As Builder\nrun true\nFrom Debian:12 aS final\nRuN true\n"
    info = parse_dockerfile(text)
    assert [(s.name, s.base, s.run_lines) for s in info.stages] == [
        ("builder", "alpine:3", (2,)),
        ("final", "Debian:12", (4,)),
    ]
    # Debian:12 is no valid reference (repositories are lowercase): BuildKit would refuse it.
    assert ref_names(text) == ["alpine:3"]


def test_run_lines() -> None:
    text = """\
RUN before-any-from
FROM a:1
RUN one
RUN ["exec", "form"]
RUN --network=none \\
    two
ONBUILD RUN not-in-this-build
FROM b:2
run three
"""
    assert [s.run_lines for s in parse_dockerfile(text).stages] == [(3, 4, 5), (9,)]


@pytest.mark.parametrize(
    ("instruction", "platform"),
    [
        ("FROM --platform=$BUILDPLATFORM a", "$BUILDPLATFORM"),
        ("FROM --platform=${BUILDPLATFORM} a", "${BUILDPLATFORM}"),
        ('FROM --platform="$TARGETPLATFORM" a', "$TARGETPLATFORM"),
        ("FROM --platform=linux/arm64 a", "linux/arm64"),
        ("FROM --platform=$PLATFORM a", "$PLATFORM"),
        ("FROM --platform= a", None),
        ("FROM a", None),
    ],
)
def test_platform_is_kept_as_written(instruction: str, platform: str | None) -> None:
    text = f"ARG PLATFORM=linux/amd64\n{instruction}\n"
    assert [s.platform for s in parse_dockerfile(text).stages] == [platform]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        pytest.param("FROM a:1 AS build\nFROM build\n", ["a:1"], id="earlier stage"),
        pytest.param("FROM a:1 AS build\nFROM build AS two\nFROM two\n", ["a:1"], id="chain"),
        pytest.param("FROM scratch AS s\nFROM s\n", [], id="scratch"),
        pytest.param("FROM lib AS lib\n", ["lib"], id="a stage's own name: the image"),
        pytest.param("FROM later\nFROM a:1 AS later\n", ["later", "a:1"], id="later name: image"),
        pytest.param(
            "FROM a:1 AS build\nFROM Build\n", ["a:1"], id="FROM matches exactly, Build is invalid"
        ),
        pytest.param("FROM a:1\nFROM a:1\nFROM b:2\n", ["a:1", "b:2"], id="duplicates once"),
        pytest.param(f"FROM alpine@{DIGEST}\n", [f"alpine@{DIGEST}"], id="digest"),
        pytest.param("FROM 0\n", ["0"], id="FROM takes no stage index"),
    ],
)
def test_from(text: str, found: list[str]) -> None:
    assert ref_names(text) == found


@pytest.mark.parametrize(
    ("instruction", "base"),
    [
        pytest.param("FROM a:1 b:2", "a:1", id="two operands"),
        pytest.param("FROM a:1 AS", "a:1", id="AS without name"),
        pytest.param("FROM a:1 AS one two", "a:1", id="four operands"),
        pytest.param("FROM a:1 FOR one", "a:1", id="not AS"),
        pytest.param("FROM a:1 AS 1st", "a:1", id="invalid stage name"),
        pytest.param("FROM --platform linux/amd64 a:1", "linux/amd64", id="flag without ="),
        pytest.param("FROM --pull=always a:1", "a:1", id="unknown flag"),
        pytest.param("FROM --platform=x --platform=y a:1", "a:1", id="repeated flag"),
        pytest.param("FROM", "", id="no operand"),
    ],
)
def test_a_from_buildkit_refuses_opens_a_stage_but_names_no_image(
    instruction: str, base: str
) -> None:
    info = parse_dockerfile(f"{instruction}\nRUN true\nFROM ok:1\n")
    assert [(s.base, s.run_lines) for s in info.stages] == [(base, (2,)), ("ok:1", ())]
    assert [r.ref for r in info.external_refs] == ["ok:1"]


def test_the_stage_of_a_reference_is_its_name_or_index() -> None:
    text = "FROM a:1\nCOPY --from=b:1 /a /b\nFROM c:1 AS named\nRUN --mount=from=d:1 true\n"
    assert [(r.ref, r.stage) for r in parse_dockerfile(text).external_refs] == [
        ("a:1", "0"),
        ("b:1", "0"),
        ("c:1", "named"),
        ("d:1", "named"),
    ]


# --- ARG and expansion -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "build_args", "operand", "base"),
    [
        pytest.param("ARG X=v", {}, "img:$X", "img:v", id="$X"),
        pytest.param("ARG X=v", {}, "img:${X}", "img:v", id="${X}"),
        pytest.param("ARG X=v", {}, "img:${X:-d}", "img:v", id=":- set"),
        pytest.param("ARG X=", {}, "img:${X:-d}", "img:d", id=":- empty"),
        pytest.param("ARG X", {}, "img:${X:-d}", "img:d", id=":- unset"),
        pytest.param("ARG X=v", {}, "img:${X-d}", "img:v", id="- set"),
        pytest.param("ARG X=", {}, "img:${X-d}x", "img:x", id="- empty"),
        pytest.param("ARG X", {}, "img:${X-d}", "img:d", id="- unset"),
        pytest.param("ARG X=v", {}, "img:${X:+a}", "img:a", id=":+ set"),
        pytest.param("ARG X=", {}, "img:${X:+a}x", "img:x", id=":+ empty"),
        pytest.param("ARG X", {}, "img:${X:+a}x", "img:x", id=":+ unset"),
        pytest.param("ARG X=v", {}, "img:${X+a}", "img:a", id="+ set"),
        pytest.param("ARG X=", {}, "img:${X+a}", "img:a", id="+ empty"),
        pytest.param("ARG X", {}, "img:${X+a}x", "img:x", id="+ unset"),
        pytest.param("ARG X=v", {"X": "o"}, "img:$X", "img:o", id="build arg overrides"),
        pytest.param("ARG X", {"X": "o"}, "img:$X", "img:o", id="build arg sets"),
        pytest.param("", {"X": "o"}, "img:${X:-d}", "img:d", id="undeclared build arg unseen"),
        pytest.param("", {}, "img:${NOPE}x", "img:x", id="undeclared: empty"),
        pytest.param("ARG A=a B=${A}b", {}, "img:$B", "img:ab", id="default uses earlier"),
        pytest.param("ARG B=${A}b\nARG A=a", {}, "img:$B", "img:b", id="not later ones"),
        pytest.param("ARG A=a\nARG B=${A}b", {"A": "z"}, "img:$B", "img:zb", id="overridden"),
        pytest.param("ARG X=1\nARG X", {}, "img:$X", "img:1", id="redeclared keeps value"),
        pytest.param("ARG X=1\nARG X=2", {}, "img:$X", "img:2", id="redeclared replaces"),
        pytest.param('ARG X="1.0"', {}, "img:$X", "img:1.0", id="quoted default"),
        pytest.param("ARG X='$Y'\nARG Y=1", {}, "img:$X", "img:$Y", id="single quotes"),
        pytest.param("", {}, '"img:1"', "img:1", id="quotes removed in FROM"),
        pytest.param("", {}, "img:\\$X", "img:$X", id="escaped dollar"),
        pytest.param("ARG X=1.22.3", {}, "img:${X%.*}", "img:1.22", id="% suffix"),
        pytest.param("ARG X=1.22.3", {}, "img:${X%%.*}", "img:1", id="%% longest"),
        pytest.param("ARG X=v1.2", {}, "img:${X#v}", "img:1.2", id="# prefix"),
        pytest.param("ARG X=a/b/c", {}, "img:${X##*/}", "img:c", id="## longest"),
        pytest.param("ARG X=1.2.3", {}, "img:${X/./-}", "img:1-2.3", id="/ first"),
        pytest.param("ARG X=1.2.3", {}, "img:${X//./-}", "img:1-2-3", id="// every"),
    ],
)
def test_meta_arg_expansion(args: str, build_args: dict[str, str], operand: str, base: str) -> None:
    assert bases(f"{args}\nFROM {operand}\n", build_args) == [base]


def test_args_after_the_first_from_are_not_seen_by_from() -> None:
    text = "ARG A=global\nFROM a:$A\nARG A=stage\nARG B=b\nFROM img:${A}-${B:-none}\n"
    assert bases(text, {"B": "set"}) == ["a:global", "img:global-none"]


@pytest.mark.parametrize(
    "operand",
    [
        pytest.param("img:${X", id="unclosed brace"),
        pytest.param('"img:1', id="unclosed quote"),
        pytest.param("img:${}", id="empty name"),
        pytest.param("img:${X:?required}", id="required and unset"),
        pytest.param("img:${X:#a}", id="unsupported modifier"),
    ],
)
def test_an_expansion_buildkit_refuses_names_no_image(operand: str) -> None:
    info = parse_dockerfile(f"ARG Y\nFROM {operand}\n")
    assert [s.base for s in info.stages] == [operand]
    assert info.external_refs == ()


def test_an_empty_expansion_names_no_image() -> None:
    info = parse_dockerfile("ARG IMAGE\nFROM $IMAGE\n")
    assert [s.base for s in info.stages] == [""]
    assert info.external_refs == ()


@pytest.mark.parametrize(
    ("text", "build_args", "base", "found"),
    [
        pytest.param(
            "FROM --platform=$BUILDPLATFORM golang:${TARGETARCH}",
            {},
            "golang:${TARGETARCH}",
            [],
            id="left as written",
        ),
        pytest.param("FROM img:$TARGETOS-$TARGETARCH", {}, "img:$TARGETOS-$TARGETARCH", [], id="$"),
        pytest.param(
            "FROM img:${TARGETARCH:-amd64}", {}, "img:${TARGETARCH:-amd64}", [], id="defaulted"
        ),
        pytest.param("ARG TARGETARCH\nFROM img:$TARGETARCH", {}, "img:$TARGETARCH", [], id="decl"),
        pytest.param(
            "ARG TARGETARCH=arm64\nFROM img:$TARGETARCH",
            {},
            "img:arm64",
            ["img:arm64"],
            id="a global default sets it",
        ),
        pytest.param(
            "FROM img:$TARGETARCH",
            {"TARGETARCH": "s390x"},
            "img:s390x",
            ["img:s390x"],
            id="a build arg sets it, declared or not",
        ),
        pytest.param(
            "ARG IMG=golang:${TARGETARCH}\nFROM $IMG",
            {},
            "golang:${TARGETARCH}",
            [],
            id="through another ARG",
        ),
        pytest.param("FROM img:${TARGETSTAGE}", {}, "img:${TARGETSTAGE}", [], id="TARGETSTAGE"),
    ],
)
def test_predefined_args(
    text: str, build_args: dict[str, str], base: str, found: list[str]
) -> None:
    assert bases(text, build_args) == [base]
    assert ref_names(text, build_args) == found


# --- COPY --from and RUN --mount=from --------------------------------------------------

STAGES = "FROM a:1 AS build\nFROM b:2 AS later-stage\nFROM c:3\n"


@pytest.mark.parametrize(
    ("instruction", "found"),
    [
        pytest.param("COPY --from=img:1 /a /b", ["img:1"], id="image"),
        pytest.param("COPY --link --from=img:1 /a /b", ["img:1"], id="after another flag"),
        pytest.param("COPY --from=img:1 --chown=1:1 --link /a /b", ["img:1"], id="before flags"),
        pytest.param('COPY --from="img:1" /a /b', ["img:1"], id="quoted"),
        pytest.param('COPY --from=img:1 ["/a", "/b"]', ["img:1"], id="exec form"),
        pytest.param(f"COPY --from=alpine@{DIGEST} /a /b", [f"alpine@{DIGEST}"], id="digest"),
        pytest.param("COPY --from=build /a /b", [], id="stage"),
        pytest.param("COPY --from=BUILD /a /b", [], id="stage, any case"),
        pytest.param("COPY --from=later-stage /a /b", [], id="a later stage"),
        pytest.param("COPY --from=0 /a /b", [], id="stage index"),
        pytest.param("COPY --from=7 /a /b", [], id="out of range index: an error, no image"),
        pytest.param("COPY --from=scratch /a /b", [], id="scratch"),
        pytest.param("COPY --from img:1 /a /b", [], id="no =: refused"),
        pytest.param("COPY --from= /a /b", [], id="empty"),
        pytest.param("COPY --from=img:1 --from=img:2 /a /b", [], id="twice: refused"),
        pytest.param("COPY --FROM=img:1 /a /b", [], id="flags are case-sensitive"),
        pytest.param("COPY --from=$IMG /a /b", [], id="no expansion in --from"),
        pytest.param("COPY --from=img:${TAG} /a /b", [], id="no expansion in --from either"),
        pytest.param("COPY -- --from=img:1 /b", [], id="after --, a source path"),
        pytest.param("COPY /src --from=img:1 /b", [], id="after a source, a source path"),
        pytest.param("ADD --from=img:1 /a /b", [], id="ADD has no --from"),
        pytest.param("ONBUILD COPY --from=img:1 /a /b", [], id="ONBUILD: a later build's"),
        pytest.param("COPY --from=Img:1 /a /b", [], id="invalid reference"),
    ],
)
def test_copy_from(instruction: str, found: list[str]) -> None:
    text = f"ARG IMG=img:1\nARG TAG=1\n{STAGES}{instruction}\n"
    assert ref_names(text) == ["a:1", "b:2", "c:3", *found]


@pytest.mark.parametrize(
    ("flags", "found"),
    [
        pytest.param("--mount=type=bind,from=img:1,source=/a,target=/b", ["img:1"], id="bind"),
        pytest.param("--mount=from=img:1,type=cache,target=/c", ["img:1"], id="from first"),
        pytest.param("--mount=target=/c,FROM=img:1", ["img:1"], id="keys any case"),
        pytest.param('--mount=\\"from=img:1\\",target=/c', ["img:1"], id="CSV quoting"),
        pytest.param(
            '--mount=type=bind,\\"target=/a,b\\",from=img:1', ["img:1"], id="CSV comma in quotes"
        ),
        pytest.param(
            "--network=none --mount=from=img:1 --mount=type=bind,from=img:2,target=/x",
            ["img:1", "img:2"],
            id="several mounts",
        ),
        pytest.param("--mount=from=img:1,from=img:2", ["img:2"], id="the last from counts"),
        pytest.param("--mount=type=cache,target=/c", [], id="no from"),
        pytest.param("--mount=type=secret,id=token", [], id="secret"),
        pytest.param("--mount=from=build,target=/b", [], id="stage"),
        pytest.param("--mount=from=Build,target=/b", [], id="stage, any case"),
        pytest.param("--mount=from=later-stage,target=/b", [], id="later stage"),
        pytest.param("--mount=from=scratch,target=/b", [], id="scratch"),
        pytest.param("--mount=from=$IMG,target=/b", [], id="no expansion: refused"),
        pytest.param("--mount from=img:1", [], id="no =: refused"),
        pytest.param('--mount=from=img:1,\\"target=/b', [], id="unclosed CSV quote"),
        pytest.param('--mount=a\\"b,from=img:1', [], id="bare CSV quote"),
        # Unlike COPY --from, a mount looks stages up by name only: "0" is an image.
        pytest.param("--mount=from=0,target=/b", ["0"], id="no stage index"),
    ],
)
def test_run_mount_from(flags: str, found: list[str]) -> None:
    text = f"ARG IMG=img:1\n{STAGES}RUN {flags} make\nONBUILD RUN --mount=from=img:9 make\n"
    assert ref_names(text) == ["a:1", "b:2", "c:3", *found]


def test_copy_and_run_before_any_from_are_ignored() -> None:
    assert refs("COPY --from=a:1 /a /b\nRUN --mount=from=b:1 true\nFROM c:1\n") == [("c:1", 3)]


# --- normalize_ref ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "full"),
    [
        ("alpine", "docker.io/library/alpine:latest"),
        ("alpine:3.19", "docker.io/library/alpine:3.19"),
        ("acme/app", "docker.io/acme/app:latest"),
        ("acme/team/app:1", "docker.io/acme/team/app:1"),
        ("docker.io/alpine", "docker.io/library/alpine:latest"),
        ("docker.io/acme/app:1", "docker.io/acme/app:1"),
        ("index.docker.io/acme/app", "docker.io/acme/app:latest"),
        ("docker.io/library/alpine:latest", "docker.io/library/alpine:latest"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
        ("localhost:5000/acme/base:dev", "localhost:5000/acme/base:dev"),
        ("localhost/a", "localhost/a:latest"),
        ("127.0.0.1:5000/a", "127.0.0.1:5000/a:latest"),
        ("[::1]:5000/a:1", "[::1]:5000/a:1"),
        ("ghcr.io/o/r:v1", "ghcr.io/o/r:v1"),
        ("Registry/a", "Registry/a:latest"),  # not lowercase: a registry, kept as written
        ("registry.Example.com/a", "registry.Example.com/a:latest"),
        ("localhost:5000", "docker.io/library/localhost:5000"),  # image localhost, tag 5000
        (f"alpine@{DIGEST}", f"docker.io/library/alpine@{DIGEST}"),
        (f"a/b:1@{DIGEST}", f"docker.io/a/b:1@{DIGEST}"),
        (f"localhost:5000/a@{DIGEST}", f"localhost:5000/a@{DIGEST}"),
    ],
)
def test_normalize_ref(ref: str, full: str) -> None:
    assert normalize_ref(ref) == full


# --- read_dockerfile -------------------------------------------------------------------


def test_read_dockerfile(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"# caf\xe9\nARG TAG=1\nFROM base:$TAG\rFROM x\nFROM other:2 AS o\n")
    info = read_dockerfile(path, {"TAG": "9"})
    # Undecodable bytes are replaced. The lone CR is no line break: line 3 is one FROM
    # with three operands, which BuildKit refuses.
    assert [(r.ref, r.line) for r in info.external_refs] == [("other:2", 4)]
    assert [s.base for s in info.stages] == ["base:9", "other:2"]


def test_read_dockerfile_raises_the_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_dockerfile(tmp_path / "missing")


# --- properties ------------------------------------------------------------------------

# Pieces of Dockerfile syntax, so that random text reaches the parser's corners.
FRAGMENTS = [
    *["\n", "\r\n", " ", "\t", "\\", "`", "#", '"', "'", "=", ",", "[", "]", "/", "%", "}"],
    *["$", "${", ":-", ":+", "$TARGETARCH", "a", "b", "0", "X", "EOF", "<<", "<<-"],
    *["FROM ", "from ", "RUN ", "COPY ", "ADD ", "ONBUILD ", "ARG ", " AS ", " as "],
    *["--platform=", "--from=", "--mount=", "type=bind,", "from=", "--link ", "scratch"],
    *["alpine", "localhost:5000/acme/base:dev", "# escape=`\n", "# syntax=x\n"],
]
DOCKERFILE_LIKE = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map("".join)
ARGS = st.dictionaries(st.sampled_from(["X", "a", "TARGETARCH", "b"]), st.text(max_size=5))


def assert_consistent(text: str, info: DockerfileInfo) -> None:
    last_line = text.count("\n") + 1
    assert [s.index for s in info.stages] == list(range(len(info.stages)))
    labels = {s.name or str(s.index) for s in info.stages}
    lines = [s.line for s in info.stages]
    assert lines == sorted(set(lines))
    for stage in info.stages:
        assert all(stage.line < line <= last_line for line in stage.run_lines)
    for ref in info.external_refs:
        assert 1 <= ref.line <= last_line
        assert ref.stage in labels
        assert "$" not in ref.ref
        assert normalize_ref(normalize_ref(ref.ref)) == normalize_ref(ref.ref)
    assert len({r.ref for r in info.external_refs}) == len(info.external_refs)


@given(st.text(max_size=300), ARGS)
def test_any_text_parses_consistently(text: str, build_args: dict[str, str]) -> None:
    assert_consistent(text, parse_dockerfile(text, build_args))


@given(DOCKERFILE_LIKE, ARGS)
def test_dockerfile_like_text_parses_consistently(text: str, build_args: dict[str, str]) -> None:
    assert_consistent(text, parse_dockerfile(text, build_args))


COMPONENT = st.from_regex(r"[a-z0-9]+(?:[._-][a-z0-9]+)?", fullmatch=True)
REFERENCE = st.builds(
    lambda host, path, tag, digest: f"{host}{'/'.join(path)}{tag}{digest}",
    st.sampled_from(["", "localhost/", "localhost:5000/", "ghcr.io/", "docker.io/", "Reg/"]),
    st.lists(COMPONENT, min_size=1, max_size=3),
    st.sampled_from(["", ":1", ":v1.2-rc"]),
    st.sampled_from(["", f"@{DIGEST}"]),
)


@given(REFERENCE)
def test_normalize_ref_is_idempotent_and_names_the_image_in_from(ref: str) -> None:
    full = normalize_ref(ref)
    assert normalize_ref(full) == full
    assert full.endswith((":latest", ref.rpartition("/")[2].partition(":")[2], DIGEST))
    assert ref_names(f"FROM {ref}\n") == [ref]


EXPANSION_WORD = st.text(
    st.sampled_from(["$", "{", "}", "A", "B", "_", "1", "/", ":", "-", "é", " "])
)


@given(
    EXPANSION_WORD,
    st.dictionaries(st.sampled_from(["A", "B", "AB", "_"]), st.text("xy", max_size=2)),
)
def test_plain_expansions_expand_as_the_lexer_does(word: str, values: dict[str, str]) -> None:
    from buildgraph.dockerfiles.dockerfile import expanded_word
    from buildgraph.dockerfiles.shell_lexer import ShellError, ShellLexer

    keep = frozenset({"B", "AB"})
    try:
        expected: str | None = ShellLexer(word, "\\", values, keep=keep).word()
    except ShellError:
        expected = None
    assert expanded_word(word, values, "\\", keep=keep) == expected


def test_many_stages_take_linear_time() -> None:
    # Each FROM looks its base up among the stages before it: once a set per stage (20,000
    # stages took 56 s), now one index shared by the file.
    import time

    count = 6000
    text = "".join(f"FROM s{i - 1} AS s{i}\nCOPY --from=s0 / /\n" for i in range(1, count))
    started = time.perf_counter()
    info = parse_dockerfile("FROM alpine AS s0\n" + text + "FROM s9999\n")
    assert time.perf_counter() - started < 4  # about 0.3 s; quadratically, over 5 s
    assert len(info.stages) == count + 1
    assert [ref.ref for ref in info.external_refs] == ["alpine", "s9999"]
