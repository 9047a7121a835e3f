"""Compose files imported as bake reads them: the interpolation parser (against compose's
rules, with hypothesis), the translation of each build key, and what is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.errors import ConfigError
from buildgraph.importing.compose_import import (
    InterpolationError,
    Part,
    Text,
    Variable,
    dotenv_entry,
    interpolation,
    parts_expression,
    shm_size_text,
    template_text,
)
from buildgraph.importing.importer import import_definition
from buildgraph.importing.report import UNTRANSLATABLE
from buildgraph.resolve.templates import render_string

# Interpolation -----------------------------------------------------------------------


def test_the_forms_of_compose_interpolation() -> None:
    assert interpolation("a$$b") == (Text("a$b"),)
    assert interpolation("$A-x") == (Variable("A"), Text("-x"))
    assert interpolation("${A:-d}") == (Variable("A", ":-", (Text("d"),)),)
    assert interpolation("${A-${B}}!") == (
        Variable("A", "-", (Variable("B"),)),
        Text("!"),
    )
    assert interpolation("${A:?need A}") == (Variable("A", ":?", (Text("need A"),)),)
    assert interpolation("$ 5 $1") == (Text("$ 5 $1"),)
    assert interpolation("${A}${B:+x}") == (Variable("A"), Variable("B", ":+", (Text("x"),)))


@pytest.mark.parametrize("text", ["${", "${A", "${A:x}", "${1}", "${A B}"])
def test_what_compose_refuses(text: str) -> None:
    with pytest.raises(InterpolationError):
        interpolation(text)


NAMES = st.sampled_from(["A", "B", "_c"])
PLAIN = st.text(alphabet="ab -/:.{%#'\\\"", max_size=5)
# compose-go counts braces in a default (a `{` there skips the character after it): a
# default holding one is read otherwise than written, so the generated ones hold none.
ARG_PLAIN = st.text(alphabet="ab -/:.%#'\\\"", max_size=5)


def parts_strategy(depth: int, plain: Any = PLAIN) -> st.SearchStrategy[tuple[Part, ...]]:
    text = plain.filter(bool).map(Text)
    if depth == 0:
        variable = NAMES.map(Variable)
    else:
        variable = st.one_of(
            NAMES.map(Variable),
            st.builds(
                Variable,
                NAMES,
                st.sampled_from([":-", "-", ":+", "+"]),
                parts_strategy(depth - 1, ARG_PLAIN),
            ),
        )
    return st.lists(st.one_of(text, variable), max_size=4).map(merged_texts)


def merged_texts(parts: list[Part]) -> tuple[Part, ...]:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + part.text)
        else:
            out.append(part)
    return tuple(out)


def written(parts: tuple[Part, ...]) -> str:
    """Compose text for parts: `$` escaped, every variable braced."""
    out = []
    for part in parts:
        if isinstance(part, Text):
            out.append(part.text.replace("$", "$$"))
        else:
            out.append("${" + part.name + part.op + written(part.arg) + "}")
    return "".join(out)


def compose_value(parts: tuple[Part, ...], env: dict[str, str]) -> str:
    """What compose-go substitutes, straight from its rules."""
    out = []
    for part in parts:
        if isinstance(part, Text):
            out.append(part.text)
            continue
        value = env.get(part.name)
        arg = compose_value(part.arg, env)
        if part.op == ":-":
            out.append(value if value else arg)
        elif part.op == "-":
            out.append(value if value is not None else arg)
        elif part.op == ":+":
            out.append(arg if value else "")
        elif part.op == "+":
            out.append(arg if value is not None else "")
        else:
            out.append(value or "")
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(parts_strategy(2))
def test_parsing_written_parts_gives_them_back(parts: tuple[Part, ...]) -> None:
    assert interpolation(written(parts)) == parts


ENVS = st.dictionaries(NAMES, st.sampled_from(["", "v", "{x"]), max_size=3)


@settings(max_examples=300, deadline=None)
@given(parts_strategy(2), ENVS)
def test_the_template_renders_what_compose_substitutes(
    parts: tuple[Part, ...], env: dict[str, str]
) -> None:
    nullable = frozenset(["A", "B", "_c"])
    scope: dict[str, Any] = {name: env.get(name) for name in nullable}
    expected = compose_value(parts, env)
    assert render_string(template_text(parts, nullable), scope) == expected
    assert render_string("{{ " + parts_expression(parts, nullable) + " }}", scope) == expected
    # Variables never unset (no form telling unset from empty) hold "" instead of none.
    plain_env = {name: env.get(name, "") for name in nullable}
    assert render_string(template_text(parts, frozenset()), plain_env) == compose_value(
        parts, plain_env
    )


# Translation -------------------------------------------------------------------------


def imported(tmp_path: Path, files: dict[str, str], *names: str, out: str = "buildgraph.toml"):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    chosen = names or tuple(n for n in files if n.endswith((".yaml", ".yml")))
    result = import_definition(tuple(tmp_path / n for n in chosen), tmp_path / out, tmp_path)
    return tomllib.loads(result.text), result.decisions


def test_services_with_build_are_targets_of_the_default_group(tmp_path: Path) -> None:
    doc, _ = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  web.app:\n    build: ./web\n    image: r/web\n"
            "  db:\n    image: postgres\n"
        },
    )
    assert doc["target"] == {"web_app": {"context": "./web", "tags": ["r/web"]}}
    assert doc["group"]["default"] == {"targets": ["web_app"]}


def test_args_in_list_and_map_forms(tmp_path: Path) -> None:
    doc, _ = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build:\n      args:\n        - X=1\n"
            "        - FROM_SVC\n        - FROM_ENV\n    environment: [FROM_SVC=s]\n"
            "  b:\n    build:\n      args:\n        N: 1.50\n        T: true\n        Y: yes\n"
            "        Z:\n"
        },
    )
    assert doc["target"]["a"]["args"] == {"X": "1", "FROM_SVC": "s", "FROM_ENV": "{{ FROM_ENV }}"}
    assert doc["target"]["b"]["args"] == {"N": "1.5", "T": "true", "Y": "yes", "Z": "{{ Z }}"}
    assert doc["variables"]["FROM_ENV"] == {"default": "{{ none }}"}


def test_untranslatable_constructs_are_reported_with_their_line(tmp_path: Path) -> None:
    _, decisions = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build:\n      context: .\n"
            "      sbom: true\n      args:\n        X: ${oops\n"
        },
    )
    found = {(d.construct, d.line) for d in decisions if d.kind == UNTRANSLATABLE}
    assert found == {("sbom", 5), ("${oops", 7)}


def test_later_files_merge_over_earlier_ones(tmp_path: Path) -> None:
    doc, _ = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build:\n      context: a\n"
            "      args: [A=1, B=1]\n      tags: [x]\n      target: t\n",
            "compose.override.yaml": "services:\n  a:\n    build:\n      args: {B: 2}\n"
            "      tags: [y, x]\n      target: !reset null\n",
        },
        "compose.yaml",
        "compose.override.yaml",
    )
    assert doc["target"]["a"] == {"context": "a", "args": {"A": "1", "B": "2"}, "tags": ["x", "y"]}


def test_paths_are_rebased_for_an_output_elsewhere(tmp_path: Path) -> None:
    doc, _ = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build:\n      context: app\n"
            "      additional_contexts: {lib: ./lib, b: service:b}\n  b:\n    build: {}\n"
        },
        out="sub/buildgraph.toml",
    )
    assert doc["target"]["a"]["context"] == "../app"
    assert doc["target"]["a"]["contexts"] == {"lib": "../lib", "b": "target:b"}
    assert doc["target"]["b"]["context"] == ".."


def test_dotenv_values_are_the_defaults(tmp_path: Path) -> None:
    doc, _ = imported(
        tmp_path,
        {
            "compose.yaml": "services:\n  a:\n    build:\n      target: ${T-x}\n",
            ".env": "# comment\nexport T='deb ug'\n",
        },
    )
    assert doc["variables"]["T"] == {"default": "deb ug"}
    assert doc["target"]["a"]["target"] == "{{ T or none }}"


def test_bad_yaml_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        imported(tmp_path, {"compose.yaml": "services:\n  a:\n   - x\n  b: [\n"})
    assert caught.value.problems[0].line is not None


def test_dotenv_lines() -> None:
    assert dotenv_entry('A="x y" # c') == ("A", "x y")
    assert dotenv_entry("export B=1 # c") == ("B", "1")
    assert dotenv_entry("# only") is None
    assert dotenv_entry("C=") == ("C", "")


@pytest.mark.parametrize(
    ("raw", "printed"),
    [("2gb", "2GiB"), ("256m", "256MiB"), (1536, "1.5KiB"), ("64", "64B"), ("${S}", None)],
)
def test_shm_size_as_bake_prints_it(raw: object, printed: str | None) -> None:
    assert shm_size_text(raw) == printed
