"""[functions.NAME]: bake's function blocks, callable from every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.load import load

FUNCTIONS = """
[variables]
REG = "r.example/acme"
TAG = "{{ tag_of('dev', 1) }}"
TAGS_ON = { type = "bool", default = true, validation = [
  { condition = "image('x') != ''", message = "functions work in conditions" },
] }

[functions.image]
params = ["name"]
variadic = "more"
result = "{{ [REG ~ '/' ~ name ~ ':' ~ TAG] + more }}"

[functions.tag_of]
params = ["a", "b"]
result = "{{ a }}-{{ b }}"

[functions.first]
params = ["items"]
result = "{{ items[0] if items else none }}"
"""


def target(tmp_path: Path, toml: str, name: str = "app", **environ: str) -> dict[str, Any]:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(FUNCTIONS + toml)
    return dict(load(tmp_path / "buildgraph.toml", {}, environ=environ).project.targets[name].attrs)


def test_a_function_returns_a_value_and_sees_the_variables(tmp_path: Path) -> None:
    got = target(tmp_path, "[target.app]\ntags = \"{{ image('app', 'r.example/x:1') }}\"\n")
    assert got["tags"] == ("r.example/acme/app:dev-1", "r.example/x:1")


def test_a_variable_default_may_call_a_function(tmp_path: Path) -> None:
    got = target(tmp_path, '[target.app]\nargs = { T = "{{ TAG }}" }\n', TAG="prod")
    assert got["args"]["T"] == "prod"
    assert target(tmp_path, '[target.app]\nargs = { T = "{{ TAG }}" }\n')["args"]["T"] == "dev-1"


def test_a_function_yielding_none_unsets(tmp_path: Path) -> None:
    got = target(tmp_path, '[target.app]\ntarget = "{{ first([]) }}"\n')
    assert "target" not in got


def test_a_function_does_not_see_matrix_values(tmp_path: Path) -> None:
    toml = """
[functions.leak]
result = "{{ arch }}"
[target.app]
matrix = { arch = ["amd64", "arm64"] }
name = "app-{{ arch }}"
args = { A = "{{ leak() }}" }
"""
    with pytest.raises(ConfigError, match="'arch' is undefined"):
        target(tmp_path, toml, "app-amd64")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("tag_of('a')", "function tag_of takes 2 arguments, given 1"),
        ("image()", "function image takes at least 1 argument, given 0"),
        ("forever(1)", "function forever: calls nest more than 64 deep"),
        ("spin()", "steps of work"),
    ],
)
def test_calls_that_cannot_work_are_errors_naming_the_function(
    tmp_path: Path, call: str, message: str
) -> None:
    toml = f"""
[functions.forever]
params = ["n"]
result = "{{{{ forever(n) }}}}"
[functions.spin]
result = "{{% for i in range(90000) %}}{{{{ tag_of(i, i) }}}}{{% endfor %}}"
[target.app]
args = {{ A = "{{{{ {call} }}}}" }}
"""
    with pytest.raises(ConfigError) as caught:
        target(tmp_path, toml)
    assert message in str(caught.value) and "key 'args'" in str(caught.value)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[functions.REG]\nresult = "x"\n', "function REG has the name of a variable"),
        (
            '[functions.f]\nparams = ["a"]\nvariadic = "a"\nresult = "x"\n',
            "names a parameter twice",
        ),
        ('[functions.f]\nresult = "{{ a +}}"\n', "function f's result: template syntax error"),
        ('[functions.f]\nparams = "a"\nresult = "x"\n', "expected a list"),
        ('[functions.f]\nparams = ["a"]\n', "missing 'result'"),
    ],
)
def test_declarations_are_checked_before_any_call(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        target(tmp_path, toml + '[target.app]\ndockerfile-inline = "FROM scratch"\n')
    assert message in str(caught.value)


def test_a_function_or_variable_named_as_a_project_key_is_not_that_key(tmp_path: Path) -> None:
    toml = """
[variables]
name = "a-variable"
[functions.platforms]
params = ["os"]
result = "{{ [os ~ '/amd64'] }}"
[target.app]
platforms = "{{ platforms('linux') }}"
"""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(toml)
    project = load(tmp_path / "buildgraph.toml", {}, environ={}).project
    assert project.name is None and project.targets["app"].platforms == ("linux/amd64",)


def test_for_each_maps_a_function_over_a_list_or_a_table(tmp_path: Path) -> None:
    toml = """
[functions.tagged]
params = ["i", "v", "suffix"]
result = "{{ i ~ ':' ~ v ~ suffix }}"
[functions.long]
params = ["i", "v", "suffix"]
result = "{{ v | length > 1 }}"
[functions.upper_key]
params = ["k", "v", "suffix"]
result = "{{ upper(k) }}"
[target.app]
tags = "{{ for_each(['a', 'bb', 'cc'], tagged, '-x', where=long) }}"
args = "{{ for_each({'b': '2', 'a': '1'}, tagged, '', key=upper_key) }}"
"""
    got = target(tmp_path, toml)
    assert got["tags"] == ("1:bb-x", "2:cc-x")
    assert list(got["args"].items()) == [("A", "a:1"), ("B", "b:2")]  # keys in bake's order
