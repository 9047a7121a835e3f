"""Shared fixtures: small real projects on disk, and the engine gate.

Tests marked `engine` need the real docker buildx. Locally they skip when it is missing;
with CI=true they fail, so a CI machine without the engine can never look green.

scripts/test.sh runs them twice, once per supported buildx (two legs: the current one and
the oldest, see .ci/buildx-legs.sh), naming the version each leg must find in
BUILDGRAPH_BUILDX: a leg whose plugin is missing, or is another version, fails in CI and
skips elsewhere, rather than quietly testing the other buildx twice.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.preflight.facts import Facts

FIXTURES = Path(__file__).parent / "fixtures"
# A builder with everything a two-platform plan needs, as the probe would report it.
HEALTHY_X86 = Facts(
    docker="/usr/bin/docker",
    buildx_version="0.13.1",
    builder="default",
    driver="docker",
    containerd_store=True,
    binfmt={"aarch64": True},
    machine="x86_64",
)
EXAMPLES = Path(__file__).parent.parent / "examples"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def engine_part_missing(what: str) -> None:
    """Fail (CI) or skip (elsewhere) a test that needs a part of the engine not here."""
    if _in_ci():
        pytest.fail(f"CI=true but {what}: .ci/provision-engine.sh should have installed it")
    pytest.skip(what)


@pytest.fixture(scope="session")
def buildx() -> str:
    """The docker CLI with a working buildx plugin (no daemon needed: bake --print), the
    version BUILDGRAPH_BUILDX names when it is set."""
    docker = shutil.which("docker")
    if docker is None:
        engine_part_missing("the docker CLI is not installed")
        raise AssertionError  # unreachable: engine_part_missing fails or skips
    probe = subprocess.run([docker, "buildx", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        engine_part_missing(f"docker buildx does not work: {probe.stderr.strip()}")
    wanted = os.environ.get("BUILDGRAPH_BUILDX")
    found = _version(probe.stdout)
    if wanted and found != wanted:
        where = os.environ.get("DOCKER_CONFIG", "~/.docker")
        engine_part_missing(
            f"BUILDGRAPH_BUILDX={wanted} but docker buildx is {found or probe.stdout.strip()!r}"
            f" (DOCKER_CONFIG {where})"
        )
    return docker


def _version(text: str) -> str | None:
    found = re.search(r"v?(\d+\.\d+\.\d+)", text)
    return found[1] if found else None


@pytest.fixture(scope="session")
def buildx_version(buildx: str) -> tuple[int, int, int]:
    """The version of the buildx the engine tests run with (this leg's)."""
    out = subprocess.run([buildx, "buildx", "version"], capture_output=True, text=True).stdout
    found = _version(out)
    assert found is not None, out
    major, minor, patch = (int(n) for n in found.split("."))
    return major, minor, patch


@pytest.fixture()
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Write a project: a buildgraph.toml and files (path -> text); returns the toml path."""

    def make(toml: str, files: dict[str, str] | None = None) -> Path:
        for rel, text in (files or {}).items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        project = tmp_path / "buildgraph.toml"
        project.write_text(toml)
        return project

    return make


REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def engine(buildx: str) -> str:
    """A running BuildKit (dockerd) and the local registry on 127.0.0.1:5000."""
    info = subprocess.run(
        [buildx, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True
    )
    if info.returncode != 0:
        engine_part_missing(f"no Docker daemon answers: {info.stderr.strip()[:200]}")
    import urllib.request

    try:
        urllib.request.urlopen("http://127.0.0.1:5000/v2/", timeout=5).close()
    except OSError as exc:
        engine_part_missing(f"no registry on 127.0.0.1:5000: {exc}")
    return buildx


@pytest.fixture()
def chain(tmp_path: Path, engine: str) -> Path:
    """A copy of tests/fixtures/chain with busybox staged for its FROM scratch base."""
    project = tmp_path / "chain"
    shutil.copytree(FIXTURES / "chain", project)
    stage_busybox(project / "base" / "rootfs")
    return project


def stage_busybox(rootfs: Path) -> None:
    """busybox for amd64 and arm64 under `rootfs`, for a `FROM scratch` base image."""
    staged = subprocess.run(
        ["bash", str(REPO / "scripts" / "stage-busybox.sh"), str(rootfs)],
        capture_output=True,
        text=True,
    )
    if staged.returncode != 0:
        engine_part_missing(f"busybox is not staged: {staged.stderr.strip()}")
