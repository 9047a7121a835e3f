"""The lexer's ${...#pattern} and ${.../pattern/...} matching against Go's semantics, as a
backtracking regular expression gives them (Python's re is leftmost-first like Go's
regexp): the same answers, without the exponential time."""

from __future__ import annotations

import contextlib
import re
import time
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from buildgraph.dockerfiles import shell_lexer
from buildgraph.dockerfiles.dockerfile import parse_dockerfile
from buildgraph.dockerfiles.shell_lexer import ShellError, ShellLexer


def oracle_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """convertShellPatternToRegex, as the lexer had it before (and as BuildKit has it)."""
    parts = ["^"] if anchored else []
    index = 0
    while index < len(pattern):
        token = pattern[index]
        index += 1
        if token == "*":
            parts.append(".*" if greedy else ".*?")
        elif token == "?":
            parts.append(".")
        elif token == "\\":
            following = pattern[index : index + 1]
            if following in ("}", "/"):
                continue
            index += 1
            if following not in ("*", "?", "\\"):
                raise ShellError("invalid escape")
            parts.append("\\" + following)
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def oracle_trim(pattern: str, value: str, *, greedy: bool, suffix: bool) -> str:
    if suffix:
        tokens: list[str] = []
        index = 0
        while index < len(pattern):
            size = 2 if pattern[index] == "\\" and index + 1 < len(pattern) else 1
            tokens.append(pattern[index : index + size])
            index += size
        reversed_pattern = "".join(reversed(tokens))
        return oracle_trim(reversed_pattern, value[::-1], greedy=greedy, suffix=False)[::-1]
    match = oracle_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def oracle_replace(pattern: str, value: str, replacement: str, every: bool) -> str:
    """Go's ReplaceAllString loop (literal replacement), or the first match only."""
    regex = oracle_regex(pattern, greedy=True, anchored=False)
    if not every:
        match = regex.search(value)
        return (
            value if match is None else value[: match.start()] + replacement + value[match.end() :]
        )
    pieces, last_end, search = [], 0, 0
    while search <= len(value):
        match = regex.search(value, search)
        if match is None:
            break
        pieces.append(value[last_end : match.start()])
        if match.end() > last_end or match.start() == 0:
            pieces.append(replacement)
        last_end = match.end()
        search = search + 1 if search + 1 > match.end() else match.end()
    pieces.append(value[last_end:])
    return "".join(pieces)


patterns = st.lists(
    st.sampled_from(["a", "b", "?", "*", "\\*", "\\?", "\\\\", ".", "\n"]), max_size=7
).map("".join)
values = st.text(alphabet="ab*?.\\\n", max_size=12)


def matcher(simulated: bool) -> contextlib.AbstractContextManager[object]:
    """With simulated, every pattern goes through the simulation, not just multi-line ones."""
    if not simulated:
        return contextlib.nullcontext()
    original = shell_lexer._ShellPattern.__init__

    def init(self: shell_lexer._ShellPattern, tokens: list[str | None]) -> None:
        original(self, tokens)
        self.multiline = True

    return mock.patch.object(shell_lexer._ShellPattern, "__init__", init)


@settings(max_examples=100, deadline=None)
@given(
    pattern=patterns, value=values, greedy=st.booleans(), suffix=st.booleans(), sim=st.booleans()
)
@example(pattern="*a*b", value="xab\nab", greedy=True, suffix=False, sim=False)
@example(pattern="a\n*b", value="a\nbb\nb", greedy=True, suffix=True, sim=False)
def test_trims_match_go_semantics(
    pattern: str, value: str, greedy: bool, suffix: bool, sim: bool
) -> None:
    expected = oracle_trim(pattern, value, greedy=greedy, suffix=suffix)
    trim = shell_lexer._trim_suffix if suffix else shell_lexer._trim_prefix
    with matcher(sim):
        assert trim(pattern, value, greedy) == expected


@settings(max_examples=100, deadline=None)
@given(pattern=patterns, value=values, every=st.booleans(), sim=st.booleans())
@example(pattern="*", value="abc", every=True, sim=False)  # Go: "z"; re.sub gives "zz"
@example(pattern="*b", value="ab\nb\n", every=True, sim=False)
def test_replacements_match_go_semantics(pattern: str, value: str, every: bool, sim: bool) -> None:
    expected = oracle_replace(pattern, value, "z", every)
    with matcher(sim):
        assert shell_lexer._replace(pattern, value, "z", every) == expected


def test_an_empty_match_after_a_match_replaces_nothing_as_in_go() -> None:
    assert ShellLexer("${X//*/z}", "\\", {"X": "abc"}).word() == "z"
    assert ShellLexer("${X//?/z}", "\\", {"X": "abc"}).word() == "zzz"


@pytest.mark.parametrize(
    "word",
    [
        "${X##" + "*a" * 40 + "*b}",
        "${X#" + "*a" * 40 + "*b}",
        "${X%%" + "*a" * 40 + "*b}",
        "${X%" + "a*" * 40 + "b*}",
        "${X//" + "*a" * 40 + "*b/z}",
        "${X/" + "?*" * 40 + "b/z}",
    ],
)
def test_backtracking_patterns_take_linear_time(word: str) -> None:
    started = time.perf_counter()
    for value in ("a" * 2000, "a" * 2000 + "\n" + "ab" * 1000):
        ShellLexer(word, "\\", {"X": value}).word()
    assert time.perf_counter() - started < 0.5  # exponential before: 26 s for 12 stars


def test_the_issue_dockerfile_parses_at_once() -> None:
    text = "ARG X=" + "a" * 40 + "\nFROM ${X##" + "*a" * 30 + "*b}\n"
    started = time.perf_counter()
    assert parse_dockerfile(text).stages[0].base == "a" * 40
    assert time.perf_counter() - started < 0.5
