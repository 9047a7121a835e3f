"""The bake rendering, given to the real `docker buildx bake --print`, must resolve to
exactly what the project declares: the same as a hand-written bake definition."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from buildgraph.cli.main import main
from buildgraph.plan.load import load, plan
from tests.conftest import EXAMPLES, FIXTURES

pytestmark = pytest.mark.engine

MONOREPO = EXAMPLES / "monorepo"


def bake_print(docker: str, file: Path, cwd: Path, targets: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [docker, "buildx", "bake", "-f", str(file), "--print", *targets],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def absolute_paths(targets: dict[str, Any], cwd: Path) -> dict[str, Any]:
    """Targets with local context paths made absolute, to compare files run from elsewhere."""
    out = {}
    for name, target in targets.items():
        target = dict(target)
        target["context"] = str((cwd / target["context"]).resolve())
        if "contexts" in target:
            target["contexts"] = {
                k: v if ":" in v else str((cwd / v).resolve())
                for k, v in target["contexts"].items()
            }
        out[name] = target
    return out


def render(project: Path, out: Path, *names: str) -> None:
    assert main(["render", "-f", str(project), "--format", "bake", "-o", str(out), *names]) == 0


def test_example_rendering_equals_the_hand_written_bake_file(buildx: str, tmp_path: Path) -> None:
    rendered = tmp_path / "nested" / "docker-bake.json"
    render(MONOREPO / "buildgraph.toml", rendered, "ci")
    # What `ci` asks for, named to both files: bake adds the dependencies it reaches
    # through target: links, as does the rendering (built cache-only there, unasked).
    asked = plan(load(MONOREPO / "buildgraph.toml", {}, environ={}), ("ci",))
    names = sorted(p.name for p in asked.targets if p.requested)
    ours = absolute_paths(
        bake_print(buildx, rendered, rendered.parent, names)["target"], rendered.parent
    )
    theirs = absolute_paths(
        bake_print(buildx, FIXTURES / "monorepo.docker-bake.hcl", MONOREPO, names)["target"],
        MONOREPO,
    )
    linked = sorted(set(theirs) - set(names))
    assert linked == ["base", "runtime", "web-assets"]
    # Named to bake in a stage group too, they export nothing: the file says cacheonly,
    # as bake 0.16+ prints them here (before 0.16 bake prints no output for a linked
    # target, whatever the file says, and so prints both files alike as well).
    written = json.loads(rendered.read_text())["target"]
    assert all(written[name]["output"] == ["type=cacheonly"] for name in linked)
    assert ours == theirs
    assert len(names) == 7


def test_hcl_and_json_renderings_print_the_same(buildx: str, tmp_path: Path) -> None:
    for project in (MONOREPO / "buildgraph.toml", FIXTURES / "shop" / "buildgraph.toml"):
        as_json, as_hcl = tmp_path / "b.json", tmp_path / "b.hcl"
        assert (
            main(["render", "-f", str(project), "--format", "bake", "-o", str(as_json), "--force"])
            == 0
        )
        assert (
            main(["render", "-f", str(project), "--format", "hcl", "-o", str(as_hcl), "--force"])
            == 0
        )
        names = sorted(json.loads(as_json.read_text())["target"])
        assert (
            bake_print(buildx, as_json, tmp_path, names)["target"]
            == bake_print(buildx, as_hcl, tmp_path, names)["target"]
        )


def as_read(printed: str, buildx_version: tuple[int, int, int]) -> str:
    """A value as bake read it. After 0.13.1 (seen with 0.29.1) `--print` writes values as
    bake input again, literal markers escaped (`$${`, `%%{`); 0.13.1 writes them read."""
    if buildx_version <= (0, 13, 1):
        return printed
    return printed.replace("$${", "${").replace("%%{", "%{")


def test_literal_template_markers_survive_bake(
    buildx: str, buildx_version: tuple[int, int, int], tmp_path: Path
) -> None:
    out = tmp_path / "b.json"
    render(FIXTURES / "shop" / "buildgraph.toml", out)
    printed = bake_print(buildx, out, tmp_path, ["app-a1"])
    shell_text = printed["target"]["app-a1"]["args"]["SHELL_TEXT"]
    assert as_read(shell_text, buildx_version) == "${HOME} and %{x} stay literal"


def test_template_markers_in_table_keys_survive_bake(
    buildx: str, buildx_version: tuple[int, int, int], tmp_path: Path
) -> None:
    # bake reads the keys of a JSON table as templates too.
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    project = tmp_path / "buildgraph.toml"
    project.write_text('[target.t]\nlabels = { "k${x}" = "v%{y}" }\nargs = { "A${B}" = "c" }\n')
    out = tmp_path / "b.json"
    render(project, out)
    printed = bake_print(buildx, out, tmp_path, ["t"])["target"]["t"]
    # Keys are printed as read by every buildx; values, see as_read.
    assert {k: as_read(v, buildx_version) for k, v in printed["labels"].items()} == {
        "k${x}": "v%{y}"
    }
    assert printed["args"] == {"A${B}": "c"}
