"""A whole {{ expression }} is a value: null unsets, lists splice, tables and booleans
come from expressions, and inheritance merges them as written values merge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.errors import ConfigError
from buildgraph.plan.load import load
from buildgraph.resolve.attribute_values import UNSET, attribute_value, spliced
from buildgraph.resolve.template_values import TemplateProblem

HEAD = """
[variables]
PLATFORMS = { type = "list", default = ["linux/amd64", "linux/arm64"] }
NOTHING = "{{ none }}"
EXTRA = { type = "list", default = ["r/app:extra"] }
BASE = { type = "map", default = { A = "1", B = "2" } }
PULL = false
"""


def attrs(tmp_path: Path, toml: str, name: str = "app", **environ: str) -> dict[str, Any]:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(HEAD + toml)
    loaded = load(tmp_path / "buildgraph.toml", {}, environ=environ)
    return dict(loaded.project.targets[name].attrs)


def test_a_list_attribute_may_be_one_expression_yielding_a_list(tmp_path: Path) -> None:
    got = attrs(tmp_path, '[target.app]\nplatforms = "{{ PLATFORMS }}"\n')
    assert got["platforms"] == ("linux/amd64", "linux/arm64")


def test_a_list_item_yielding_a_list_is_spliced_and_none_is_dropped(tmp_path: Path) -> None:
    got = attrs(tmp_path, '[target.app]\ntags = ["r/app:1", "{{ EXTRA }}", "{{ NOTHING }}"]\n')
    assert got["tags"] == ("r/app:1", "r/app:extra")


def test_null_unsets_a_scalar_and_drops_a_table_entry(tmp_path: Path) -> None:
    got = attrs(
        tmp_path,
        '[target.app]\ntarget = "{{ NOTHING }}"\nargs = { A = "{{ NOTHING }}", B = "b" }\n',
    )
    assert "target" not in got and dict(got["args"]) == {"B": "b"}


def test_a_variable_set_from_outside_is_no_longer_null(tmp_path: Path) -> None:
    got = attrs(tmp_path, '[target.app]\ntarget = "{{ NOTHING }}"\n', NOTHING="final")
    assert got["target"] == "final"


def test_a_null_printed_into_text_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        attrs(tmp_path, '[target.app]\ntarget = "stage-{{ NOTHING }}"\n')
    assert "null value cannot be printed into text" in str(caught.value)
    assert "key 'target'" in str(caught.value)


def test_a_table_attribute_may_be_an_expression_and_children_merge_over_it(
    tmp_path: Path,
) -> None:
    toml = """
[target._base]
args = "{{ BASE }}"
[target.app]
inherits = ["_base"]
args = { B = "own", C = "{{ 3 }}" }
[target.other]
inherits = ["app"]
args = "{{ {'C': 'last'} }}"
"""
    assert dict(attrs(tmp_path, toml)["args"]) == {"A": "1", "B": "own", "C": "3"}
    assert dict(attrs(tmp_path, toml, "other")["args"]) == {"A": "1", "B": "own", "C": "last"}


def test_appended_lists_keep_a_parents_expression_first(tmp_path: Path) -> None:
    toml = """
[target._base]
cache-from = "{{ ['type=registry,ref=r/cache'] }}"
[target.app]
inherits = ["_base"]
cache-from = ["type=gha", "{{ NOTHING }}"]
"""
    assert attrs(tmp_path, toml)["cache-from"] == ("type=registry,ref=r/cache", "type=gha")


def test_booleans_and_entry_tables_from_expressions(tmp_path: Path) -> None:
    toml = """
[target.app]
pull = "{{ PULL }}"
cache-to = "{{ [{'type': 'inline'}] if not PULL else [] }}"
"""
    got = attrs(tmp_path, toml)
    assert got["pull"] is False and [dict(e) for e in got["cache-to"]] == [{"type": "inline"}]
    assert attrs(tmp_path, toml, PULL="true")["cache-to"] == ()


def test_an_expression_per_matrix_combination(tmp_path: Path) -> None:
    toml = """
[target.app]
matrix = { arch = ["amd64", "arm64"] }
name = "app-{{ arch }}"
platforms = "{{ ['linux/' ~ arch] }}"
tags = ["r/app:{{ arch }}", "{{ ['r/app:latest'] if arch == 'amd64' else none }}"]
"""
    assert attrs(tmp_path, toml, "app-amd64")["tags"] == ("r/app:amd64", "r/app:latest")
    got = attrs(tmp_path, toml, "app-arm64")
    assert got["tags"] == ("r/app:arm64",) and got["platforms"] == ("linux/arm64",)


def test_a_value_of_the_wrong_shape_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        attrs(tmp_path, '[target.app]\nplatforms = "{{ BASE }}"\n')
    assert "key 'platforms'" in str(caught.value) and "a table" in str(caught.value)


def test_text_where_a_list_belongs_must_be_one_whole_expression(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        attrs(tmp_path, '[target.app]\ntags = "{{ EXTRA }} "\n')
    assert "one whole {{ expression }}" in str(caught.value) and ":" in str(caught.value)


def test_duplicates_are_dropped_after_splicing(tmp_path: Path) -> None:
    got = attrs(tmp_path, '[target.app]\ntags = ["r/app:extra", "{{ EXTRA }}"]\n')
    assert got["tags"] == ("r/app:extra",)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("target", None, UNSET),
        ("target", 3, "3"),
        ("target", True, "true"),
        ("pull", "true", True),
        ("tags", "one", ("one",)),
        ("tags", ["a", None, 2], ("a", "2")),
        ("args", {"A": None, "B": 1.5}, {"B": "1.5"}),
    ],
)
def test_attribute_value_shapes(key: str, value: Any, expected: Any) -> None:
    got = attribute_value(key, value)
    assert (dict(got) if key == "args" else got) == expected


@pytest.mark.parametrize(
    ("key", "value"), [("tags", [["nested"]]), ("args", ["a"]), ("pull", 1), ("target", [])]
)
def test_attribute_value_refuses_other_shapes(key: str, value: Any) -> None:
    with pytest.raises(TemplateProblem, match=repr(key)):
        attribute_value(key, value)


@given(st.lists(st.one_of(st.none(), st.text(max_size=5), st.integers())))
def test_splicing_keeps_order_and_drops_only_nones(items: list[Any]) -> None:
    assert spliced("tags", items) == [
        i if isinstance(i, str) else str(i) for i in items if i is not None
    ]


def test_inherits_and_group_targets_may_be_expressions_yielding_lists(tmp_path: Path) -> None:
    toml = """
[variables]
NOTHING = "{{ none }}"
PARENTS = { type = "list", default = ["_a", "_b"] }
MEMBERS = { type = "list", default = ["app", "other"] }
[target._a]
args = { A = "a" }
[target._b]
args = { B = "b" }
[target.app]
inherits = "{{ PARENTS }}"
[target.other]
inherits = ["_a", "{{ none }}"]
[group.all]
targets = "{{ MEMBERS }}"
[group.some]
targets = ["{{ MEMBERS[:1] }}", "{{ NOTHING }}"]
"""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(toml)
    project = load(tmp_path / "buildgraph.toml", {}, environ={}).project
    assert dict(project.targets["app"].args) == {"A": "a", "B": "b"}
    assert dict(project.targets["other"].args) == {"A": "a"}
    assert project.groups["all"].targets == ("app", "other")
    assert project.groups["some"].targets == ("app",)


def test_empty_text_is_dropped_where_bake_drops_it(tmp_path: Path) -> None:
    toml = """
[variables]
NONE_GIVEN = ""
[target.app]
platforms = "{{ split(',', NONE_GIVEN) }}"
tags = ["", "r/app:1", "{{ NONE_GIVEN }}"]
contexts = { a = "", b = "{{ NONE_GIVEN }}", c = "docker-image://busybox" }
args = { EMPTY = "" }
"""
    got = attrs(tmp_path, toml.replace("[variables]\n", ""), NONE_GIVEN="")
    assert got["platforms"] == () and got["tags"] == ("r/app:1",)
    assert dict(got["contexts"]) == {"c": "docker-image://busybox"}
    assert dict(got["args"]) == {"EMPTY": ""}  # an empty arg is an arg, in bake too


def test_a_matrix_axis_or_the_whole_matrix_may_be_an_expression(tmp_path: Path) -> None:
    toml = """
[variables]
ARCHS = "amd64,arm64"
[target.app]
matrix = { arch = "{{ split(',', ARCHS) }}", mode = ["a"] }
name = "app-{{ arch }}-{{ mode }}"
platforms = ["linux/{{ arch }}"]
[target.job]
matrix = "{{ {'py': ['3.11', '3.12']} }}"
name = "job-{{ py | replace('.', '') }}"
"""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(toml)
    project = load(tmp_path / "buildgraph.toml", {}, environ={"ARCHS": "arm64"}).project
    assert list(project.targets) == ["app-arm64-a", "job-311", "job-312"]
    assert project.targets["app-arm64-a"].platforms == ("linux/arm64",)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ('"{{ [1] }}"', "the matrix expression yields no table"),
        ('{ a = "{{ [] }}" }', "matrix axis 'a' yields no list of values"),
        ('{ a = "{{ [[1]] }}" }', "matrix axis 'a' holds a value that is not text"),
    ],
)
def test_a_matrix_expression_of_the_wrong_shape_is_an_error(
    tmp_path: Path, matrix: str, message: str
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "buildgraph.toml").write_text(
        f'[target.app]\nmatrix = {matrix}\nname = "a-{{{{ a }}}}"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path / "buildgraph.toml", {}, environ={})
    assert message in str(caught.value) and "key 'matrix'" in str(caught.value)


def test_bake_local_platform_is_this_machines_platform_as_bake_names_it(tmp_path: Path) -> None:
    import platform

    got = attrs(tmp_path, '[target.app]\nargs = { P = "{{ BAKE_LOCAL_PLATFORM }}" }\n')
    expected = {"x86_64": "linux/amd64", "aarch64": "linux/arm64/v8"}.get(platform.machine())
    assert got["args"]["P"] == (expected or got["args"]["P"]) and got["args"]["P"].startswith(
        "linux/"
    )
