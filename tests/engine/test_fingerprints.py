"""Fingerprints against the real BuildKit: the fingerprint changes exactly when the image
BuildKit builds does, for each kind of change to a context and a local named context.

Each step edits the tree, builds it again on the same builder (`--output type=oci`, the
manifest digest from the metadata file) and computes the fingerprint. BuildKit's cache key
has no mtime, so a build whose inputs BuildKit counts as unchanged is a cache hit with the
same digest: "same fingerprint => same inputs to BuildKit" is checked as "same fingerprint
<=> same digest" at every step but one. A directory's mode is not in BuildKit's cache key,
yet `COPY` gives it to the image (a build without the cache shows it): the fingerprint is
stricter there, as it must be to stand for the image.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.changes.fingerprints import DiskReader, target_fingerprints
from buildgraph.changes.hash_cache import HashCache
from buildgraph.plan.load import load, plan

pytestmark = pytest.mark.engine

TOML = """
[project]
name = "fingerprints"

[target.app]
context = "ctx"
contexts = { lib = "lib" }
"""
FILES = {
    "ctx/Dockerfile": "FROM scratch\nCOPY --from=lib . /lib/\nCOPY . /ctx/\n",
    "ctx/.dockerignore": "*.log\n",
    "ctx/src/a": "a\n",
    "ctx/noise.log": "noise\n",
    "lib/.dockerignore": "drop\n",  # the frontend applies a named context's own ignore file
    "lib/keep": "keep\n",
    "lib/drop": "drop\n",
}


def _write(relative: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).write_text(text)


def _touch(relative: str) -> Callable[[Path], None]:
    return lambda root: os.utime(root / relative, ns=(10**18, 10**18))


# (what, edit, whether BuildKit sees a change), in order
STEPS: list[tuple[str, Callable[[Path], None], bool]] = [
    ("a file the context's .dockerignore excludes", _write("ctx/noise.log", "other\n"), False),
    ("mtime alone", _touch("ctx/src/a"), False),
    ("a file the named context's .dockerignore excludes", _write("lib/drop", "x\n"), False),
    ("chmod +x", lambda root: os.chmod(root / "ctx/src/a", 0o755), True),
    ("a named context's file", _write("lib/keep", "keep 2\n"), True),
    ("an empty directory", lambda root: (root / "ctx/empty").mkdir(), True),
    ("a symbolic link", lambda root: (root / "ctx/link").symlink_to("src/a"), True),
    ("the .dockerignore lets a file through", _write("ctx/.dockerignore", "*.tmp\n"), True),
]


def _digest(docker: str, root: Path) -> str:
    metadata = root / "metadata.json"
    built = subprocess.run(
        [
            docker,
            "buildx",
            "build",
            "--build-context",
            f"lib={root / 'lib'}",
            "--metadata-file",
            str(metadata),
            "--output",
            f"type=oci,dest={root / 'image.tar'}",
            str(root / "ctx"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return str(json.loads(metadata.read_text())["containerimage.digest"])


def _fingerprint(project: Path) -> str:
    the_plan = plan(load(project, {}, environ={}), ())
    reader = DiskReader(HashCache("engine test"))
    return target_fingerprints(the_plan, reader=reader, environ={})["app"]


def test_the_fingerprint_changes_exactly_when_the_built_image_does(
    engine: str, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    for relative, text in FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    project = root / "buildgraph.toml"
    project.write_text(TOML)
    digest, fingerprint = _digest(engine, root), _fingerprint(project)
    assert _digest(engine, root) == digest  # a build again of the same inputs: the same image
    seen = []
    for what, edit, _ in STEPS:
        edit(root)
        new_digest, new_fingerprint = _digest(engine, root), _fingerprint(project)
        seen.append((what, new_digest != digest, new_fingerprint != fingerprint))
        digest, fingerprint = new_digest, new_fingerprint
    assert seen == [(what, visible, visible) for what, _, visible in STEPS]


def test_a_directorys_mode_reaches_the_image_and_the_fingerprint(
    engine: str, tmp_path: Path
) -> None:
    import tarfile

    root = tmp_path / "project"
    for relative, text in FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    project = root / "buildgraph.toml"
    project.write_text(TOML)
    before = _fingerprint(project)
    os.chmod(root / "ctx/src", 0o700)
    assert _fingerprint(project) != before
    out = root / "files.tar"
    built = subprocess.run(
        [
            engine,
            "buildx",
            "build",
            "--no-cache",
            "--build-context",
            f"lib={root / 'lib'}",
            "--output",
            f"type=tar,dest={out}",
            str(root / "ctx"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    with tarfile.open(out) as files:
        assert files.getmember("ctx/src").mode & 0o777 == 0o700
