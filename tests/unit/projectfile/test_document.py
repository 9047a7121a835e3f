from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.projectfile.document import load_document, parse_document
from buildgraph.projectfile.lines import locate_line
from buildgraph.projectfile.locate import find_project_file

FILE = Path("/p/buildgraph.toml")


def problems(toml: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_document(toml, FILE)
    return [str(p) for p in info.value.problems]


def test_syntax_error_names_file_and_line() -> None:
    [text] = problems('[target.a]\ntags = ["x"\n')
    assert text.startswith("/p/buildgraph.toml:2:") or text.startswith("/p/buildgraph.toml:3:")
    assert "TOML syntax error" in text
    assert "Traceback" not in text


def test_unknown_key_suggests_the_bake_name() -> None:
    [text] = problems('[target.api]\ncontext = "."\nplatfroms = ["linux/amd64"]\n')
    assert "/p/buildgraph.toml:3" in text
    assert "target 'api'" in text and "key 'platfroms'" in text
    assert "did you mean 'platforms'?" in text


def test_snake_case_attribute_gets_the_kebab_case_hint() -> None:
    [text] = problems('[target.api]\ncache_from = ["type=gha"]\n')
    assert "did you mean 'cache-from'?" in text


def test_wrong_type_says_what_was_expected() -> None:
    [text] = problems('[target.api]\ntags = "x:1"\n')
    assert "key 'tags'" in text and "expected a list" in text
    assert "/p/buildgraph.toml:2" in text


def test_all_schema_problems_are_reported_at_once() -> None:
    found = problems('[target.a]\ntags = 1\n[target.b]\npull = "yes"\n[grup.x]\n')
    assert len(found) == 3


def test_bad_target_name_is_refused() -> None:
    [text] = problems('[target."a b"]\n')
    assert "invalid name 'a b'" in text


def test_unknown_section_and_project_key() -> None:
    found = problems('[project]\nplatform = ["linux/amd64"]\n')
    assert "did you mean 'platforms'?" in found[0]


def test_find_project_file_walks_up(tmp_path: Path) -> None:
    (tmp_path / "buildgraph.toml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_file(deep) == tmp_path / "buildgraph.toml"


def test_missing_project_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no buildgraph\.toml"):
        find_project_file(tmp_path)
    with pytest.raises(ConfigError, match="project file not found"):
        load_document(Path("nope.toml"), tmp_path)


def test_locate_line_handles_headers_dotted_and_quoted_keys() -> None:
    text = '[project]\nname = "x"\n\n[target."my-app"]\ncontext = "."\nargs.A = "1"\n'
    assert locate_line(text, ["project", "name"]) == 2
    assert locate_line(text, ["target", "my-app", "context"]) == 5
    assert locate_line(text, ["target", "my-app", "args", "A"]) == 6
    assert locate_line(text, ["target", "my-app", "tags"]) == 4  # falls back to the table
    assert locate_line(text, ["group", "x"]) is None
