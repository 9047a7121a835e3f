"""What bake makes of a definition, checked on the real buildx of this leg: the file
buildgraph renders (and builds through) must mean what the same definition written by hand
for bake means. Each case is a small project beside a bake file written as a person would
write it; both are given to `docker buildx bake --print`, and some are built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.engine

MARKER_DOCKERFILE = "FROM scratch\nCOPY marker /exported-marker\n"
REGISTRY = "127.0.0.1:5000/buildgraph-semantics"


def fresh_prefix() -> str:
    """Image names no earlier run used: the registry and the image store outlive a run."""
    return f"{REGISTRY}/run-{time.time_ns()}"


def buildgraph(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildgraph", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
    )


def bake_print(docker: str, file: Path, *targets: str) -> dict[str, Any]:
    """bake's own reading of `file`, run from the file's folder."""
    result = subprocess.run(
        [docker, "buildx", "bake", "-f", str(file), "--print", *targets],
        capture_output=True,
        text=True,
        cwd=file.parent,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def write(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def render(project: Path, out: Path, *names: str) -> Path:
    rendered = buildgraph("render", "--format", "bake", "-o", str(out), *names, cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    return out


# -- 1. an empty entry is no entry -------------------------------------------------------


EMPTY_ENTRIES_TOML = """
[target.app]
output = [""]
cache-to = [""]
"""
EMPTY_ENTRIES_BAKE = {
    "target": {"app": {"context": ".", "output": [""], "cache-to": [""]}},
}


def test_an_empty_output_exports_nothing_as_in_bake(buildx: str, tmp_path: Path) -> None:
    project = write(
        tmp_path / "project",
        {
            "buildgraph.toml": EMPTY_ENTRIES_TOML,
            "Dockerfile": MARKER_DOCKERFILE,
            "marker": "m\n",
            "docker-bake.json": json.dumps(EMPTY_ENTRIES_BAKE),
        },
    )
    theirs = bake_print(buildx, project / "docker-bake.json", "app")["target"]["app"]
    # bake drops the empty entries: no output, no cache export.
    assert "output" not in theirs and "cache-to" not in theirs
    ours = render(project, project / "rendered" / "bake.json")
    printed = bake_print(buildx, ours)["target"]["app"]
    assert "output" not in printed and "cache-to" not in printed
    assert printed["context"] == ".."


def test_building_an_empty_output_writes_nothing_into_the_project(
    engine: str, tmp_path: Path
) -> None:
    project = write(
        tmp_path / "project",
        {
            "buildgraph.toml": '[target.app]\noutput = [""]\n',
            "Dockerfile": MARKER_DOCKERFILE,
            "marker": "m\n",
        },
    )
    built = buildgraph("build", cwd=project)
    assert built.returncode == 0, built.stderr + built.stdout
    # Before, the empty entry became `.`: the image's files exported into the project.
    assert not (project / "exported-marker").exists()


# -- 2. a bare cache entry is a registry reference -----------------------------------------


def test_a_bare_cache_reference_stays_a_registry_reference_in_another_folder(
    engine: str, buildx_version: tuple[int, int, int], tmp_path: Path
) -> None:
    ref = f"{fresh_prefix()}/cache:app"
    toml = f'[target.app]\ncache-from = ["{ref}"]\ncache-to = ["{ref}"]\n'
    by_hand = {"target": {"app": {"context": ".", "cache-from": [ref], "cache-to": [ref]}}}
    project = write(
        tmp_path / "project",
        {
            "buildgraph.toml": toml,
            "Dockerfile": MARKER_DOCKERFILE,
            "marker": "m\n",
            "docker-bake.json": json.dumps(by_hand),
        },
    )
    out = project / "rendered" / "bake.json"
    rendered = buildgraph("render", "--format", "bake", "-o", str(out), cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    # No entitlement for a registry reference: only the context, outside rendered/.
    assert "fs.write" not in rendered.stderr and "buildgraph-semantics" not in rendered.stderr
    theirs = bake_print(engine, project / "docker-bake.json", "app")["target"]["app"]
    ours = bake_print(engine, out)["target"]["app"]
    for key in ("cache-from", "cache-to"):
        assert ours[key] == theirs[key], key  # before: ../127.0.0.1:5000/…
    # And bake exports the cache there, run from the rendered file's folder.
    allow = [f"--allow=fs.read={project}"] if buildx_version >= (0, 19, 0) else []
    baked = subprocess.run(
        [engine, "buildx", "bake", "-f", str(out), *allow, "--progress", "plain"],
        capture_output=True,
        text=True,
        cwd=out.parent,
        timeout=600,
    )
    assert baked.returncode == 0, baked.stderr[-2000:]
    repository = ref.split("/", 1)[1].rsplit(":", 1)[0]
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:5000/v2/{repository}/tags/list") as answer:
        assert "app" in json.load(answer)["tags"]


# -- 5. a group naming a missing target fails only when it is built ------------------------

BROKEN_GROUP_TOML = """
[target.api]
[target.worker]
[group.default]
targets = ["apl", "worker"]
[group.services]
targets = ["api", "worker"]
"""
BROKEN_GROUP_BAKE = {
    "group": {
        "default": {"targets": ["apl", "worker"]},
        "services": {"targets": ["api", "worker"]},
    },
    "target": {"api": {"context": "."}, "worker": {"context": "."}},
}


def test_a_group_naming_a_missing_target_fails_only_when_selected_as_in_bake(
    engine: str, tmp_path: Path
) -> None:
    project = write(
        tmp_path / "project",
        {
            "buildgraph.toml": BROKEN_GROUP_TOML,
            "Dockerfile": MARKER_DOCKERFILE,
            "marker": "m\n",
            "docker-bake.json": json.dumps(BROKEN_GROUP_BAKE),
        },
    )
    by_hand = str(project / "docker-bake.json")

    def bake(*names: str) -> subprocess.CompletedProcess[str]:
        argv = [engine, "buildx", "bake", "-f", by_hand, "--print", *names]
        return subprocess.run(argv, capture_output=True, text=True, cwd=project)

    # bake: the default group fails, naming the target; the rest of the file works.
    assert bake().returncode != 0 and "apl" in bake().stderr
    assert bake("services").returncode == 0 and bake("api").returncode == 0
    # buildgraph: the same. Before, every command refused the whole file.
    assert buildgraph("plan", "services", cwd=project).returncode == 0
    built = buildgraph("build", "api", cwd=project)
    assert built.returncode == 0, built.stderr + built.stdout
    planned = buildgraph("plan", cwd=project)
    assert planned.returncode == 2
    assert "group 'default' names unknown target 'apl'" in planned.stderr
    assert "key 'targets'" in planned.stderr and "did you mean 'api'?" in planned.stderr


# -- 4. groups keep their shape --------------------------------------------------------------

GROUPS_TOML = """
[target.base]
dockerfile = "base.Dockerfile"
[target.app]
contexts = { base = "target:base" }
[target.tool]
dockerfile = "base.Dockerfile"
[group.apps]
targets = ["app"]
[group.default]
targets = ["apps", "tool"]
"""
GROUPS_BAKE = {
    "group": {"apps": {"targets": ["app"]}, "default": {"targets": ["apps", "tool"]}},
    "target": {
        "base": {"context": ".", "dockerfile": "base.Dockerfile"},
        "app": {"context": ".", "contexts": {"base": "target:base"}},
        "tool": {"context": ".", "dockerfile": "base.Dockerfile"},
    },
}
GROUPS_FILES = {
    "buildgraph.toml": GROUPS_TOML,
    "base.Dockerfile": MARKER_DOCKERFILE,
    "Dockerfile": "FROM base\n",
    "marker": "m\n",
    "docker-bake.json": json.dumps(GROUPS_BAKE),
}


def test_a_group_of_groups_renders_as_a_group_of_groups(buildx: str, tmp_path: Path) -> None:
    project = write(tmp_path / "project", GROUPS_FILES)
    theirs = bake_print(buildx, project / "docker-bake.json")
    ours = bake_print(buildx, render(project, project / "bake.json"))
    assert ours["group"] == theirs["group"]
    assert theirs["group"]["default"] == {"targets": ["apps", "tool"]}
    assert sorted(ours["target"]) == sorted(theirs["target"]) == ["app", "base", "tool"]


# -- 3. a dependency nobody asked for is built for its dependents only -----------------------


def chain_project(folder: Path, prefix: str) -> Path:
    """base, and app built FROM base's tag: one project, for buildgraph and by hand."""
    base, app = f"{prefix}/base:1", f"{prefix}/app:1"
    toml = (
        f'[target.base]\ndockerfile = "base.Dockerfile"\ntags = ["{base}"]\n'
        f'[target.app]\ntags = ["{app}"]\n'
        '[target.lib]\ndockerfile = "base.Dockerfile"\n'
        f'tags = ["{prefix}/lib:1"]\n'
        '[target.e2e]\ndockerfile = "base.Dockerfile"\ndepends_on = ["lib", "app"]\n'
        'output = ["type=cacheonly"]\n'
    )
    by_hand = {
        "target": {
            "base": {"context": ".", "dockerfile": "base.Dockerfile", "tags": [base]},
            "app": {"context": ".", "tags": [app], "contexts": {base: "target:base"}},
        }
    }
    return write(
        folder,
        {
            "buildgraph.toml": toml,
            "base.Dockerfile": MARKER_DOCKERFILE,
            "Dockerfile": f"FROM {base}\nCOPY marker /again\n",
            "marker": "m\n",
            "docker-bake.json": json.dumps(by_hand),
        },
    )


def pushed(ref: str) -> bool:
    import urllib.error
    import urllib.request

    repository, tag = ref.split("/", 1)[1].rsplit(":", 1)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:5000/v2/{repository}/tags/list") as got:
            return tag in (json.load(got).get("tags") or [])
    except urllib.error.HTTPError:
        return False  # never pushed: the registry does not know the repository


def stored(docker: str, ref: str) -> bool:
    inspected = subprocess.run([docker, "image", "inspect", ref], capture_output=True)
    return inspected.returncode == 0


def what_became_of(docker: str, prefix: str) -> dict[str, tuple[bool, bool]]:
    """Each image of the chain: (in the registry, in the local image store)."""
    refs = {name: f"{prefix}/{name}:1" for name in ("base", "app")}
    return {name: (pushed(ref), stored(docker, ref)) for name, ref in refs.items()}


@pytest.mark.parametrize("via", ["bake", "commands"])
@pytest.mark.parametrize("mode", ["--push", "--load"])
def test_a_dependency_is_exported_only_when_asked_for_as_bake_does(
    engine: str, buildx_version: tuple[int, int, int], tmp_path: Path, mode: str, via: str
) -> None:
    unique = fresh_prefix()
    theirs_prefix, ours_prefix = f"{unique}-bake", f"{unique}-buildgraph"
    theirs = chain_project(tmp_path / "by-hand", theirs_prefix)
    baked = subprocess.run(
        [engine, "buildx", "bake", "-f", "docker-bake.json", "app", mode],
        capture_output=True,
        text=True,
        cwd=theirs,
        timeout=600,
    )
    assert baked.returncode == 0, baked.stderr[-2000:]
    ours = chain_project(tmp_path / "buildgraph", ours_prefix)
    built = buildgraph("build", "app", mode, "--via", via, cwd=ours)
    assert built.returncode == 0, built.stderr + built.stdout
    bake_did, we_did = what_became_of(engine, theirs_prefix), what_became_of(engine, ours_prefix)
    assert we_did["app"] == bake_did["app"] == (mode == "--push", True)
    assert we_did["base"][0] is bake_did["base"][0] is False  # never pushed
    if buildx_version >= (0, 16, 0):
        # bake builds base cacheonly: nothing stored either.
        assert we_did["base"] == bake_did["base"] == (False, False)
    else:
        # Before 0.16 bake gave a linked target it was not asked for the driver's default
        # export (the docker driver stores it). buildgraph names every target of the run
        # to such a bake (never its early bake, which names none), so base's cacheonly
        # holds there too; --via commands builds it cacheonly anyway.
        assert bake_did["base"] == (False, True)
        assert we_did["base"] == (False, False)


def test_a_dependency_bake_cannot_see_is_exported_and_the_plan_says_so(
    engine: str, tmp_path: Path
) -> None:
    prefix = fresh_prefix()
    project = chain_project(tmp_path / "project", prefix)
    built = buildgraph("build", "e2e", "--push", cwd=project)
    assert built.returncode == 0, built.stderr + built.stdout
    # e2e runs in a later bake run: lib and app reach it only through the registry; base,
    # which app reaches through a link, is built for app only, though named to bake.
    assert pushed(f"{prefix}/lib:1") and pushed(f"{prefix}/app:1")
    assert not pushed(f"{prefix}/base:1")
    planned = buildgraph("plan", "e2e", cwd=project)
    assert planned.returncode == 0, planned.stderr
    note = "note: lib is exported though not asked for: e2e needs it through depends_on"
    assert note in planned.stdout
    assert "note: app is exported though not asked for" in planned.stdout
    assert "base is exported" not in planned.stdout
