"""--var and what errors about arguments may show (issue 12, hole 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.cli.arguments import parse_vars, redact_argument
from buildgraph.cli.main import main
from buildgraph.errors import ConfigError

SECRET = "ghp_0123456789abcdefSECRET"


def test_vars_are_name_value_pairs_and_the_last_wins() -> None:
    assert parse_vars(["A=1", "B=x=y", "A=2", "C="]) == {"A": "2", "B": "x=y", "C": ""}


@pytest.mark.parametrize("pair", [SECRET, f"={SECRET}"])
def test_a_var_that_is_not_name_value_is_refused_without_showing_it(pair: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_vars(["TAG=1", pair])
    text = str(info.value)
    assert SECRET not in text and "SECRET" not in text
    assert "--var number 2" in text and "NAME=VALUE" in text


def test_redacted_arguments_keep_what_precedes_the_equals_sign() -> None:
    assert redact_argument(f"TOKEN={SECRET}") == "TOKEN=<hidden>"
    assert redact_argument("--nope") == "--nope"


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--var", SECRET],
        ["--var", SECRET, "plan"],
        ["plan", f"--var={SECRET}"],
        ["validate", f"TOKEN={SECRET}"],
        [f"TOKEN={SECRET}"],
        ["plan", f"--format=x={SECRET}"],
        ["validate", "--vars", f"TOKEN={SECRET}"],
    ],
)
def test_no_error_about_arguments_prints_a_value(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "buildgraph.toml").write_text('[variables]\nTAG = "dev"\n')
    code = main(["-f", str(tmp_path / "buildgraph.toml"), *argv] if argv[0] != "--var" else argv)
    captured = capsys.readouterr()
    assert code == 2
    assert SECRET not in captured.err + captured.out
    assert "Traceback" not in captured.err
