"""Where a project is defined: a buildgraph.toml, or the bake and Compose files bake
itself would read."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.projectfile.locate import BAKE_DEFAULT_FILES, locate_definition


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")


def test_the_nearest_buildgraph_toml_wins_over_bake_files(tmp_path: Path) -> None:
    touch(tmp_path, "buildgraph.toml", "sub/docker-bake.hcl")
    found = locate_definition(None, tmp_path / "sub")
    assert found.files == (tmp_path / "buildgraph.toml",) and not found.of_bake
    assert found.folder == tmp_path


def test_without_a_buildgraph_toml_the_files_bake_reads_here_are_read_in_its_order(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "docker-bake.override.hcl", "docker-bake.hcl", "compose.yaml", "other.hcl")
    found = locate_definition(None, tmp_path)
    assert found.of_bake and found.folder == tmp_path
    assert [p.name for p in found.files] == [
        "compose.yaml",
        "docker-bake.hcl",
        "docker-bake.override.hcl",
    ]
    assert list(BAKE_DEFAULT_FILES).index("compose.yaml") == 0


def test_nothing_to_read_names_both_kinds(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        locate_definition(None, tmp_path)
    assert "no buildgraph.toml" in str(raised.value) and "docker-bake.hcl" in str(raised.value)


def test_named_bake_and_compose_files_are_read_by_bake_where_the_user_is(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "ci/docker-bake.hcl", "ci/docker-bake.override.hcl")
    found = locate_definition(
        [Path("ci/docker-bake.hcl"), Path("ci/docker-bake.override.hcl")], tmp_path
    )
    assert found.of_bake and found.folder == tmp_path  # bake's paths start where it runs
    assert found.files == (
        tmp_path / "ci/docker-bake.hcl",
        tmp_path / "ci/docker-bake.override.hcl",
    )
    assert found.file == tmp_path / "ci/docker-bake.hcl"


def test_a_buildgraph_toml_is_read_alone(tmp_path: Path) -> None:
    touch(tmp_path, "buildgraph.toml", "docker-bake.hcl")
    with pytest.raises(ConfigError, match="read alone"):
        locate_definition([Path("buildgraph.toml"), Path("docker-bake.hcl")], tmp_path)
    with pytest.raises(ConfigError, match="read alone"):
        locate_definition([Path("buildgraph.toml"), Path("buildgraph.toml")], tmp_path)


def test_one_named_toml_is_a_buildgraph_project(tmp_path: Path) -> None:
    touch(tmp_path, "sub/project.toml")
    found = locate_definition(Path("sub/project.toml"), tmp_path)
    assert not found.of_bake and found.folder == tmp_path / "sub"
