"""`build --shard K/N` and `build --since REF` against the real engine: two shards of a
project with a shared base push every selected target exactly once between them, and a
one-file change builds exactly what it reaches."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_build import buildgraph, events

pytestmark = pytest.mark.engine

REGISTRY = "127.0.0.1:5000/buildgraph-shards"


def shared_base_project(folder: Path) -> tuple[Path, str]:
    """base; a and b FROM base's tag; c on its own. Each in a folder of its own."""
    prefix = f"{REGISTRY}/run-{time.time_ns()}"
    toml = f'[target.base]\ncontext = "base"\ntags = ["{prefix}/base:1"]\n'
    for name in ("a", "b", "c"):
        toml += f'[target.{name}]\ncontext = "{name}"\ntags = ["{prefix}/{name}:1"]\n'
    files = {
        "buildgraph.toml": toml,
        "base/Dockerfile": "FROM scratch\nCOPY marker /base-marker\n",
        "base/marker": "base\n",
        "c/Dockerfile": "FROM scratch\nCOPY marker /c-marker\n",
        "c/marker": "c\n",
    }
    for name in ("a", "b"):
        files[f"{name}/Dockerfile"] = f"FROM {prefix}/base:1\nCOPY marker /{name}-marker\n"
        files[f"{name}/marker"] = f"{name}\n"
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder, prefix


def pushed(ref: str) -> bool:
    repository, tag = ref.split("/", 1)[1].rsplit(":", 1)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:5000/v2/{repository}/tags/list") as got:
            return tag in (json.load(got).get("tags") or [])
    except urllib.error.HTTPError:
        return False  # never pushed: the registry does not know the repository


def built(stdout: str) -> dict[str, str]:
    """Each target the build queued -> what it said becomes of it; all must be done."""
    found = events(stdout)
    [last] = [e for e in found if e["event"] == "summary"]
    assert {t["status"] for t in last["data"]["targets"]} <= {"done"}, last
    return {e["target"]: e["detail"] for e in found if e["event"] == "queued"}


def exported(queued: dict[str, str]) -> set[str]:
    return {name for name, detail in queued.items() if detail.startswith("pushed to")}


def test_two_shards_push_every_target_exactly_once(engine: str, tmp_path: Path) -> None:
    project, prefix = shared_base_project(tmp_path / "shards")
    checkouts = [project, tmp_path / "second-checkout"]
    shutil.copytree(project, checkouts[1])
    argv = ["build", "--push", "--format", "json", "a", "b", "c"]
    # Both shards at once, each in a checkout of its own, as two CI jobs run them.
    jobs = [
        subprocess.Popen(
            [sys.executable, "-m", "buildgraph", *argv, "--shard", f"{k}/2"],
            cwd=checkouts[k - 1],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in (1, 2)
    ]
    outputs = [job.communicate(timeout=600) for job in jobs]
    for job, (out, err) in zip(jobs, outputs, strict=True):
        assert job.returncode == 0, err + out
    shares = [built(out) for out, _ in outputs]
    pushes = [name for share in shares for name in exported(share)]
    assert sorted(pushes) == ["a", "b", "c"]  # each exactly once
    # a and b share base, which nobody asked for: each shard builds it for itself,
    # cache-only, and neither pushes it.
    assert all("base" in share for share in shares if {"a", "b"} & set(share))
    assert not pushed(f"{prefix}/base:1")
    for name in ("a", "b", "c"):
        assert pushed(f"{prefix}/{name}:1"), name


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize(
    ("changed", "expected"), [("c/marker", {"c"}), ("base/marker", {"base", "a", "b"})]
)
def test_since_builds_exactly_the_changed_target_and_its_dependents(
    engine: str, tmp_path: Path, changed: str, expected: set[str]
) -> None:
    project, prefix = shared_base_project(tmp_path / "since")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "start")
    (project / changed).write_text("changed\n")
    git(project, "commit", "-qam", "one file")
    result = buildgraph("build", "--push", "--since", "HEAD~1", "--format", "json", cwd=project)
    assert result.returncode == 0, result.stderr + result.stdout
    queued: dict[str, Any] = built(result.stdout)
    assert set(queued) == expected
    assert exported(queued) == expected
    for name in ("base", "a", "b", "c"):
        assert pushed(f"{prefix}/{name}:1") == (name in expected), name
