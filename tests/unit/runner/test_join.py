"""`buildgraph join` with a fake starter: one imagetools create per complete target over
every runner's digests; a target missing a platform fails, its tags untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.cli.main import main
from buildgraph.plan.digests import TargetDigests, encode
from buildgraph.runner.join import run_join
from buildgraph.runner.process import Captured
from tests.unit.runner.fake_processes import FakeStarter

REPO = "localhost:5000/t"
AMD, ARM = "sha256:" + "a" * 64, "sha256:" + "b" * 64
BOTH = ("linux/amd64", "linux/arm64")


def write(folder: Path, platform: str, digest: str) -> None:
    targets = {
        "app": TargetDigests(f"{REPO}/app", (f"{REPO}/app:1",), BOTH, {platform: digest}),
        "tool": TargetDigests(f"{REPO}/tool", (f"{REPO}/tool:1",), BOTH, {"linux/amd64": AMD}),
    }
    if platform == "linux/arm64":
        del targets["tool"]  # the arm runner's build of tool failed: it reported nothing
    (folder / f"digests-{platform.replace('/', '-')}.json").write_text(encode([platform], targets))


def test_complete_targets_are_joined_and_one_missing_a_platform_fails(tmp_path: Path) -> None:
    write(tmp_path, "linux/amd64", AMD)
    write(tmp_path, "linux/arm64", ARM)
    starter = FakeStarter(captured=lambda argv: Captured(0, "{}", ""))
    results = {r.name: r for r in run_join([tmp_path], lambda e: None, starter)}
    assert results["app"].status == "done"
    assert results["tool"].status == "failed"
    assert results["tool"].detail == "no runner pushed linux/arm64: its tags were not made"
    creates = [argv for argv in starter.captured if "create" in argv]
    assert creates == [
        [
            "docker",
            "buildx",
            "imagetools",
            "create",
            "--tag",
            f"{REPO}/app:1",
            f"{REPO}/app@{AMD}",
            f"{REPO}/app@{ARM}",
        ]
    ]


def test_join_of_nothing_or_of_no_digests_file_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["join", str(tmp_path)]) == 2
    assert "no digests file found" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}")
    assert main(["join", str(tmp_path / "x.json")]) == 2
    assert "not a digests file" in capsys.readouterr().err
