"""Typed variables read from the environment and --var as bake reads them, and
validation checked before anything is planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.load import load

TOML = """
[variables]
PUSH = false
PUSH2 = { type = "bool", default = false }
PORT = { type = "number", default = 8080 }
PLATFORMS = { type = "list", default = ["linux/amd64"] }
LABELS = { type = "map", default = { team = "web" } }
NAME = "app"
UNTYPED_LIST = { default = ["a"] }
TAG = { default = "dev", validation = [
  { condition = "TAG != ''", message = "TAG must not be empty" },
  { condition = "not TAG[:1].isdigit() or TAG.count('.') == 2", message = "a version TAG is X.Y.Z" },
] }

[target.app]
dockerfile-inline = "FROM scratch"
args = { PUSH = "{{ PUSH }}", LOUD = "{{ 'yes' if PUSH else 'no' }}", PORT = "{{ PORT + 1 }}",
         FIRST = "{{ PLATFORMS[0] }}", ALL = "{{ PLATFORMS | join(' ') }}", TEAM = "{{ LABELS.team }}" }
"""


def args(tmp_path: Path, environ: dict[str, str] | None = None, **var: str) -> dict[str, str]:
    (tmp_path / "buildgraph.toml").write_text(TOML)
    loaded = load(tmp_path / "buildgraph.toml", var, environ=environ or {})
    return dict(loaded.project.targets["app"].args)


def test_defaults_keep_their_types(tmp_path: Path) -> None:
    got = args(tmp_path)
    assert got["PUSH"] == "false" and got["LOUD"] == "no"
    assert got["PORT"] == "8081" and got["FIRST"] == "linux/amd64" and got["TEAM"] == "web"


@pytest.mark.parametrize("text", ["false", "0", "f", "F", "FALSE", "False"])
def test_false_from_the_environment_is_false(tmp_path: Path, text: str) -> None:
    assert args(tmp_path, {"PUSH": text})["LOUD"] == "no"


def test_values_from_the_environment_and_var_are_read_as_their_type(tmp_path: Path) -> None:
    got = args(
        tmp_path,
        {"PUSH": "true", "PLATFORMS": "linux/amd64,linux/arm64", "LABELS": "team=api,tier=1"},
        PORT="9000",
    )
    assert got["LOUD"] == "yes" and got["PORT"] == "9001"
    assert got["ALL"] == "linux/amd64 linux/arm64" and got["TEAM"] == "api"


def test_an_untyped_scalar_keeps_text_its_default_type_cannot_read(tmp_path: Path) -> None:
    """bake's dynamic typing: without a type, `PUSH=maybe` stays the text `maybe`."""
    assert args(tmp_path, {"PUSH": "maybe"})["PUSH"] == "maybe"


def test_json_in_name_json_wins(tmp_path: Path) -> None:
    got = args(
        tmp_path,
        {
            "PLATFORMS": "x",
            "PLATFORMS_JSON": '["linux/arm64", "linux/a,b"]',
            "LABELS_JSON": '{"team": "db"}',
        },
    )
    assert got["ALL"] == "linux/arm64 linux/a,b" and got["TEAM"] == "db"


@pytest.mark.parametrize(
    ("environ", "var", "message"),
    [
        (
            {"PUSH2": "ghp_s3cr3t"},
            {},
            "variable PUSH2, from the environment variable PUSH2: expected a boolean",
        ),
        ({}, {"PORT": "s3cr3t-port"}, "variable PORT, from --var: expected a number"),
        ({"LABELS": "s3cr3t-token"}, {}, "expected a map as CSV of KEY=VALUE"),
        ({"PLATFORMS_JSON": "{"}, {}, "PLATFORMS_JSON: expected JSON"),
        ({"PLATFORMS_JSON": '{"a": 1}'}, {}, "expected a list in JSON"),
        ({"UNTYPED_LIST": "b"}, {}, "has a list default and no type"),
        ({}, {"UNTYPED_LIST": "b"}, "has a list default and no type"),
    ],
)
def test_a_value_its_type_cannot_read_is_exit_2_never_shown(
    tmp_path: Path, environ: dict[str, str], var: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        args(tmp_path, environ, **var)
    text = str(raised.value)
    assert message in text and raised.value.exit_code == 2
    for value in (*environ.values(), *var.values()):
        assert (
            value not in text.replace("PLATFORMS_JSON", "").replace("LABELS", "") or len(value) < 3
        )


def test_a_failed_validation_is_exit_2_with_its_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        args(tmp_path, {"TAG": ""})
    assert "variable TAG: TAG must not be empty" in str(raised.value)
    assert "buildgraph.toml:" in str(raised.value)  # file and line
    with pytest.raises(ConfigError, match=r"a version TAG is X\.Y\.Z"):
        args(tmp_path, TAG="1.2")
    assert args(tmp_path, TAG="1.2.3")["PUSH"] == "false"


def test_a_condition_that_cannot_be_evaluated_says_so(tmp_path: Path) -> None:
    (tmp_path / "buildgraph.toml").write_text(
        '[variables]\nX = { default = "1", validation = [{ condition = "NOPE > 1", message = "m" }] }\n'
        '[target.a]\ndockerfile-inline = "FROM scratch"\n'
    )
    with pytest.raises(ConfigError, match="validation 1's condition cannot be evaluated"):
        load(tmp_path / "buildgraph.toml", {}, environ={})


def chained(tmp_path: Path, variables: str, environ: dict[str, str] | None = None) -> dict:
    (tmp_path / "buildgraph.toml").write_text(
        f"[variables]\n{variables}\n"
        '[target.a]\ndockerfile-inline = "FROM scratch"\nargs = { IMAGE = "{{ IMAGE }}" }\n'
    )
    return dict(
        load(tmp_path / "buildgraph.toml", {}, environ=environ or {}).project.targets["a"].args
    )


def test_a_default_may_read_other_variables_in_any_order(tmp_path: Path) -> None:
    got = chained(
        tmp_path,
        'IMAGE = "{{ REPO }}:{{ TAG }}"\nREPO = "{{ REGISTRY }}/app"\nREGISTRY = "r.example"\nTAG = "1"',
    )
    assert got == {"IMAGE": "r.example/app:1"}


def test_what_the_environment_gives_is_never_a_template(tmp_path: Path) -> None:
    got = chained(
        tmp_path, 'IMAGE = "{{ REGISTRY }}/app"\nREGISTRY = "r"', {"REGISTRY": "{{ 7*7 }}"}
    )
    assert got == {"IMAGE": "{{ 7*7 }}/app"}
    assert chained(tmp_path, 'IMAGE = "x"', {"IMAGE": "{{ 7*7 }}"}) == {"IMAGE": "{{ 7*7 }}"}


def test_defaults_reading_each_other_are_a_cycle(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reads B, which reads it back"):
        chained(tmp_path, 'IMAGE = "x"\nA = "{{ B }}"\nB = "{{ A }}"')
