from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    project = tmp_path / "monorepo"
    shutil.copytree(
        EXAMPLES / "monorepo", project, ignore=shutil.ignore_patterns(".buildgraph", "rootfs")
    )
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git(project, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "start")
    return project


def affected(project: Path, *args: str) -> dict[str, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "buildgraph",
            "affected",
            "--since",
            "main",
            "--format",
            "json",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return {t["name"]: t["reason"] for t in json.loads(result.stdout)["targets"]}


def test_nothing_changed_nothing_affected(repo: Path) -> None:
    assert affected(repo) == {}


def test_a_changed_service_file_affects_it_and_its_dependents(repo: Path) -> None:
    (repo / "images" / "runtime" / "entrypoint.sh").write_text("#!/bin/sh\necho changed\n")
    assert affected(repo) == {
        "runtime": "changed: images/runtime/entrypoint.sh",
        "worker": "depends on runtime",
        "smoke": "depends on worker",  # smoke depends_on the services group
    }


def test_an_ignored_file_affects_nothing_and_new_files_count(repo: Path) -> None:
    (repo / "services" / "api" / "NOTES.md").write_text("ignored by .dockerignore\n")
    assert affected(repo) == {}
    (repo / "libs" / "shared" / "new.txt").write_text("untracked, used by worker\n")
    assert affected(repo) == {
        "worker": "changed: libs/shared/new.txt",
        "smoke": "depends on worker",
    }


def test_the_project_file_affects_everything(repo: Path) -> None:
    toml = repo / "buildgraph.toml"
    toml.write_text(toml.read_text() + "\n# a comment\n")
    assert len(affected(repo)) == 10


def test_an_unknown_ref_is_bad_input(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "buildgraph", "affected", "--since", "nope"],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "not a commit" in result.stderr
