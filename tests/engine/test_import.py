"""`buildgraph import`, proven by bake itself: for each fixture of tests/fixtures/import/,
bake's print of the original files equals bake's print of the file `buildgraph render`
writes from the imported buildgraph.toml; at the defaults, and with each variable set
through the environment. Targets are compared after normalising what legitimately
differs: a context bake prints relative to its working folder is compared as an absolute
path, a dockerfile as the absolute path it names."""

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

CASES = FIXTURES / "import"


def case_files(case: Path) -> list[str]:
    """The files of a case, in the order bake reads them: FILES lists them when present."""
    listed = case / "FILES"
    if listed.is_file():
        return listed.read_text().split()
    return [p.name for p in sorted(case.iterdir()) if p.suffix in (".hcl", ".json", ".yaml")]


def case_environments(case: Path) -> list[dict[str, str]]:
    """The environments a case is printed with: none, then each of ENV's lines (one
    `NAME=VALUE ...` set each)."""
    envs: list[dict[str, str]] = [{}]
    listed = case / "ENV"
    if listed.is_file():
        for line in listed.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                envs.append(dict(pair.split("=", 1) for pair in line.split()))
    return envs


def bake_print(cwd: Path, files: list[str], env: dict[str, str], *names: str) -> dict[str, Any]:
    command = ["docker", "buildx", "bake", *(a for f in files for a in ("-f", f)), "--print"]
    printed = subprocess.run(
        [*command, *names],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert printed.returncode == 0, printed.stderr
    return json.loads(printed.stdout)  # type: ignore[no-any-return]


def normalised(targets: dict[str, Any], cwd: Path) -> dict[str, Any]:
    out = {}
    for name, target in targets.items():
        target = dict(target)
        context = target.get("context", ".")
        if "://" not in context and not context.startswith("target:"):
            target["context"] = os.path.normpath(cwd / context)
        if "dockerfile" in target and "dockerfile-inline" not in target:
            target["dockerfile"] = os.path.normpath(Path(target["context"]) / target["dockerfile"])
        contexts = target.get("contexts")
        if contexts:
            target["contexts"] = {
                k: v if ":" in v else os.path.normpath(cwd / v) for k, v in contexts.items()
            }
        out[name] = target
    return out


def oldest_buildx(case: Path) -> tuple[int, ...]:
    """The oldest buildx a case prints on: MIN_BUILDX names it (its first line not a `#`
    comment; the comments say why) when the original uses what an older bake refuses or
    reads otherwise (a variable's type, validation; Compose keys bake 0.13 ignores)."""
    listed = case / "MIN_BUILDX"
    if not listed.is_file():
        return (0,)
    lines = [line for line in listed.read_text().splitlines() if not line.startswith("#")]
    return tuple(int(part) for part in lines[0].strip().split("."))


def imported(tmp_path: Path, case: str) -> tuple[Path, list[str]]:
    project = tmp_path / case
    shutil.copytree(CASES / case, project)
    files = case_files(project)
    result = buildgraph("import", *files, cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / ".buildgraph-import").is_file()
    valid = buildgraph("validate", "-f", "buildgraph.toml", cwd=project)
    assert valid.returncode == 0, valid.stderr
    return project, files


CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASE_NAMES)
def test_bake_prints_the_import_as_it_prints_the_original(
    engine: str, buildx_version: tuple[int, int, int], tmp_path: Path, case: str
) -> None:
    if buildx_version < oldest_buildx(CASES / case):
        pytest.skip(f"{case}: this buildx reads the original otherwise (see its MIN_BUILDX)")
    project, files = imported(tmp_path, case)
    for env in case_environments(project):
        original = bake_print(project, files, env)
        rendered = buildgraph(
            "render", "--format", "json", "-o", "rendered.json", "--force", cwd=project, env=env
        )
        assert rendered.returncode == 0, rendered.stderr
        ours = bake_print(project, ["rendered.json"], env, *original["target"])
        assert normalised(ours["target"], project) == normalised(original["target"], project), env
