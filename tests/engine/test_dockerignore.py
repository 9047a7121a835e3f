"""The real engine decides: what `COPY . /ctx/` receives equals `included_files`.

Each case writes one context tree and ignore file, builds `FROM scratch` + `COPY . /ctx/`
with a local exporter and compares the exported file set with our prediction. `present`
and `absent` pin down the quirk a case is about, so the engine, not just agreement between
two implementations, is what the assertions rest on.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from buildgraph.dockerfiles.dockerignore import IgnoreRules, included_files

pytestmark = pytest.mark.engine

LISTING = "FROM scratch\nCOPY . /ctx/\n"

TREE = [
    "README.md", "CHANGES.md", "notes.md.bak", ".env", ".git/config", "tmp/.cache/x",
    "docs/guide.md", "docs/deep/api.md", "docs/img/logo.png",
    "src/main.py", "src/util.py", "src/data/x.json", "src/build/out.o",
    "build/out.bin", "build/keep/me.txt", "build/sub/keep.txt",
    "node_modules/pkg/index.js", "node_modules/pkg/README.md",
    "a/f.txt", "a/b/c/d.txt",
    "file1.txt", "file2.txt", "filex.txt", "file!.txt",
    "star*.txt", "starX.txt", "q?.txt", "qX.txt", "#comment.txt", "[x].txt", "x.txt",
    "^caret", "space name.txt", "x$y.txt",
]  # fmt: skip
SYMLINKS = {"link_to_src": "src", "docs/readme_link": "../README.md"}


@dataclass(frozen=True)
class Case:
    id: str
    ignore: str
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    dockerfile_inside: bool = False  # the default ./Dockerfile, not -f from outside
    dockerfile_ignore: str | None = None  # <Dockerfile>.dockerignore beside it


CASES = [
    Case("double_star", "**/*.md\n**/out*\n", ("notes.md.bak", "docs/img/logo.png"),
         ("README.md", "docs/deep/api.md", "node_modules/pkg/README.md", "build/out.bin", "src/build/out.o")),
    Case("star_star_suffix_quirk", "**.md\n", (), ("docs/deep/api.md", "node_modules/pkg/README.md")),
    Case("top_level_vs_nested", "*.md\n", ("docs/guide.md",), ("README.md", "CHANGES.md")),
    Case("literal_exception_inside_excluded_dir", "build\n!build/keep/me.txt\n",
         ("build/keep/me.txt",), ("build/sub/keep.txt", "build/out.bin")),
    Case("wildcard_exception_walks_excluded_dirs", "build\nnode_modules\n!**/keep*.txt\n!**/README.md\n",
         ("build/sub/keep.txt", "node_modules/pkg/README.md"), ("build/keep/me.txt", "node_modules/pkg/index.js")),
    Case("exception_of_a_parent_does_not_reach_down", "a/*\n!a\n", (), ("a/f.txt", "a/b/c/d.txt")),
    Case("star_then_exception_for_a_dir", "*\n!docs\n", ("docs/deep/api.md",), ("README.md", ".dockerignore")),
    Case("directory_patterns", "docs/\nsrc/data\n.git\ntmp/**\n", ("src/main.py",),
         ("docs/guide.md", "src/data/x.json", ".git/config", "tmp/.cache/x")),
    Case("leading_slash_and_cleaning", "/README.md\n//build\n./src/../src/./util.py\n/docs/deep/../img/\n",
         ("src/main.py", "docs/deep/api.md"), ("README.md", "build/out.bin", "src/util.py", "docs/img/logo.png")),
    Case("dockerfile_inside_excluded", "Dockerfile\n.dockerignore\n", ("README.md",),
         ("Dockerfile", ".dockerignore"), dockerfile_inside=True),
    Case("only_the_dockerfile_and_src", "*\n!Dockerfile\n!src/**\n", ("Dockerfile", "src/data/x.json"),
         (".dockerignore", "README.md", "link_to_src"), dockerfile_inside=True),
    Case("character_classes", "file[0-9].txt\nfile[!2].txt\n[^a-z]*.md\n", ("filex.txt",),
         ("file1.txt", "file2.txt", "file!.txt", "README.md", "CHANGES.md")),
    Case("escaped_glob_characters", "star\\*.txt\nq\\?.txt\n\\[x\\].txt\n\\#comment.txt\n",
         ("starX.txt", "qX.txt", "x.txt"), ("star*.txt", "q?.txt", "[x].txt", "#comment.txt")),
    Case("comments_and_whitespace", "# README.md\n  #comment.txt\n\n\t*.bak  \ndocs\n! /docs/guide.md\n",
         ("README.md", "docs/guide.md"), ("#comment.txt", "notes.md.bak", "docs/deep/api.md")),
    Case("bom_and_crlf", "\ufeff.env\r\n.git\r\n", ("README.md",), (".env", ".git/config")),
    Case("regex_quirks", "^caret\nfile\\d.txt\nspace name.txt\n", ("filex.txt",),
         ("^caret", "file1.txt", "file2.txt", "space name.txt")),
    Case("ascii_class_and_many_starred_classes", "file[[:digit:]].txt\n*[a-z]*[a-z]*[a-z]*[.]bak\n",
         ("filex.txt", "README.md"), ("file1.txt", "file2.txt", "notes.md.bak")),
    Case("unicode_class_escape", "\\pLile?.txt\n", ("x.txt",), ("file1.txt", "filex.txt")),
    Case("trailing_backslash_after_a_star", "x*\\\n", ("x.txt",), ("x$y.txt",)),
    Case("bad_regexes_never_tried", "!\\y\n!file[b-a]\n", ("README.md",)),
    Case("symlinks_are_not_followed", "src\ndocs/readme_link\n", ("link_to_src",),
         ("src/main.py", "docs/readme_link")),
    Case("dockerfile_ignore_wins", "*.md\n", ("README.md",), ("src/main.py",), dockerfile_ignore="src\n"),
    Case("empty_dockerfile_ignore_still_wins", "*.md\n", ("README.md",), (), dockerfile_ignore=""),
]  # fmt: skip


def _write_context(root: Path, case: Case) -> Path:
    context = root / "context"
    for relative in TREE:
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        (context / relative).write_text(relative)
    for relative, target in SYMLINKS.items():
        (context / relative).symlink_to(target)
    (context / ".dockerignore").write_bytes(case.ignore.encode())
    if case.dockerfile_inside:
        (context / "Dockerfile").write_text(LISTING)
        return context / "Dockerfile"
    dockerfile = root / "dockerfiles" / "list.Dockerfile"
    dockerfile.parent.mkdir()
    dockerfile.write_text(LISTING)
    if case.dockerfile_ignore is not None:
        Path(f"{dockerfile}.dockerignore").write_text(case.dockerfile_ignore)
    return dockerfile


def _build(
    docker: str, context: Path, dockerfile: Path | None, out: Path
) -> subprocess.CompletedProcess[str]:
    command = [docker, "buildx", "build", "--output", f"type=local,dest={out}"]
    if dockerfile is not None:
        command += ["-f", str(dockerfile)]
    return subprocess.run([*command, str(context)], capture_output=True, text=True, timeout=120)


def _files_under(root: Path) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):  # symlinked dirs stay in `dirs`, unfollowed
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.append(Path(folder, name).relative_to(root).as_posix())
    return sorted(found)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_copy_receives_exactly_the_included_files(buildx: str, tmp_path: Path, case: Case) -> None:
    dockerfile = _write_context(tmp_path, case)
    context = tmp_path / "context"
    built = _build(
        buildx, context, None if case.dockerfile_inside else dockerfile, tmp_path / "out"
    )
    assert built.returncode == 0, built.stderr[-2000:]

    sent = _files_under(tmp_path / "out" / "ctx")
    assert set(case.present) <= set(sent)
    assert not set(case.absent) & set(sent)
    assert included_files(context, IgnoreRules.for_context(context, dockerfile)) == sent


# Some rules patternmatcher.New refuses up front ("invalid excludepatterns"); others only
# fail once the walk tries a regex Go cannot compile ("failed to match excludepatterns").
REFUSED = ["!", "!/", "a[", "x[^]", ".*[", "[]a]", "[a-]", "a\\", "x*[^]", "a[b-a]", "a\\y"]


@pytest.mark.parametrize("ignore", REFUSED)
def test_rules_buildkit_refuses_are_refused(buildx: str, tmp_path: Path, ignore: str) -> None:
    dockerfile = _write_context(tmp_path, Case("refused", ignore + "\n"))
    built = _build(buildx, tmp_path / "context", dockerfile, tmp_path / "out")
    assert built.returncode != 0
    rules = IgnoreRules.for_context(tmp_path / "context", dockerfile)
    said = [
        m
        for m in ("invalid excludepatterns", "failed to match excludepatterns")
        if m in built.stderr
    ]
    # BuildKit sometimes reports only the context transfer it cancelled; when it does say
    # why, the reason must be the kind we classified.
    if said:
        assert ("invalid excludepatterns" in said) is (rules.error is not None), built.stderr
    with pytest.raises(ValueError, match="pattern"):
        included_files(tmp_path / "context", rules)
