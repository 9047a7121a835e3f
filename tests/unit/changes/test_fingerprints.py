"""changes.fingerprints: each input changed in turn changes the fingerprint of its target
and of the targets that depend on it, and nothing else; what BuildKit never sees changes
nothing."""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.changes.fingerprints import (
    DIRECTORY,
    FILE,
    FINGERPRINT_FORMAT,
    PREFIX,
    DiskReader,
    TreeEntry,
    short_fingerprint,
    target_fingerprints,
    tree_digest,
)
from buildgraph.changes.hash_cache import HashCache
from buildgraph.dockerfiles.dockerignore import IgnoreRules, included_files
from buildgraph.plan.load import load, plan

# base <- app (its FROM names base's tag: an inferred edge) <- after (depends_on only);
# app has a local named context; other shares nothing with them.
TARGETS = {
    "base": ['context = "base"', 'tags = ["acme/base:dev"]', 'platforms = ["linux/amd64"]'],
    "app": ['context = "app"', 'tags = ["acme/app:dev"]', 'contexts = { shared = "shared" }'],
    "after": ['context = "after"', 'depends_on = ["app"]'],
    "other": ['context = "other"', 'tags = ["acme/other:dev"]'],
}
FILES = {
    "base/Dockerfile": "FROM scratch\nCOPY . /\n",
    "base/src/main.c": "int main(void) { return 0; }\n",
    "base/.dockerignore": "*.log\n",
    "base/build.log": "noise\n",
    "app/Dockerfile": "FROM acme/base:dev\nCOPY --from=shared . /shared/\nCOPY . /app/\n",
    "app/app.py": "print('hi')\n",
    "shared/lib.txt": "lib\n",
    "after/Dockerfile": "FROM acme/app:dev\n",
    "other/Dockerfile": "FROM scratch\nCOPY . /\n",
    "other/data": "data\n",
}
EVERYONE = {"base", "app", "after", "other"}
FROM_BASE = {"base", "app", "after"}
FROM_APP = {"app", "after"}


def _toml(targets: dict[str, list[str]]) -> str:
    lines = ['[project]\nname = "fp"\n']
    for name, attrs in targets.items():
        lines += [f"[target.{name}]", *attrs, ""]
    return "\n".join(lines)


def write_project(root: Path, targets: dict[str, list[str]] | None = None) -> Path:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    project = root / "buildgraph.toml"
    project.write_text(_toml(targets or TARGETS))
    return project


def fingerprints(project: Path, cache: HashCache | None = None, **kwargs: object) -> dict[str, str]:
    the_plan = plan(load(project, {}, environ={}), ())
    reader = DiskReader(cache or HashCache("test"))
    kwargs.setdefault("environ", {})
    kwargs.setdefault("default_platform", "linux/amd64")
    return dict(target_fingerprints(the_plan, reader=reader, **kwargs))  # type: ignore[arg-type]


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {name for name in before if before[name] != after[name]}


def _with(target: str, *lines: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        targets = {name: list(attrs) for name, attrs in TARGETS.items()}
        targets[target] += lines
        (root / "buildgraph.toml").write_text(_toml(targets))

    return edit


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)

    return edit


def _chmod(relative: str, mode: int) -> Callable[[Path], None]:
    return lambda root: os.chmod(root / relative, mode)


def _mkdir(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).mkdir(parents=True)


def _symlink(relative: str, target: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).symlink_to(target)


def _touch(relative: str) -> Callable[[Path], None]:
    return lambda root: os.utime(root / relative, ns=(1, 1))


def _replace_target(target: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        targets = {name: list(attrs) for name, attrs in TARGETS.items()}
        targets[target] = [line.replace(old, new) for line in targets[target]]
        (root / "buildgraph.toml").write_text(_toml(targets))

    return edit


CHANGES = {
    "a context file's contents": (
        _write("base/src/main.c", "int main(void) { return 1; }\n"),
        FROM_BASE,
    ),
    "a new context file": (_write("base/src/extra.h", "\n"), FROM_BASE),
    "chmod +x": (_chmod("base/src/main.c", 0o755), FROM_BASE),
    "a directory's mode": (_chmod("base/src", 0o700), FROM_BASE),
    "an empty directory": (_mkdir("base/empty"), FROM_BASE),
    "a symbolic link": (_symlink("base/link", "src/main.c"), FROM_BASE),
    "the Dockerfile": (_write("base/Dockerfile", "FROM scratch\nCOPY . /x/\n"), FROM_BASE),
    "the syntax line": (
        _write("base/Dockerfile", "# syntax=docker/dockerfile:1.7\nFROM scratch\nCOPY . /\n"),
        FROM_BASE,
    ),
    ".dockerignore lets a file through": (_write("base/.dockerignore", "*.tmp\n"), FROM_BASE),
    "<Dockerfile>.dockerignore": (_write("base/Dockerfile.dockerignore", "src\n"), FROM_BASE),
    "a local named context's file": (_write("shared/lib.txt", "lib 2\n"), FROM_APP),
    "args": (_with("base", 'args = { V = "1" }'), FROM_BASE),
    "the target stage": (_with("base", 'target = "final"'), FROM_BASE),
    "platforms": (_replace_target("base", '["linux/amd64"]', '["linux/arm64"]'), FROM_BASE),
    "labels": (_with("base", 'labels = { a = "b" }'), FROM_BASE),
    "annotations": (_with("base", 'annotations = ["index:a=b"]'), FROM_BASE),
    "no-cache": (_with("base", "no-cache = true"), FROM_BASE),
    "no-cache-filter": (_with("base", 'no-cache-filter = ["x"]'), FROM_BASE),
    "pull": (_with("base", "pull = true"), FROM_BASE),
    "network": (_with("base", 'network = "none"'), FROM_BASE),
    "a secret's id": (_with("base", 'secret = ["id=token,src=secret.txt"]'), FROM_BASE),
    "an ssh id": (_with("base", 'ssh = ["default"]'), FROM_BASE),
    "shm-size": (_with("base", 'shm-size = "128m"'), FROM_BASE),
    "ulimits": (_with("base", 'ulimits = ["nofile=1024:1024"]'), FROM_BASE),
    "extra-hosts": (_with("base", 'extra-hosts = { db = "10.0.0.1" }'), FROM_BASE),
    "dockerfile-inline": (_with("other", 'dockerfile-inline = "FROM scratch\\n"'), {"other"}),
    "a remote named context": (
        _with("other", 'contexts = { x = "docker-image://alpine:3.20" }'),
        {"other"},
    ),
    "a depends_on edge": (_with("other", 'depends_on = ["base"]'), {"other"}),
}

NO_CHANGE = {
    "a file .dockerignore excludes": _write("base/build.log", "other noise\n"),
    "a new file .dockerignore excludes": _write("base/more.log", "x\n"),
    "tags": _replace_target("base", '"acme/base:dev"', '"acme/base:dev", "acme/base:v2"'),
    "output": _with("base", 'output = ["type=local,dest=out"]'),
    "cache-to and cache-from": _with(
        "base", 'cache-to = ["type=local,dest=c"]', 'cache-from = ["type=local,src=c"]'
    ),
    "a description": _with("base", 'description = "the base"'),
    "mtime alone": _touch("base/src/main.c"),
    "a file outside every context": _write("README.md", "hello\n"),
}


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_an_input_changes_its_target_and_its_dependents_only(tmp_path: Path, what: str) -> None:
    project = write_project(tmp_path)
    (tmp_path / "secret.txt").write_text("s3cret")
    before = fingerprints(project)
    edit, expected = CHANGES[what]
    edit(tmp_path)
    assert changed(before, fingerprints(project)) == expected


@pytest.mark.parametrize("what", sorted(NO_CHANGE))
def test_what_never_reaches_buildkit_changes_nothing(tmp_path: Path, what: str) -> None:
    project = write_project(tmp_path)
    before = fingerprints(project)
    NO_CHANGE[what](tmp_path)
    assert changed(before, fingerprints(project)) == set()


def test_a_secret_is_hashed_by_its_id_never_its_value_or_source(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "two.txt").write_text("two")
    _with("base", 'secret = ["id=token,src=one.txt"]')(tmp_path)
    before = fingerprints(project)
    _with("base", 'secret = ["id=token,src=two.txt"]')(tmp_path)
    assert fingerprints(project) == before
    (tmp_path / "two.txt").write_text("changed")
    assert fingerprints(project) == before


def test_the_project_moved_or_checked_out_twice_keeps_every_fingerprint(tmp_path: Path) -> None:
    first = fingerprints(write_project(tmp_path / "one"))
    shutil.copytree(tmp_path / "one", tmp_path / "elsewhere" / "deeper")
    moved = fingerprints(tmp_path / "elsewhere" / "deeper" / "buildgraph.toml")
    second = fingerprints(write_project(tmp_path / "two"))  # written afresh: new inodes, mtimes
    assert first == moved == second


def test_the_format_and_the_shape(tmp_path: Path) -> None:
    found = fingerprints(write_project(tmp_path))
    assert all(fp.startswith(PREFIX) and len(fp) == len(PREFIX) + 64 for fp in found.values())
    assert short_fingerprint(found["base"]) == found["base"][len(PREFIX) :][:12]
    assert FINGERPRINT_FORMAT >= 1


def test_a_target_without_platforms_is_the_builders_platform(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    amd = fingerprints(project, default_platform="linux/amd64")
    arm = fingerprints(project, default_platform="linux/arm64")
    assert changed(amd, arm) == {"app", "after", "other"}  # base names its platforms


def test_source_date_epoch_reaches_every_build(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    assert (
        changed(fingerprints(project), fingerprints(project, environ={"SOURCE_DATE_EPOCH": "0"}))
        == EVERYONE
    )


def test_the_walk_sends_the_files_buildkit_sends(tmp_path: Path) -> None:
    """Directories excluded, re-included, and pruned: the files are dockerignore's."""
    context = tmp_path / "ctx"
    for relative in ("a/x.md", "a/y.txt", "b/keep/z.md", "b/drop/w.md", "c/v.md", "top.md"):
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        (context / relative).write_text(relative)
    (context / "d").mkdir()
    rules = IgnoreRules.parse("a\n!a/x.md\nb\n!b/keep\nc\n")
    entries = DiskReader(HashCache("test")).entries(context, rules)
    assert entries == sorted(entries, key=lambda e: os.fsencode(e.path).split(b"/"))
    files = [e.path for e in entries if e.kind != DIRECTORY]
    assert sorted(files) == included_files(context, rules)
    directories = [e.path for e in entries if e.kind == DIRECTORY]
    assert directories == ["a", "b", "b/keep", "d"]  # c: excluded, nothing re-included


names = st.text(st.characters(min_codepoint=97, max_codepoint=102), min_size=1, max_size=3)
trees = st.dictionaries(
    st.lists(names, min_size=1, max_size=3).map("/".join), st.binary(max_size=8), max_size=12
)


@settings(max_examples=40, deadline=None)
@given(trees, st.randoms(use_true_random=False))
def test_a_tree_digest_is_the_same_in_any_order(
    files: dict[str, bytes], rnd: random.Random
) -> None:
    entries = [TreeEntry(path, FILE, 0o644, data.hex()) for path, data in files.items()]
    shuffled = list(entries)
    rnd.shuffle(shuffled)
    assert tree_digest(entries) == tree_digest(shuffled)
    if entries:
        changed_one = [*entries[1:], TreeEntry(entries[0].path, FILE, 0o755, entries[0].data)]
        assert tree_digest(changed_one) != tree_digest(entries)


@settings(max_examples=25, deadline=None)
@given(trees)
def test_a_tree_written_twice_in_two_places_has_one_digest(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    digests = []
    for order in (sorted(files), sorted(files, reverse=True)):
        root = tmp_path_factory.mktemp("tree")
        for relative in order:
            path = root / relative
            if any(p.is_file() for p in (path, *path.parents) if root in p.parents):
                continue  # a file where a folder would go: not a tree
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.is_dir():
                path.write_bytes(files[relative])
        written = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        digests.append((written, DiskReader(HashCache("test")).tree(root, IgnoreRules())))
    if digests[0][0] == digests[1][0]:  # the same paths came out both times
        assert digests[0][1] == digests[1][1]


def test_xattrs_are_sent_and_hashed(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    before = fingerprints(project)
    try:
        os.setxattr(tmp_path / "base/src/main.c", "user.note", b"x")
    except OSError:
        pytest.skip("this filesystem keeps no user extended attributes")
    after = fingerprints(project)
    assert changed(before, after) == FROM_BASE
    os.setxattr(tmp_path / "base/src/main.c", "user.note", b"y")
    assert changed(after, fingerprints(project)) == FROM_BASE


def test_a_second_path_to_an_inode_is_a_hard_link_not_a_copy(tmp_path: Path) -> None:
    """fsutil sends it as a link to the first path: BuildKit's cache key differs."""
    project = write_project(tmp_path)
    (tmp_path / "app/copy.py").write_text(FILES["app/app.py"])
    before = fingerprints(project)
    (tmp_path / "app/copy.py").unlink()
    os.link(tmp_path / "app/app.py", tmp_path / "app/copy.py")
    assert changed(before, fingerprints(project)) == FROM_APP


def test_an_unchanged_rerun_reads_no_file_through_the_cache(tmp_path: Path) -> None:
    project = write_project(tmp_path)
    cache = HashCache("test", started_ns=time.time_ns() + 10**10)  # every file settled
    first = fingerprints(project, cache)
    assert cache.misses > 0 and cache.fresh
    again = HashCache("test", dict(cache.fresh), started_ns=cache.started_ns)
    assert fingerprints(project, again) == first
    assert again.misses == 0 and again.hits == cache.misses


def test_plan_shows_each_fingerprint_short_in_text_and_whole_in_json(tmp_path: Path) -> None:
    import json

    from buildgraph.render.plan_json import render_plan_json
    from buildgraph.render.plan_text import render_plan_text
    from buildgraph.report.style import Style

    project = write_project(tmp_path)
    the_plan = plan(load(project, {}, environ={}), ())
    found = fingerprints(project)
    text = render_plan_text(the_plan, Style(False), tmp_path, fingerprints=found)
    shown = [line.strip() for line in text.splitlines() if "fingerprint:" in line]
    assert shown == [f"fingerprint: {short_fingerprint(found[p.name])}" for p in the_plan.targets]
    document = json.loads(render_plan_json(the_plan, found))
    assert {t["name"]: t["fingerprint"] for w in document["waves"] for t in w} == found
    assert "fingerprint:" not in render_plan_text(the_plan, Style(False), tmp_path)
