"""render.bake_target: the filesystem entitlements a bake run in the project's folder needs."""

from __future__ import annotations

import json
from pathlib import Path

from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode
from buildgraph.render.bake_json import render_bake_json
from buildgraph.render.bake_target import Entitlement, Rebaser


def rebaser_of(tmp_path: Path, toml: str, files: dict[str, str]) -> Rebaser:
    """The project `toml` in tmp_path/project (files relative to tmp_path), rendered."""
    root = tmp_path / "project"
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    root.mkdir(exist_ok=True)
    (root / "buildgraph.toml").write_text(toml)
    the_plan = plan(load(root / "buildgraph.toml", {}, environ={}), (), OutputMode.DEFAULT)
    rebaser = Rebaser(the_plan.project, root)
    render_bake_json(the_plan, rebaser)
    return rebaser


DOCKERFILE = "FROM scratch\n"


def test_contexts_dockerfiles_and_outputs_outside_the_folder_are_entitled(tmp_path: Path) -> None:
    toml = """
[target.app]
context = "../shared"
output = ["type=local,dest=../dist"]
contexts = { assets = "../assets" }

[target.tool]
context = "tool"
dockerfile = "../../dockerfiles/Dockerfile.tool"
output = ["type=tar,dest=../tool.tar"]
"""
    files = {
        "shared/Dockerfile": DOCKERFILE,
        "assets/a": "",
        "project/tool/x": "",
        "dockerfiles/Dockerfile.tool": DOCKERFILE,
    }
    rebaser = rebaser_of(tmp_path, toml, files)
    assert set(rebaser.entitlements) == {
        Entitlement("fs.read", str(tmp_path / "shared")),
        Entitlement("fs.write", str(tmp_path / "dist")),
        Entitlement("fs.read", str(tmp_path / "assets")),
        Entitlement("fs.read", str(tmp_path / "dockerfiles" / "Dockerfile.tool")),
        Entitlement("fs.write", str(tmp_path / "tool.tar")),
    }
    # A local output is a folder, a tarball a file: the runner makes each as it is.
    assert rebaser.write_folders == {str(tmp_path / "dist")}
    assert all(e.flag() == f"--allow={e.access}={e.path}" for e in rebaser.entitlements)


def test_a_dockerfile_in_its_context_or_the_folder_needs_nothing(tmp_path: Path) -> None:
    toml = """
[target.inside]
context = "app"
dockerfile = "../docker/Dockerfile"

[target.outside]
context = "../shared"
dockerfile = "sub/../Dockerfile"
"""
    files = {
        "project/app/x": "",
        "project/docker/Dockerfile": DOCKERFILE,
        "shared/Dockerfile": DOCKERFILE,
        "shared/sub/x": "",
    }
    rebaser = rebaser_of(tmp_path, toml, files)
    # Only the outside context: its Dockerfile is in it, the other one in the folder.
    assert list(rebaser.entitlements) == [Entitlement("fs.read", str(tmp_path / "shared"))]


def test_an_empty_output_or_cache_entry_renders_as_no_entry(tmp_path: Path) -> None:
    # Rendered into a folder of its own, "" once became `..`: an export into the project.
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "buildgraph.toml").write_text(
        '[target.app]\noutput = [""]\ncache-to = ["", "type=inline"]\ntags = ["example.test/app"]\n'
    )
    loaded = load(root / "buildgraph.toml", {}, environ={})
    out = root / "rendered"
    rebaser = Rebaser(loaded.project, out)
    document = json.loads(render_bake_json(plan(loaded, ()), rebaser))
    app = document["target"]["app"]
    assert app["output"] == [] and app["cache-to"] == ["type=inline"]
    assert [e.access for e in rebaser.entitlements] == ["fs.read"]  # the context only
    # No output of its own: --push applies to it, as bake's push override does.
    pushed = plan(loaded, (), OutputMode.PUSH)["app"]
    assert pushed.outputs == ("type=registry",)


def test_registry_caches_and_env_secrets_are_no_paths(tmp_path: Path) -> None:
    # Rendered into another folder, only paths move; a bare cache entry is a registry
    # reference to buildx, `src` of an env secret names the variable.
    root = tmp_path / "project"
    root.mkdir()
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "buildgraph.toml").write_text(
        "[target.app]\n"
        'cache-from = ["user/app:cache", "type=local,src=cache"]\n'
        'cache-to = ["user/app:cache", "type=registry,ref=user/app:c2"]\n'
        'secret = ["id=t,type=env,src=TOKEN"]\n'
        'output = ["type=docker,dest=img.tar"]\n'
    )
    loaded = load(root / "buildgraph.toml", {}, environ={})
    rebaser = Rebaser(loaded.project, root / "rendered")
    app = json.loads(render_bake_json(plan(loaded, ()), rebaser))["target"]["app"]
    assert app["cache-from"] == ["user/app:cache", "type=local,src=../cache"]
    assert app["cache-to"] == ["user/app:cache", "type=registry,ref=user/app:c2"]
    assert app["secret"] == ["id=t,type=env,src=TOKEN"]
    assert app["output"] == ["type=docker,dest=../img.tar"]  # a docker tarball is a file
    assert set(rebaser.entitlements) == {
        Entitlement("fs.read", str(root)),  # the context
        Entitlement("fs.read", str(root / "cache")),
        Entitlement("fs.write", str(root / "img.tar")),
    }
    assert rebaser.write_folders == set()
