"""Inheritance of any length or shape: followed without recursion, every table checked."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.model.project import Project, thaw
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.inheritance import Inheritance, InheritProblem
from buildgraph.resolve.project import resolve_project

FILE = Path("/project/buildgraph.toml")


def resolve(toml: str) -> Project:
    return resolve_project(parse_document(toml, FILE), {}, {})


def test_a_chain_of_thousands_of_parents_resolves() -> None:
    n = 5000
    tables = ['[target._p0]\nargs = { A0 = "0" }\ntags = ["t0"]\n']
    tables += [
        f'[target._p{i}]\ninherits = ["_p{i - 1}"]\nargs = {{ A{i} = "{i}" }}\n'
        for i in range(1, n)
    ]
    tables.append(f'[target.app]\ninherits = ["_p{n - 1}"]\n')
    project = resolve("".join(tables))
    args = thaw(project.targets["app"].attrs)["args"]
    assert len(args) == n and args["A0"] == "0" and args[f"A{n - 1}"] == str(n - 1)
    assert thaw(project.targets["app"].attrs)["tags"] == ["t0"]


def test_a_cycle_through_thousands_of_tables_is_one_short_error() -> None:
    n = 5000
    tables = [f'[target._c{i}]\ninherits = ["_c{(i + 1) % n}"]\n' for i in range(n)]
    tables.append('[target.app]\ninherits = ["_c0"]\n')
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        resolve("".join(tables))
    assert time.perf_counter() - started < 5  # mostly reading 5,000 tables
    (problem,) = info.value.problems
    assert problem.key == "inherits"
    assert "inherits cycle: " in problem.message and "more" in problem.message
    assert len(problem.message) < 200


def test_a_cycle_of_abstract_targets_nobody_inherits_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        resolve('[target._a]\ninherits = ["_b"]\n[target._b]\ninherits = ["_a"]\n')
    (problem,) = info.value.problems
    assert problem.message == "inherits cycle: _a -> _b -> _a"
    assert problem.target == "_b" and problem.key == "inherits"


def test_an_abstract_target_inheriting_an_unknown_one_is_an_error() -> None:
    with pytest.raises(ConfigError) as info:
        resolve('[target._a]\ninherits = ["_nope"]\n[target.app]\ncontext = "."\n')
    (problem,) = info.value.problems
    assert "inherits unknown target '_nope'" in problem.message and problem.target == "_a"


def test_a_broken_parent_is_reported_once_however_many_children_inherit_it() -> None:
    toml = '[target._base]\ninherits = ["_gone"]\n' + "".join(
        f'[target.t{i}]\ninherits = ["_base"]\n' for i in range(50)
    )
    with pytest.raises(ConfigError) as info:
        resolve(toml)
    assert len(info.value.problems) == 1


def test_the_same_failure_is_raised_again_without_walking_again() -> None:
    inheritance = Inheritance({"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}})
    with pytest.raises(InheritProblem) as first:
        inheritance.table("a")
    with pytest.raises(InheritProblem) as second:
        inheritance.table("b")
    assert second.value is first.value


def test_inheriting_a_matrix_target_met_earlier_in_the_file_is_still_refused() -> None:
    toml = '[target.m]\nmatrix = { a = ["1"] }\nname = "m-{{ a }}"\n'
    toml += '[target.app]\ninherits = ["m"]\n'
    with pytest.raises(ConfigError) as info:
        resolve(toml)
    (problem,) = info.value.problems
    assert "inherits matrix target 'm'" in problem.message and problem.target == "app"
