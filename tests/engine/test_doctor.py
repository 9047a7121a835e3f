"""`doctor` against the real machine: QEMU switched off and on, the buildx plugin hidden."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(os.geteuid() != 0, reason="switches binfmt_misc and the plugin: root"),
]

BINFMT_ARM64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
PLUGIN_DIRS = [
    Path("/usr/libexec/docker/cli-plugins"),
    Path("/usr/local/lib/docker/cli-plugins"),
    Path.home() / ".docker" / "cli-plugins",
    # The oldest leg's plugin (scripts/test.sh), which the CLI finds first.
    *([Path(os.environ["DOCKER_CONFIG"]) / "cli-plugins"] if "DOCKER_CONFIG" in os.environ else []),
]


def doctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildgraph", "doctor", *args],
        cwd=EXAMPLES / "monorepo",
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.fixture()
def arm64_emulation_off(engine: str) -> Iterator[None]:
    if not BINFMT_ARM64.exists():
        pytest.fail("qemu-aarch64 is not registered: .ci/provision-engine.sh should have done it")
    BINFMT_ARM64.write_text("0")
    try:
        yield
    finally:
        BINFMT_ARM64.write_text("1")


def test_doctor_passes_on_the_provisioned_machine(engine: str) -> None:
    result = doctor("--push", "--format", "json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    names = {c["name"]: c for c in report["checks"]}
    assert names["platform linux/arm64"]["ok"]
    assert names["registry localhost:5000"]["ok"]
    assert report["emulated"], "the example RUNs steps for arm64 under QEMU"


def test_doctor_names_arm64_and_the_fix_when_qemu_is_off(arm64_emulation_off: None) -> None:
    result = doctor()
    assert result.returncode == 3
    assert "linux/arm64 needs QEMU" in result.stdout
    assert "qemu-user-static" in result.stdout and "tonistiigi/binfmt" in result.stdout


def test_doctor_says_when_the_buildx_plugin_is_missing(engine: str, tmp_path: Path) -> None:
    hidden = []
    try:
        for folder in PLUGIN_DIRS:
            plugin = folder / "docker-buildx"
            if plugin.exists():
                shutil.move(plugin, tmp_path / f"{len(hidden)}-docker-buildx")
                hidden.append(plugin)
        result = doctor()
    finally:
        for index, plugin in enumerate(hidden):
            shutil.move(tmp_path / f"{index}-docker-buildx", plugin)
    assert result.returncode == 3
    assert "buildx plugin is missing" in result.stdout
    assert "docker-buildx" in result.stdout  # how to install it
