"""A project from what `docker buildx bake --print` printed: targets as printed, groups
as printed, paths from the folder bake ran in."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.resolve.bake_definition import project_from_print

# What buildx 0.29.1 printed for a file with a matrix, a target: link and entries.
PRINTED = {
    "group": {"default": {"targets": ["app", "m"]}, "m": {"targets": ["m-1", "m-2"]}},
    "target": {
        "app": {
            "context": "a",
            "contexts": {"base": "target:base"},
            "dockerfile": "Dockerfile",
            "tags": ["x/app:dev"],
            "cache-from": [{"ref": "user/app:cache", "type": "registry"}],
            "output": [{"type": "registry"}],
        },
        "base": {"context": "a", "dockerfile": "Dockerfile", "output": [{"type": "cacheonly"}]},
        "m-1": {"context": "a", "dockerfile": "Dockerfile", "args": {"V": "1"}},
        "m-2": {"context": "a", "dockerfile": "Dockerfile", "args": {"V": "2"}},
    },
}


def test_targets_and_groups_are_as_bake_printed_them(tmp_path: Path) -> None:
    files = (tmp_path / "ci" / "docker-bake.hcl", tmp_path / "ci" / "override.hcl")
    project = project_from_print(PRINTED, files, tmp_path)
    assert list(project.targets) == ["app", "base", "m-1", "m-2"]
    assert project.targets["app"].linked_targets() == ("base",)
    assert project.targets["app"].outputs == ({"type": "registry"},)
    assert project.targets["m-2"].args == {"V": "2"}
    assert project.groups["m"].targets == ("m-1", "m-2")
    assert project.file == files[0] and project.source_files == files and project.from_bake
    # Relative paths start where bake ran, not beside the file.
    assert project.root == tmp_path
    assert project.context_dir(project.targets["app"]) == tmp_path / "a"


def test_a_buildgraph_project_has_its_file_as_its_only_source(tmp_path: Path) -> None:
    from buildgraph.plan.load import load

    (tmp_path / "buildgraph.toml").write_text('[target.a]\ndockerfile-inline = "FROM scratch"\n')
    project = load(tmp_path / "buildgraph.toml", {}, environ={}).project
    assert project.source_files == (tmp_path / "buildgraph.toml",) and not project.from_bake
    assert project.root == tmp_path


@pytest.mark.parametrize(
    ("printed", "message"),
    [
        ({"target": {"a b": {}}}, "target name 'a b'"),
        ({"target": {"a": ["x"]}}, "not a table"),
        ({"target": {}, "group": {"g": {"targets": "a"}}}, "group 'g' without targets"),
    ],
)
def test_what_no_bake_prints_is_refused_naming_the_file(
    tmp_path: Path, printed: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        project_from_print(printed, (tmp_path / "docker-bake.hcl",), tmp_path)
    assert str(tmp_path / "docker-bake.hcl") in str(raised.value)
