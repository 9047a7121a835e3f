"""`[project.runners]`: platform keys, runner label values (one, or a list), each wrong
entry named with its line and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.projectfile.document import parse_document

FILE = Path("/p/buildgraph.toml")


def problems(runners: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_document(f"[project]\nname = 'p'\nrunners = {runners}\n", FILE)
    return [str(p) for p in info.value.problems]


def test_labels_and_lists_of_labels_are_accepted() -> None:
    document = parse_document(
        '[project.runners]\n"linux/arm64" = "ubuntu-24.04-arm"\n'
        '"linux/arm/v7" = ["self-hosted", "ARM"]\n',
        FILE,
    )
    assert document.data["project"]["runners"]["linux/arm/v7"] == ["self-hosted", "ARM"]


def test_a_key_that_is_no_platform_is_named() -> None:
    [text] = problems('{ "arm64" = "ubuntu-24.04-arm" }')
    assert "/p/buildgraph.toml:3" in text and "'arm64' is not a platform" in text


@pytest.mark.parametrize(
    "value", ['"ubuntu ${{ github.token }}"', '"a\\nb"', '["x", 3]', "[]", '"-x"', '"a\'b"']
)
def test_a_value_that_is_no_runner_label_is_refused(value: str) -> None:
    [text] = problems(f'{{ "linux/arm64" = {value} }}')
    assert "is not a runner label or a list of them" in text
