from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from buildgraph.changes.input_index import InputIndex
from buildgraph.projectfile.document import load_document
from buildgraph.resolve.project import resolve_project

TOML = """
[target.base]
context = "base"
[target.api]
context = "api"
dockerfile = "../docker/api.Dockerfile"
contexts = { shared = "libs/shared" }
watch = { paths = ["config/api.yaml"], ignore = ["**/*.tmp"] }
[target.web]
context = "web"
depends_on = ["api"]
"""
FILES = {
    "base/Dockerfile": "FROM scratch\n",
    "api/main.py": "",
    "api/.dockerignore": "*.md\n!KEEP.md\ncache/\n",
    "docker/api.Dockerfile": "FROM scratch\n",
    "libs/shared/x.py": "",
    "config/api.yaml": "",
    "web/Dockerfile": "FROM scratch\n",
}


def index_of(make_project: Callable[..., Path]) -> tuple[Path, InputIndex]:
    file = make_project(TOML, FILES)
    project = resolve_project(load_document(file), {}, {})
    return file.parent, InputIndex.of(project, list(project.targets))


def test_paths_map_to_the_targets_they_feed(make_project: Callable[..., Path]) -> None:
    root, index = index_of(make_project)
    assert index.targets_for(root / "api" / "main.py") == {"api"}
    assert index.targets_for(root / "docker" / "api.Dockerfile") == {"api"}
    assert index.targets_for(root / "libs" / "shared" / "x.py") == {"api"}
    assert index.targets_for(root / "config" / "api.yaml") == {"api"}
    assert index.targets_for(root / "base" / "new-file") == {"base"}
    assert index.targets_for(root / "README.md") == set()


def test_dockerignore_and_watch_ignore_drop_changes(make_project: Callable[..., Path]) -> None:
    root, index = index_of(make_project)
    assert index.targets_for(root / "api" / "notes.md") == set()
    assert index.targets_for(root / "api" / "KEEP.md") == {"api"}
    assert index.targets_for(root / "api" / "cache" / "deep" / "x") == set()
    assert index.targets_for(root / "api" / "src" / "x.tmp") == set()
    assert index.targets_for(root / "api" / ".dockerignore") == {"api"}


def test_watch_paths_cover_every_root_once(make_project: Callable[..., Path]) -> None:
    root, index = index_of(make_project)
    paths = set(index.watch_paths())
    assert root / "api" in paths and root / "base" in paths
    assert all(p.exists() for p in paths)
    assert root / "api" / "main.py" not in paths


def test_paths_the_system_refuses_are_not_watched(tmp_path: Path) -> None:
    from buildgraph.changes.input_index import EXACT, Root

    too_long = Root("t", EXACT, tmp_path / ("a" * 300))
    assert InputIndex([too_long]).watch_paths() == [tmp_path]  # its folder, as if missing
    assert InputIndex([Root("t", EXACT, tmp_path / "b\x00c")]).watch_paths() == [tmp_path]
