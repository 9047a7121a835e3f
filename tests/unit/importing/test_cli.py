"""`buildgraph import` as a command: exit codes, what it writes and refuses to write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from buildgraph.cli.main import main


def run(folder: Path, *args: str) -> int:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return main(["import", *args])
    finally:
        os.chdir(cwd)


def test_bad_hcl_is_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docker-bake.hcl").write_text('target "a" {\n  tags = [\n}\n')
    assert run(tmp_path) == 2
    err = capsys.readouterr().err
    assert "docker-bake.hcl:3" in err and "Traceback" not in err
    assert not (tmp_path / "buildgraph.toml").exists()


def test_an_unknown_block_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docker-bake.hcl").write_text('resource "a" {\n}\n')
    assert run(tmp_path) == 2
    assert "docker-bake.hcl:1: unknown block 'resource'" in capsys.readouterr().err


def test_untranslatable_is_exit_2_unless_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "docker-bake.hcl").write_text(
        'target "a" {\n  tags = ["x"]\n}\ntarget "b" {\n  tags = target.a.tags\n}\n'
    )
    assert run(tmp_path) == 2
    assert "docker-bake.hcl:5: no translation of target.a.tags" in capsys.readouterr().err
    assert not (tmp_path / "buildgraph.toml").exists()
    assert "target.a.tags" in (tmp_path / ".buildgraph-import").read_text()
    assert run(tmp_path, "--allow-partial", "--format", "json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["untranslatable"] == 1 and report["written"]
    assert "[target.b]" in (tmp_path / "buildgraph.toml").read_text()


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    (tmp_path / "docker-bake.hcl").write_text('target "a" {\n}\n')
    (tmp_path / "buildgraph.toml").write_text("mine")
    assert run(tmp_path) == 2
    assert (tmp_path / "buildgraph.toml").read_text() == "mine"
    assert run(tmp_path, "--force") == 0
    assert "[target.a]" in (tmp_path / "buildgraph.toml").read_text()


def test_paths_are_rebased_to_the_outputs_folder(tmp_path: Path) -> None:
    (tmp_path / "docker-bake.hcl").write_text(
        'target "a" {\n  context = "app"\n  contexts = { x = "lib", y = "target:b" }\n}\n'
        'target "b" {\n}\n'
    )
    assert run(tmp_path, "-o", "sub/buildgraph.toml") == 0
    text = (tmp_path / "sub" / "buildgraph.toml").read_text()
    assert 'context = "../app"' in text and 'x = "../lib"' in text and 'y = "target:b"' in text
    assert '[target.b]\ncontext = ".."' in text
