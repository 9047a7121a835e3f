"""Filesystem entitlements against the real buildx of this leg (scripts/test.sh runs the
engine tests with the current buildx and with the oldest supported one): a project whose
context is `../shared` and whose local output is `../dist`, both outside the folder bake
runs in. buildx 0.20+ refuses such a bake unless given exactly `--allow fs.read=…` and
`fs.write=…`; 0.13.1 asks for nothing and does not know the flag."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

TOML = """
[target.app]
context = "../shared"
platforms = ["linux/amd64"]
output = ["type=local,dest=../dist"]
"""


def buildgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildgraph", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.fixture()
def outside(tmp_path: Path, engine: str) -> Path:
    """tmp_path/project, building ../shared into ../dist."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "hello.txt").write_text(f"hello {time.time_ns()}\n")
    (shared / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "buildgraph.toml").write_text(TOML)
    return project


def test_a_bake_outside_its_folder_gets_exactly_the_entitlements_it_needs(
    outside: Path, buildx_version: tuple[int, int, int]
) -> None:
    dist = outside.parent / "dist"
    for attempt in ("cold", "warm"):  # warm: the early bake starts with the last flags
        built = buildgraph("build", "--format", "json", cwd=outside)
        assert built.returncode == 0, f"{attempt}: {built.stderr}{built.stdout}"
        hello = (outside.parent / "shared" / "hello.txt").read_text()
        assert (dist / "hello.txt").read_text() == hello, attempt
        log = (outside / ".buildgraph" / "logs" / "bake-1.log").read_text()
        assert "additional privileges" not in log
        recorded = outside / ".buildgraph" / "bake-allow.txt"
        if buildx_version >= (0, 19, 0):
            assert recorded.read_text().splitlines() == [
                f"--allow=fs.read={outside.parent / 'shared'}",
                f"--allow=fs.write={dist}",
            ]
        else:
            assert not recorded.exists()
        (outside.parent / "shared" / "hello.txt").write_text(f"hello {time.time_ns()}\n")


def test_the_current_buildx_refuses_that_bake_without_them(
    outside: Path, engine: str, buildx_version: tuple[int, int, int]
) -> None:
    """What the flags are for: without them, buildx 0.20+ refuses (it never prompts
    without a terminal); an older buildx, which enforces nothing, runs the same bake."""
    rendered = buildgraph("render", "-o", "bake.json", cwd=outside)
    assert rendered.returncode == 0, rendered.stderr
    if buildx_version < (0, 20, 0):
        plain = subprocess.run(
            [engine, "buildx", "bake", "-f", "bake.json", "--progress", "plain"],
            cwd=outside,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        assert plain.returncode == 0, plain.stderr
        return
    refused = subprocess.run(
        [engine, "buildx", "bake", "-f", "bake.json", "--progress", "plain"],
        cwd=outside,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert refused.returncode != 0 and "additional privileges requested" in refused.stderr
    # render's note says what to pass, and with it (the output folder made) the bake runs.
    [allow] = [n for n in rendered.stderr.splitlines() if "run it with" in n]
    flags = [a for a in allow.split() if a.startswith(("--allow", "'--allow"))]
    assert len(flags) == 2 and not any("fs=*" in f for f in flags)
    (outside.parent / "dist").mkdir()
    ran = subprocess.run(
        [engine, "buildx", "bake", "-f", "bake.json", *flags, "--progress", "plain"],
        cwd=outside,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert (outside.parent / "dist" / "hello.txt").is_file()
