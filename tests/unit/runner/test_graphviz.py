"""`buildgraph graph --format svg|png`: the plan's DAG drawn by the real Graphviz `dot`."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from buildgraph.cli.main import main
from buildgraph.errors import EnvironmentProblem
from buildgraph.plan.load import load, plan
from buildgraph.runner.graphviz import picture_of
from tests.conftest import EXAMPLES, engine_part_missing

EXAMPLE = str(EXAMPLES / "monorepo" / "buildgraph.toml")


@pytest.fixture()
def dot() -> str:
    found = shutil.which("dot")
    if found is None:
        engine_part_missing("Graphviz's dot is not installed (apt-get install graphviz)")
    assert found is not None
    return found


def test_the_svg_shows_every_target_and_edge(dot: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "-f", EXAMPLE, "--format", "svg"]) == 0
    svg = capsys.readouterr().out
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    the_plan = plan(load(Path(EXAMPLE), {}, environ={}), [])
    nodes = [
        html.unescape(t)
        for t in re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg)
    ]
    assert sorted(nodes) == sorted(p.name for p in the_plan.targets)
    found = re.findall(r'<g id="edge\d+" class="edge">\s*<title>([^<]+)</title>', svg)
    edges = [html.unescape(t) for t in found]
    wanted = [f"{d}->{p.name}" for p in the_plan.targets for d in p.needs]
    assert sorted(edges) == sorted(wanted) and wanted


def test_a_png_is_written_atomically_and_replaced_only_when_asked(
    dot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "graph.png"
    assert main(["graph", "-f", EXAMPLE, "--format", "png", "-o", str(out)]) == 0
    picture = out.read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n") and len(picture) > 1000
    assert main(["graph", "-f", EXAMPLE, "--format", "png", "-o", str(out)]) == 2
    assert "not overwriting it" in capsys.readouterr().err
    assert out.read_bytes() == picture
    assert main(["graph", "-f", EXAMPLE, "--format", "svg", "-o", str(out), "--force"]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.png"]  # no temporary left


def test_text_that_dot_would_read_as_markup_stays_text(dot: str) -> None:
    svg = picture_of('digraph g { "a<script>x</script>" -> "b&c" }', "svg").decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_no_dot_is_an_environment_problem_with_its_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EnvironmentProblem, match="apt-get install graphviz"):
        picture_of("digraph g {}", "svg")
    assert main(["graph", "-f", EXAMPLE, "--format", "svg"]) == 3
    assert "Graphviz's dot is not installed" in capsys.readouterr().err
