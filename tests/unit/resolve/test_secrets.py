"""Values set from outside the file (environment, --var) may be secrets: errors name the
variable, never its value; values written in the file may be shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project

FILE = Path("/project/buildgraph.toml")
SECRET = "ghp_0123456789abcdefSECRET"


def problems(toml: str, env: dict[str, str], overrides: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        resolve_project(parse_document(toml, FILE), overrides or {}, env)
    return str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        'platforms = ["{{ T }}"]',
        'platforms = ["{{ T | upper }}"]',
        'depends_on = ["{{ T }}"]',
        'contexts = { x = "target:{{ T }}" }',
        'tags = ["{{ T.nope.deeper }}"]',
        'tags = ["{{ {}[T] }}"]',
    ],
)
def test_an_error_about_a_value_from_the_environment_names_the_variable_not_the_value(
    body: str,
) -> None:
    toml = f'[variables]\nT = "in-file"\n[target.app]\ncontext = "."\n{body}\n'
    text = problems(toml, {"T": SECRET})
    assert SECRET not in text and SECRET.lower() not in text and SECRET.upper() not in text


def test_a_value_from_var_is_not_shown_either() -> None:
    toml = '[variables]\nT = "x"\n[target.app]\nplatforms = ["{{ T }}"]\n'
    text = problems(toml, {}, {"T": SECRET})
    assert SECRET not in text and "T from --var" in text


def test_the_message_says_which_variable_and_where_it_comes_from() -> None:
    toml = '[variables]\nT = { default = "x", env = "GH_TOKEN" }\n[target.app]\n'
    toml += 'platforms = ["{{ T }}"]\n'
    text = problems(toml, {"GH_TOKEN": SECRET})
    assert "T from the environment variable GH_TOKEN" in text


def test_a_value_written_in_the_file_is_shown() -> None:
    toml = '[variables]\nT = "not a platform"\n[target.app]\nplatforms = ["{{ T }}"]\n'
    assert "malformed platform 'not a platform'" in problems(toml, {})


def test_a_default_made_from_a_secret_is_not_shown_either() -> None:
    toml = (
        '[variables]\nTOKEN = "x"\nURL = "https://{{ TOKEN }}@git.example/repo"\n'
        'REF = "{{ URL }}#main"\n[target.app]\nplatforms = ["{{ REF }}"]\n'
    )
    text = problems(toml, {"TOKEN": SECRET})
    assert SECRET not in text and "REF from a default made from URL" in text
