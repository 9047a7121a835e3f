"""A whole {{ expression }} is a value, and [functions] are bake's function blocks: the
fixture's buildgraph.toml, rendered, prints through `docker buildx bake --print` exactly as
the docker-bake.hcl beside it (null, list-valued expressions, function blocks, written as
bake users write them), at the defaults and with every variable set, on both buildx legs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES
from tests.engine.test_build import buildgraph

pytestmark = pytest.mark.engine

SETTINGS = [
    {},
    {"STAGE": "final"},
    {"LATEST": "true", "TAG": "2"},
    {"CACHE_REF": "localhost:5000/cache/values", "PLATFORMS": "linux/arm64"},
    {
        "STAGE": "base",
        "LATEST": "true",
        "CACHE_REF": "localhost:5000/c",
        "REGISTRY": "localhost:5000/x",
        "PLATFORMS": "linux/amd64,linux/arm64,linux/arm/v7",
    },
]


def printed(docker: str, folder: Path, file: str, environ: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [docker, "buildx", "bake", "-f", file, "--print"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, **environ},
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("environ", SETTINGS, ids=[" ".join(s) or "defaults" for s in SETTINGS])
def test_bake_prints_the_rendered_file_as_it_prints_the_bake_file(
    engine: str, tmp_path: Path, environ: dict[str, str]
) -> None:
    project = tmp_path / "values"
    shutil.copytree(FIXTURES / "native_values", project)
    rendered = buildgraph(
        "render", "--format", "bake", "-o", "rendered.json", cwd=project, env=environ
    )
    assert rendered.returncode == 0, rendered.stderr
    ours = printed(engine, project, "rendered.json", environ)
    theirs = printed(engine, project, "docker-bake.hcl", environ)
    assert ours == theirs
    if "STAGE" not in environ:  # null: no target, no MODE arg, no stage label
        assert "target" not in ours["target"]["app"] and "MODE" not in ours["target"]["app"]["args"]


def test_a_null_printed_into_text_is_refused_before_bake_runs(engine: str, tmp_path: Path) -> None:
    project = tmp_path / "values"
    shutil.copytree(FIXTURES / "native_values", project)
    toml = project / "buildgraph.toml"
    toml.write_text(
        toml.read_text().replace(
            "\"{{ REGISTRY }}/tool:{{ 'plain' if STAGE is none else STAGE }}\"",
            '"{{ REGISTRY }}/tool:{{ STAGE }}"',
        )
    )
    result = buildgraph("build", "tool", cwd=project)
    assert result.returncode == 2
    assert "target 'tool', key 'tags'" in result.stderr and "null value" in result.stderr
    assert "Traceback" not in result.stderr
