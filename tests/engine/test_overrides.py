"""`--set`: buildgraph's reading of bake's override syntax is bake's. For each set of
flags, bake's own `--set` on the file buildgraph renders without them prints the same
targets as bake's print of the file buildgraph renders with them; on a bake file, the
flags go to bake itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.engine.test_build import buildgraph

pytestmark = pytest.mark.engine

# Cases whose bake semantics are those of buildx 0.20 and later (`+=`, the push and load
# keys, annotations): older bake reads these flags otherwise, or not at all.
CURRENT_ONLY = ("+=", ".push=", ".load=", ".annotations=", ".output=")
CURRENT = (0, 20, 0)

CASES = [
    ["app.tags=localhost:5000/o/app:2", "app.tags=localhost:5000/o/app:3"],
    ["app.tags+=localhost:5000/o/app:extra", "app-worker.tags+=localhost:5000/o/worker:2"],
    ["*.platform=linux/arm64", "app.args.B=2", "app.labels.team=y"],
    ["app*.args.A=9", "app-worker.dockerfile=Dockerfile", "app.target=final"],
    ["app.push=true", "app-worker.load=true"],
    ["app.push=false", "app.no-cache=true", "app-worker.pull=true"],
    ["app.output=type=local,dest=out", "app.cache-to=type=inline", "app.cache-from+=type=gha"],
    ["app.annotations=index:org.opencontainers.image.title=app", "app.attest=type=sbom"],
]


def bake_targets(file: Path, *sets: str) -> dict[str, Any]:
    printed = subprocess.run(
        [
            "docker",
            "buildx",
            "bake",
            "-f",
            file.name,
            *(f"--set={s}" for s in sets),
            "--print",
            "app",
            "app-worker",
        ],
        cwd=file.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(printed.stdout)["target"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("sets", CASES, ids=[" ".join(c) for c in CASES])
def test_buildgraphs_set_is_bakes_set(
    engine: str, buildx_version: tuple[int, int, int], tmp_path: Path, sets: list[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "overrides", project)
    plain = buildgraph("render", "--format", "bake", "-o", "plain.json", cwd=project)
    assert plain.returncode == 0, plain.stderr
    overridden = buildgraph(
        "render", "--format", "bake", "-o", "set.json", *(f"--set={s}" for s in sets),
        cwd=project,
    )  # fmt: skip
    assert overridden.returncode == 0, overridden.stderr
    ours = bake_targets(project / "set.json")  # whatever the buildx: a file it reads
    if buildx_version >= CURRENT or not any(m in s for s in sets for m in CURRENT_ONLY):
        assert ours == bake_targets(project / "plain.json", *sets)


def test_on_a_bake_file_the_flags_go_to_bake(engine: str, tmp_path: Path) -> None:
    project = tmp_path / "bake"
    shutil.copytree(FIXTURES / "bake_files", project)
    result = buildgraph(
        "plan", "app", "--format", "json", "--set", "app.tags=localhost:5000/x/app:set",
        "--set", "app.platform=linux/amd64,linux/arm64", cwd=project,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [app] = [t for wave in json.loads(result.stdout)["waves"] for t in wave if t["name"] == "app"]
    assert app["tags"] == ["localhost:5000/x/app:set"]
    assert app["platforms"] == ["linux/amd64", "linux/arm64"]  # split, as bake builds them
    bad = buildgraph("plan", "--set", "app.colour=red", cwd=project)
    assert bad.returncode == 2 and "unknown key" in bad.stderr
