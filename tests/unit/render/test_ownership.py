from __future__ import annotations

import json
from pathlib import Path

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.render import ownership
from buildgraph.render.formats import render_file
from buildgraph.render.ownership import looks_generated
from tests.conftest import FIXTURES

SHOP = FIXTURES / "shop" / "buildgraph.toml"


def our_bake_json(tmp_path: Path) -> Path:
    text, _ = render_file(plan(load(SHOP, {}, environ={}), ()), "bake", tmp_path)
    path = tmp_path / "out.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_our_bake_json_is_recognised_without_parsing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = our_bake_json(tmp_path)

    def no_parse(text: str) -> object:
        raise AssertionError("parsed the whole file")

    monkeypatch.setattr(ownership.json, "loads", no_parse)
    assert looks_generated(path)


def test_a_resolved_bake_json_in_another_layout_is_still_ours(tmp_path: Path) -> None:
    path = our_bake_json(tmp_path)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    assert looks_generated(path)


def _in_our_layout_with(tmp_path: Path, change: str) -> Path:
    """Our own output with one entry line or top-level key of a person's file added."""
    path = our_bake_json(tmp_path)
    text = path.read_text()
    between = '\n  },\n  "target": {\n'
    groups, _, targets = text.partition(between)
    if change.startswith("    "):  # a target entry
        text = groups + between + change + ",\n" + targets
    else:  # a top-level key between "group" and "target", laid out as they are
        text = groups + "\n  },\n" + change + between + targets
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "change",
    [
        '    "child": {"inherits": ["base"], "tags": ["x"]}',
        '    "multi": {"matrix": {"v": ["1", "2"]}, "name": "m-${v}"}',
        '    "escaped": {"\\u0069nherits": ["base"]}',
        '  "variable": {\n    "TAG": {"default": "dev"}',
        '  "\\u0076ariable": {\n    "TAG": {"default": "dev"}',
        '  "function": {\n    "f": {"params": [], "result": "x"}',
        '  "other": {\n    "a": "b"',
    ],
    ids=[
        "inherits",
        "matrix",
        "escaped-inherits",
        "variable",
        "escaped-variable",
        "function",
        "other",
    ],
)
def test_a_hand_written_bake_json_in_our_layout_is_refused(tmp_path: Path, change: str) -> None:
    path = _in_our_layout_with(tmp_path, change)
    json.loads(path.read_text())  # still valid JSON: only the rule refuses it
    assert not looks_generated(path)


def test_other_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text('{"name": "app", "version": "1.0.0"}\n')
    assert not looks_generated(path)
    path.write_text("not json at all\n")
    assert not looks_generated(path)
