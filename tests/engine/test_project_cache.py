"""`[project] cache = "registry"`: a pushed target writes its layers to
`<repo>:buildcache`, and a build on an emptied builder reads them back from there."""

from __future__ import annotations

import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.engine.test_build import buildgraph

pytestmark = pytest.mark.engine


def manifest_exists(repository: str, tag: str) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:5000/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def test_a_pushed_target_writes_and_reads_its_registry_cache(engine: str, tmp_path: Path) -> None:
    repository = f"bgcache-{uuid.uuid4().hex[:8]}/app"
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "buildgraph.toml").write_text(
        '[project]\ncache = "registry"\n[target.app]\n'
        'dockerfile-inline = "FROM scratch\\nCOPY a.txt /a.txt\\n"\n'
        f'tags = ["127.0.0.1:5000/{repository}:1"]\n'
    )
    first = buildgraph("build", "--push", "--via", "commands", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert manifest_exists(repository, "buildcache")
    subprocess.run([engine, "buildx", "prune", "-af"], capture_output=True, check=True)
    again = buildgraph(
        "build", "--push", "--via", "commands", "--rebuild", "--progress", "plain", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    log = again.stdout + again.stderr
    assert "importing cache manifest from 127.0.0.1:5000/" + repository + ":buildcache" in log
