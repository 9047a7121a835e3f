from __future__ import annotations

import pytest

from buildgraph.dockerignore import IgnoreRules


@pytest.mark.parametrize(
    ("rules", "path", "excluded"),
    [
        ("*.md", "a.md", True),
        ("*.md", "docs/a.md", False),  # * stays in one element: top level only
        ("**/*.md", "docs/deep/a.md", True),
        ("**/*.md", "a.md", True),  # ** may be no element at all
        ("docs", "docs/a/b.txt", True),  # a directory excludes what is below it
        ("/build", "build/out", True),  # a leading / is dropped
        ("build/", "build/out", True),
        ("*.md\n!README.md", "README.md", False),
        ("*.md\n!README.md", "CHANGES.md", True),
        ("docs\n!docs/keep.txt", "docs/keep.txt", False),
        ("docs\n!docs/keep.txt", "docs/other.txt", True),
        ("!docs/keep.txt\ndocs", "docs/keep.txt", True),  # the last match decides
        ("# comment\n\n  *.log  ", "x.log", True),
        ("file[0-9].txt", "file7.txt", True),
        ("file[0-9].txt", "filex.txt", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
        ("dir/**", "dir/a/b", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("./x/../y", "y/z", True),  # patterns are cleaned like paths
        ("Dockerfile", "Dockerfile", True),
        ("", "anything", False),
    ],
)
def test_matching_follows_buildkit(rules: str, path: str, excluded: bool) -> None:
    assert IgnoreRules.parse(rules).excludes(path) is excluded
