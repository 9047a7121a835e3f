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


# --- reading whatever -f names (issue 12, hole 9) -----------------------------------


def read_problem(path: Path | None, cwd: Path | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_document(path, cwd)
    [problem] = info.value.problems
    return str(problem)


def test_a_device_is_refused_without_reading_it() -> None:
    text = read_problem(Path("/dev/zero"))
    assert "/dev/zero" in text and "a device, not a regular file" in text


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "buildgraph.toml"
    os.mkfifo(fifo)
    assert "a FIFO (named pipe)" in read_problem(fifo)


def test_a_directory_is_refused_with_the_file_it_may_mean(tmp_path: Path) -> None:
    text = read_problem(tmp_path)
    assert "a directory, not a regular file" in text
    assert f"-f {tmp_path / 'buildgraph.toml'}" in text


def test_a_nul_byte_in_the_path_is_refused(tmp_path: Path) -> None:
    assert "NUL byte" in read_problem(Path("a\0b.toml"), tmp_path)


def test_an_over_long_path_is_refused_and_shown_briefly(tmp_path: Path) -> None:
    for path in (Path("a" * 300), Path("a/" * 3000)):
        text = read_problem(path, tmp_path)
        assert "cannot read the project file" in text or "cannot resolve" in text
        assert len(text) < 400


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert "Symlink loop" in read_problem(Path("loop"), tmp_path)


def test_a_file_larger_than_the_bound_is_refused_reading_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from buildgraph.projectfile import document

    big = tmp_path / "buildgraph.toml"
    big.write_text("# x\n" * 100)
    monkeypatch.setattr(document, "MAX_FILE_BYTES", 64)
    assert "larger than" in read_problem(big)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "buildgraph.toml"
    bad.write_bytes(b'[target.a]\ncontext = "\xff"\n')
    text = read_problem(bad)
    assert f"{bad}:2:" in text and "not UTF-8" in text


# --- TOML's nesting, numbers, dates, nan and inf (holes 6 and 10) --------------------


@pytest.mark.parametrize(
    "toml",
    [
        "[target.a]\ntags = " + "[" * 400 + "]" * 400,
        "[target.a]\nresources = { x = " + "[" * 500 + "]" * 500 + "}",
        "[target.a]\nresources = { x = " + "[" * 390 + "]" * 390 + "}",
        "[target.a.resources" + ".x" * 998 + "]\nk = 1",
        "[target.a.resources" + ".x" * 900 + "]\nk = " + "[" * 300 + "]" * 300,
        "[target.a]\nmatrix = { x = [" + "{a=" * 300 + "1" + "}" * 300 + "] }",
        "[variables]\nx = " + "[" * 399 + "]" * 399,
        "[target.a.args" + ".x" * 900 + "]\nk = " + "[" * 300 + "]" * 300,
    ],
    ids=["tags", "inline-500", "resources-390", "keys", "keys-and-inline", "matrix", "var", "args"],
)
def test_deep_nesting_is_a_problem_not_a_recursion_error(toml: str) -> None:
    found = problems(toml)
    assert found and all(len(text) < 600 for text in found)


def test_an_integer_of_thousands_of_digits_is_a_problem() -> None:
    [text] = problems("[variables]\nx = " + "9" * 5000 + "\n")
    assert "out of range" in text


@pytest.mark.parametrize("value", ["nan", "+nan", "-nan", "inf", "+inf", "-inf"])
def test_nan_and_inf_are_refused_naming_line_and_key(value: str) -> None:
    [text] = problems(f'[variables]\nTAG = "x"\nN = {value}\n')
    assert "/p/buildgraph.toml:3:" in text and "key 'variables.N'" in text
    assert "no nan or inf" in text


def test_nan_in_a_target_names_the_target_and_key() -> None:
    [text] = problems("[target.a]\nresources = { cpu = 1, limit = { max = inf } }\n")
    assert "target 'a'" in text and "key 'resources.limit.max'" in text
    assert "/p/buildgraph.toml:2:" in text


def test_a_finite_float_is_fine() -> None:
    parse_document("[variables]\nX = 1.5\nY = { default = -2e3 }\n", FILE)


@pytest.mark.parametrize(
    "toml",
    [
        "[target.a]\nresources = { since = 1979-05-27 }\n",
        "[target.a]\nresources = { at = 07:32:00 }\n",
        "[target.a]\nresources = { at = [1979-05-27T07:32:00Z] }\n",
        '[target.a]\nmatrix = { d = [1979-05-27] }\nname = "a-{{ d }}"\n',
        '[target.a]\nmatrix = { d = [{ x = 1979-05-27 }] }\nname = "a-{{ d.x }}"\n',
        "[target.a]\nargs = { D = 1979-05-27 }\n",
    ],
    ids=["resources", "time", "datetime-in-list", "matrix", "matrix-table", "args"],
)
def test_a_toml_date_is_refused_with_how_to_quote_it(toml: str) -> None:
    [text] = problems(toml)
    assert "target 'a'" in text and "/p/buildgraph.toml:2:" in text
    assert "TOML date or time" in text and "hint:" in text


@pytest.mark.parametrize("value", ["1979-05-27", "{ default = 1979-05-27 }", "[1]"])
def test_a_variable_that_is_no_value_says_what_a_variable_may_be(value: str) -> None:
    [text] = problems(f"[variables]\nD = {value}\n")
    assert "/p/buildgraph.toml:2:" in text and "key 'D" in text
    assert "type=registry" not in text
    assert "a string, a number or true/false" in text


# --- messages (hole 14) ---------------------------------------------------------------


def test_a_misspelt_variable_key_gets_did_you_mean() -> None:
    [text] = problems('[variables]\nTAG = { default = "dev", envv = "CI_TAG" }\n')
    assert "unknown key 'envv' in [variables.TAG]" in text
    assert "did you mean 'env'?" in text and "type=registry" not in text


def test_every_bad_variable_is_reported() -> None:
    found = problems(
        '[variables]\nA = { envv = "X" }\nB = { default = [1] }\nC = { env = "1x" }\n'
        'D = "fine"\n"e-f" = "x"\n'
    )
    assert len(found) == 4
    assert "did you mean 'env'" in found[0]
    assert "default" in found[1] and "env names an environment variable" in found[2]
    assert "invalid variable name 'e-f'" in found[3]


def test_every_unknown_key_of_a_table_is_reported() -> None:
    found = problems('[target.api]\ncontxt = "."\nplatfroms = []\ntagz = []\n')
    assert [t.split("unknown key ")[1].split()[0] for t in found] == [
        "'contxt'",
        "'platfroms'",
        "'tagz'",
    ]
    assert "did you mean 'context'?" in found[0] and "/p/buildgraph.toml:4:" in found[2]
    assert len(problems("[grup.x]\n[tagret.y]\n")) == 2
    assert len(problems('[project]\nnme = "x"\nregsitry = "y"\n')) == 2


def test_a_byte_order_mark_is_accepted() -> None:
    document = parse_document('\ufeff[target.a]\ncontext = "."\n', FILE)
    assert document.data == {"target": {"a": {"context": "."}}}
    assert document.line_of("target", "a", "context") == 2


def test_a_bom_file_on_disk_is_read(tmp_path: Path) -> None:
    path = tmp_path / "buildgraph.toml"
    path.write_bytes(b'\xef\xbb\xbf[target.a]\ncontext = "."\n')
    assert load_document(path).data["target"]["a"]["context"] == "."


BAKE_HCL = 'variable "TAG" {\n  default = "dev"\n}\ntarget "app" {\n  context = "."\n}\n'
BAKE_JSON = '{\n  "target": {\n    "app": {"context": "."}\n  }\n}\n'
COMPOSE = "services:\n  app:\n    build: .\n"


@pytest.mark.parametrize(
    ("name", "text", "what"),
    [
        ("docker-bake.hcl", BAKE_HCL, "a bake file (HCL)"),
        ("buildgraph.toml", BAKE_HCL, "a bake file (HCL)"),
        ("docker-bake.json", BAKE_JSON, "a bake file (JSON)"),
        ("bake.json", "[1, 2", "a bake file (JSON)"),
        ("compose.yaml", COMPOSE, "a Compose file (YAML)"),
        ("docker-compose.yml", COMPOSE, "a Compose file (YAML)"),
        ("stack.yaml", COMPOSE, "a Compose file (YAML)"),
    ],
)
def test_a_bake_or_compose_file_is_named_as_such(
    tmp_path: Path, name: str, text: str, what: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    message = read_problem(path)
    assert f"this is {what}" in message and "buildgraph reads buildgraph.toml" in message
    assert "TOML syntax error" not in message


def test_a_valid_toml_file_is_read_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "docker-bake.json"
    path.write_text('[target.a]\ncontext = "."\n')
    assert load_document(path).data["target"]["a"]["context"] == "."


def test_a_toml_syntax_error_is_still_one() -> None:
    [text] = problems("[target.a]\ncontext = .\n")
    assert "TOML syntax error" in text


def test_thousands_of_bad_tables_get_a_screenful_quickly() -> None:
    import time

    many_tables = "".join(f"[target.t{i}]\ntagz = []\n" for i in range(5000))
    many_keys = "[target.a]\n" + "".join(f"k{i} = 1\n" for i in range(20000))
    many_variables = "[variables]\n" + "".join(f'V{i} = {{ envv = "x" }}\n' for i in range(5000))
    for toml in (many_tables, many_keys, many_variables):
        start = time.perf_counter()
        found = problems(toml)
        assert time.perf_counter() - start < 3.0
        assert len(found) == 51 and "stopped after 50 problems" in found[-1]
    assert problems(many_tables)[1].startswith("/p/buildgraph.toml:4: target 't1'")


def test_locate_line_skips_long_lines_and_counts_toml_lines() -> None:
    text = (
        '[target.a]\ndockerfile-inline = """\n[' + " " * 100000 + '\n"""\nx\u2028y = 1\ntags = []\n'
    )
    assert locate_line(text, ["target", "a", "tags"]) == 6


def test_a_removed_working_directory_is_a_problem_and_no_hindrance_to_an_absolute_f(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "buildgraph.toml"
    project.write_text('[target.a]\ncontext = "."\n')
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    assert "cannot read the working directory" in read_problem(None)
    assert "cannot read the working directory" in read_problem(Path("buildgraph.toml"))
    assert load_document(project).data["target"]["a"]["context"] == "."


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "buildgraph.toml"
    path.write_bytes('[target.a]\ncontext = "."\n'.encode("utf-16"))
    text = read_problem(path)
    assert "UTF-16" in text and "save it as UTF-8" in text
