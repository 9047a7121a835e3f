"""`.dockerignore` matching: the quirks of moby/patternmatcher and of fsutil's walk.

Every expectation here that is not plain glob behaviour was confirmed against the real
engine in tests/test_dockerignore_engine.py.
"""

from __future__ import annotations

import tempfile
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.dockerfiles.dockerignore import IgnoreRules, included_files


@pytest.mark.parametrize(
    ("rules", "path", "excluded"),
    [
        ("*.md", "a.md", True),
        ("*.md", "docs/a.md", False),  # * stays in one element: top level only
        ("**/*.md", "docs/deep/a.md", True),
        ("**/*.md", "a.md", True),  # ** may be no element at all
        ("**.md", "docs/deep/a.md", True),  # a leading ** makes a bare suffix match
        ("**foo", "barfoo", True),
        ("**/foo", "barfoo", False),
        ("docs", "docs/a/b.txt", True),  # a directory excludes what is below it
        ("docs/", "docs/a", True),
        ("docs/**", "docs", False),  # a file named docs: `docs/**` needs something below
        ("docs/**", "docs/a/b", True),
        ("doc**", "documents/x", True),  # trailing ** is a plain prefix
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a**b", "axb", False),  # an inner ** spans whole elements only
        ("/build", "build/out", True),  # a leading / is dropped
        ("//build", "build/out", True),  # Go's Clean folds a leading //
        ("./x/../y", "y/z", True),  # patterns are cleaned like paths
        ("*.md\n!README.md", "README.md", False),
        ("*.md\n!README.md", "CHANGES.md", True),
        ("docs\n!docs/keep.txt", "docs/keep.txt", False),
        ("docs\n!docs/keep.txt", "docs/other.txt", True),
        ("!docs/keep.txt\ndocs", "docs/keep.txt", True),  # the last match decides
        ("*\n!docs", "docs/deep/a.md", False),
        ("*\n!src/**", "src/a/b", False),
        ("build\n!**/keep.txt", "build/sub/keep.txt", False),
        # fsutil: `!a` is skipped for directory a (nothing excluded it yet), so it is
        # never applied below it, although it is the last pattern matching a parent.
        ("a/*\n!a", "a/f", True),
        ("a/*\n!a", "a/b/c", True),
        ("# comment\n\n  *.log  ", "x.log", True),
        ("# x.log", "x.log", False),
        ("  #c", "#c", True),  # only column one starts a comment
        ("\\#c", "#c", True),
        ("! /docs/keep\ndocs", "docs/keep", True),
        ("docs\n! /docs/keep", "docs/keep", False),
        ("\ufeffx\r\ny\r\n", "x", True),  # BOM and CRLF
        ("\ufeffx\r\ny\r\n", "y", True),
        ("file[0-9].txt", "file7.txt", True),
        ("file[0-9].txt", "filex.txt", False),
        ("file[!1].txt", "file!.txt", True),  # `!` is no negation in Go
        ("file[!1].txt", "filex.txt", False),
        ("file[^1].txt", "filex.txt", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
        ("\\[x\\].txt", "[x].txt", True),
        ("file\\d.txt", "file1.txt", True),  # Go's regexp reads \d
        ("file\\d.txt", "filed.txt", False),
        ("x*y\\", "xay$b", True),  # a last backslash escapes Go's `$`: a prefix match
        ("x*y\\", "xay", False),
        ("^caret", "^caret", True),  # no wildcard: compared literally
        ("^caret*", "caretx", True),  # with one: a regex, where ^ anchors
        ("a.b", "axb", False),
        ("a+(b)", "a+(b)", True),
        ("space name", "space name", True),
        ("Dockerfile", "Dockerfile", True),
        (".", "x", False),
        ("/", "x", False),
        ("", "anything", False),
    ],
)
def test_matching_follows_buildkit(rules: str, path: str, excluded: bool) -> None:
    assert IgnoreRules.parse(rules).excludes(path) is excluded


@pytest.mark.parametrize("rules", ["!", "!/", "a[", "a[^]", "*[^]", ".*[", "[]a]", "[a-]", "a\\"])
def test_rules_buildkit_refuses_exclude_nothing(rules: str) -> None:
    parsed = IgnoreRules.parse(f"*\n{rules}\n")
    assert parsed.error is not None
    assert not parsed.excludes("x")
    with pytest.raises(ValueError, match="refuses"):
        included_files(Path("."), parsed)


@pytest.mark.parametrize("pattern", ["a[b-a]", "a\\y", "a\\1", "a*[^]", "a*["])
def test_a_regex_go_refuses_fails_the_build_only_once_tried(tmp_path: Path, pattern: str) -> None:
    (tmp_path / "x").write_text("x")
    tried = IgnoreRules.parse(f"{pattern}\n")
    assert tried.error is None
    assert not tried.excludes("x")  # the walk tries it on x: the build fails, x counts
    with pytest.raises(ValueError, match="syntax error"):
        included_files(tmp_path, tried)
    never_tried = IgnoreRules.parse(f"!{pattern}\n")  # nothing excluded: exceptions idle
    assert included_files(tmp_path, never_tried) == ["x"]
    assert IgnoreRules.parse(f"x\n!{pattern}\n").excludes("y") is False
    assert IgnoreRules.parse(f"x\n!{pattern}\n").excludes("x") is False  # tried: fails


def test_dockerfile_ignore_wins_even_when_empty(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.md\n")
    dockerfile = tmp_path / "app.Dockerfile"
    assert IgnoreRules.for_context(tmp_path, dockerfile).excludes("a.md")
    assert not IgnoreRules.for_context(tmp_path / "missing").excludes("a.md")
    Path(f"{dockerfile}.dockerignore").write_text("")
    assert not IgnoreRules.for_context(tmp_path, dockerfile).excludes("a.md")
    Path(f"{dockerfile}.dockerignore").write_text("src\n")
    assert IgnoreRules.for_context(tmp_path, dockerfile).excludes("src/x")


def test_included_files_walks_like_buildkit(tmp_path: Path) -> None:
    for name in ["a.md", "docs/b.md", "build/keep/me", "build/other", "Dockerfile"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "link").symlink_to("docs")
    rules = IgnoreRules.parse("*.md\nbuild\n!build/keep\nDockerfile\n")
    assert included_files(tmp_path, rules) == ["build/keep/me", "docs/b.md", "link"]


# Properties over small paths and whole-element patterns, checked with an independent
# element-by-element matcher (fnmatch agrees with Go inside one element for these).
NAMES = ["a", "b", "ab"]
ELEMENTS = [*NAMES, "*", "a*", "*b", "?", "[ab]", "**"]
paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join)
patterns = st.lists(st.sampled_from(ELEMENTS), min_size=1, max_size=3).map("/".join)
rules_lines = st.lists(st.tuples(st.booleans(), patterns), max_size=5)


def _element_match(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":  # inside: any number of elements; at the end: at least one
        return any(_element_match(rest, path[i:]) for i in range(not rest, len(path) + 1))
    return bool(path) and fnmatchcase(path[0], head) and _element_match(rest, path[1:])


def _matches(pattern: str, path: str) -> bool:
    return _element_match(pattern.split("/"), path.split("/"))


def _text(lines: list[tuple[bool, str]]) -> str:
    return "".join(("!" if exception else "") + pattern + "\n" for exception, pattern in lines)


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@given(st.lists(patterns, max_size=4), paths)
def test_without_exceptions_a_match_on_the_path_or_a_parent_excludes(
    lines: list[str], path: str
) -> None:
    expected = any(_matches(p, q) for p in lines for q in [*_ancestors(path), path])
    assert IgnoreRules.parse("\n".join(lines)).excludes(path) is expected


@given(rules_lines, paths)
def test_the_last_match_decides_when_no_pattern_matches_a_parent(
    lines: list[tuple[bool, str]], path: str
) -> None:
    if any(_matches(p, q) for _, p in lines for q in _ancestors(path)):
        return
    last = [exception for exception, p in lines if _matches(p, path)][-1:]
    assert IgnoreRules.parse(_text(lines)).excludes(path) is (last == [False])


@given(rules_lines, paths)
def test_a_final_catch_all_decides_everything(lines: list[tuple[bool, str]], path: str) -> None:
    assert not IgnoreRules.parse(_text(lines) + "!**\n").excludes(path)
    assert IgnoreRules.parse(_text(lines) + "**\n").excludes(path)


@settings(max_examples=50, deadline=None)
@given(rules_lines, st.sets(paths, min_size=1, max_size=6))
def test_the_walk_agrees_with_excludes(lines: list[tuple[bool, str]], files: set[str]) -> None:
    # A name cannot be a file and a directory at once: keep the deepest of clashing paths.
    leaves = {f for f in files if not any(g.startswith(f + "/") for g in files)}
    rules = IgnoreRules.parse(_text(lines))
    with tempfile.TemporaryDirectory() as root:
        for leaf in leaves:
            (Path(root) / leaf).parent.mkdir(parents=True, exist_ok=True)
            (Path(root) / leaf).write_text(leaf)
        expected = sorted(f for f in leaves if not rules.excludes(f))
        assert included_files(Path(root), rules) == expected


# --- Matched in linear time, whatever the pattern --------------------------------------


@pytest.mark.parametrize(
    ("rules", "path"),
    [
        ("**/" * 40 + "x", "a/" * 60 + "y"),
        ("*a" * 40 + "*b", "a" * 200),
        ("**a" * 40 + "b", "a/" * 100),
        ("x/" + "*/**/" * 30 + "z", "x/" + "a/" * 100),
        ("*[a]" * 40 + "*b", "a" * 200),  # 35 s for ten of them, when re matched classes
        ("*[a-z]?" * 30 + "*[0-9]", "ab" * 100),
    ],
)
def test_patterns_of_many_stars_take_linear_time(rules: str, path: str) -> None:
    import time

    started = time.perf_counter()
    assert not IgnoreRules.parse(rules).excludes(path)  # 16 s for `affected` before
    assert time.perf_counter() - started < 2  # 0.3 s at most; the first never ended


@pytest.mark.parametrize(
    ("rules", "path", "excluded"),
    [
        ("a?c", "a\udcffc", True),  # a byte that is no UTF-8 is one rune (U+FFFD) to Go
        ("a??c", "a\udcffc", False),
        ("a?c", "a\u00e9c", True),  # é is one rune, two bytes
        ("x[[:digit:]]", "x1", True),  # Go's regexp knows ASCII classes; Python's re does not
        ("x[[:digit:]]", "xd", False),
        ("x\\pLy", "x\u00e9y", True),  # a Unicode class escape
    ],
)
def test_a_regex_reads_the_path_as_gos_regexp_does(rules: str, path: str, excluded: bool) -> None:
    assert IgnoreRules.parse(rules).excludes(path) is excluded


def test_an_escape_gos_regexp_refuses_fails_the_build_once_tried(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    with pytest.raises(ValueError, match="syntax error in pattern"):
        included_files(tmp_path, IgnoreRules.parse("*\\Z"))  # Go has \z, not \Z
