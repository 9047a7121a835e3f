"""`--set`, bake's override syntax, on the targets of a buildgraph.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.load import load

TOML = """
[target.app]
context = "."
dockerfile-inline = "FROM scratch"
tags = ["r/app:1"]
platforms = ["linux/amd64"]
args = { A = "1" }
output = ["type=image"]

[target.app-worker]
context = "."
dockerfile-inline = "FROM scratch"
tags = ["r/worker:1"]

[target.tool]
context = "."
dockerfile-inline = "FROM scratch"
"""


def attrs(tmp_path: Path, *overrides: str, environ: dict[str, str] | None = None) -> dict:
    (tmp_path / "buildgraph.toml").write_text(TOML)
    project = load(tmp_path / "buildgraph.toml", {}, environ=environ or {}, overrides=overrides)
    return {name: dict(t.attrs) for name, t in project.project.targets.items()}


def test_lists_are_replaced_or_added_to_one_value_a_flag(tmp_path: Path) -> None:
    got = attrs(tmp_path, "app.tags=r/app:2", "app.tags=r/app:3", "app-worker.tags+=r/worker:2")
    assert got["app"]["tags"] == ("r/app:2", "r/app:3")
    assert got["app-worker"]["tags"] == ("r/worker:1", "r/worker:2")


def test_a_pattern_matches_target_names_and_a_name_only_itself(tmp_path: Path) -> None:
    got = attrs(tmp_path, "app*.platform=linux/arm64", "app.args.B=2")
    assert got["app"]["platforms"] == got["app-worker"]["platforms"] == ("linux/arm64",)
    assert "platforms" not in got["tool"]
    assert got["app"]["args"] == {"A": "1", "B": "2"}
    assert "args" not in got["app-worker"]


def test_platforms_split_at_commas_and_booleans_parse_as_bake_reads_them(tmp_path: Path) -> None:
    got = attrs(tmp_path, "*.platform=linux/amd64,linux/arm64", "tool.no-cache=T", "tool.pull=0")
    assert got["tool"]["platforms"] == ("linux/amd64", "linux/arm64")
    assert got["tool"]["no-cache"] is True and got["tool"]["pull"] is False


def test_an_arg_with_no_value_comes_from_the_environment_or_is_skipped(tmp_path: Path) -> None:
    got = attrs(tmp_path, "app.args.TOKEN", "app.args.UNSET", environ={"TOKEN": "t0k"})
    assert got["app"]["args"] == {"A": "1", "TOKEN": "t0k"}


def test_push_and_load_switch_the_image_output(tmp_path: Path) -> None:
    got = attrs(tmp_path, "app.push=true", "tool.load=true", "app-worker.push=true")
    assert got["app"]["output"] == ("type=image,push=true",)
    assert got["tool"]["output"] == ("type=docker",)
    assert got["app-worker"]["output"] == ("type=image,push=true",)


def test_entries_are_replaced_or_merged(tmp_path: Path) -> None:
    got = attrs(tmp_path, "app.output=type=local,dest=out", "tool.cache-to+=type=inline")
    assert got["app"]["output"] == ("type=local,dest=out",)
    assert got["tool"]["cache-to"] == ("type=inline",)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("app", "TARGET.KEY=VALUE"),
        ("app.colour=red", "unknown key 'colour'"),
        ("app.args=1", "args needs a name"),
        ("app.tags.x=1", "takes no name"),
        ("app.context+=x", "does not take +="),
        ("app.pull=maybe", "takes true or false"),
        ("app.tags", "has no '='"),
        ("nothing*.tags=x", "no target matches 'nothing*'"),
    ],
)
def test_a_bad_override_is_exit_2_naming_its_number(
    tmp_path: Path, override: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        attrs(tmp_path, "app.tags=ok", override)
    assert raised.value.exit_code == 2 and "--set number 2" in str(raised.value)
