"""Fuzzing the Dockerfile reader and the .dockerignore matcher with hostile fragments: no
exception (the reader never raises; the matcher says excluded or not) and no input of
this size slower than a fixed bound. A small budget: the fast suite runs it."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildgraph.dockerfiles.dockerfile import parse_dockerfile
from buildgraph.dockerfiles.dockerignore import IgnoreRules

BOUND = 1.0  # seconds per input; each takes milliseconds

DOCKERFILE_PIECES = [
    "FROM ", "ARG ", "COPY ", "RUN ", "ONBUILD ", " AS ", "--from=", "--mount=from=",
    "--platform=", "X", "=", "a", "b", ":", "/", "${", "}", "$X", "#", "##", "%", "%%",
    "*a", "*", "?", "//", "\\", "`", "'", '"', "<<EOF", "<<-E", "EOF", "\n", "\r", "\t",
    " ", "# escape=`\n", "# syntax=x\n", "[", "]", ",", "\x00", "\ufeff", "é", "0",
]  # fmt: skip
IGNORE_PIECES = [
    "*", "**", "**/", "/", "a", "b", "?", "!", "[", "]", "^", "\\", "\\d", ".", "..", "-",
    "#", "\n", " ", "\r", "x*", "[a-", "{", "$", "\x00",
]  # fmt: skip
PATH_PIECES = ["a", "b", "/", "ab/", ".", "x", "1", "aaaa", "\n", "[", "*"]


def text_of(pieces: list[str], size: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=size).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=text_of(DOCKERFILE_PIECES, 60),
    args=st.dictionaries(st.sampled_from(["X", "Y", "TARGETARCH"]), text_of(["a", "*"], 40)),
)
def test_no_dockerfile_text_raises_or_stalls(text: str, args: dict[str, str]) -> None:
    started = time.perf_counter()
    info = parse_dockerfile(text, args)
    assert time.perf_counter() - started < BOUND
    assert all(isinstance(ref.ref, str) for ref in info.external_refs)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=text_of(IGNORE_PIECES, 40), paths=st.lists(text_of(PATH_PIECES, 30), max_size=4))
def test_no_dockerignore_raises_or_stalls(rules: str, paths: list[str]) -> None:
    started = time.perf_counter()
    parsed = IgnoreRules.parse(rules)
    for path in paths:
        assert parsed.excludes(path) in (True, False)
    assert time.perf_counter() - started < BOUND
