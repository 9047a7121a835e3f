"""Templates under hostile input: every failure is a ConfigError naming file, target and
key (never a traceback), and no template may run long or grow large."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.model.project import Project
from buildgraph.projectfile.document import parse_document
from buildgraph.resolve.project import resolve_project
from buildgraph.resolve.template_values import TemplateProblem

FILE = Path("/project/buildgraph.toml")


def resolve(toml: str, env: dict[str, str] | None = None) -> Project:
    return resolve_project(parse_document(toml, FILE), {}, env or {})


def refused(template: str) -> ConfigError:
    """The error of a target whose one tag is `template`."""
    with pytest.raises(ConfigError) as info:
        resolve(f"[target.app]\ntags = [{json.dumps(template)}]\n")
    return info.value


@pytest.mark.parametrize(
    "template",
    [
        "{{ {'a': 1} | dictsort(by='x') }}",
        "{{ 'abc' | truncate(-1) }}",
        "{{ cycler() }}",
        "{{ [1] | map('nope') | list }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    ],
)
def test_a_template_that_fails_at_run_time_is_an_error_naming_file_target_and_key(
    template: str,
) -> None:
    error = refused(template)
    (problem,) = error.problems
    assert (problem.file, problem.target, problem.key) == (FILE, "app", "tags")
    assert "failed" in problem.message or "syntax" in problem.message


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% set l = [0] * 100000 %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}",
        "{% for x in [1] recursive %}{{ loop(range(99999)) }}{% endfor %}",
        "{{ 9**999999999 }}",
        "{{ 'x' * 10**9 }}",
        "{{ ['x'] * 10**9 }}",
        "{{ lipsum(10**6) }}",
        "{{ 1e308 * 10 }}",
        "{{ 'x' | center(10**9) }}",
        "{{ 'x'.center(10**9) }}",
        "{{ '{:1000000000}'.format(1) }}",
        "{{ '%1000000000s' % 'x' }}",
        "{{ '%1000000000s' | format('x') }}",
        "{{ ('x' * 1000) | replace('x', 'y' * 1000) | replace('y', 'z' * 1000) }}",
        "{{ (('x' * 999999) ~ 'x') ~ 'x' }}",
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s }}{% endif %}"
        "{% endmacro %}{{ d('x', 60) }}",
        "{% set ns = namespace(x='x') %}{% for i in range(60) %}"
        "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}",
        "{% for i in range(99999) %}{{ 'x' * 999999 }}{% endfor %}",
        "{% macro f(n) %}{% for i in range(9) %}{{ f(n) if n else '' }}{% endfor %}"
        "{% endmacro %}{{ f(1) }}",
    ],
)
def test_a_template_that_would_run_long_or_grow_large_is_refused_quickly(
    template: str,
) -> None:
    started = time.perf_counter()
    error = refused(template)
    assert time.perf_counter() - started < 1.0
    (problem,) = error.problems
    assert (problem.file, problem.target, problem.key) == (FILE, "app", "tags")
    assert "at most" in (problem.hint or "") or "stops" in (problem.hint or "")


def test_templates_within_the_bounds_render_as_before() -> None:
    toml = """
[target.app]
tags = [
  "{% for i in range(3) %}{{ i }}{% endfor %}",
  "{{ 'ab' * 3 }}-{{ 2 ** 10 }}-{{ 7 // 2 }}-{{ 'a' ~ 1 }}",
  "{{ ['a', 'b'] | join(',') }}|{{ 'x' | center(5) }}|{{ '%03d' % 7 }}",
  "{% macro m(x) %}<{{ x }}>{% endmacro %}{{ m('y') }}",
]
"""
    project = resolve(toml)
    assert project.targets["app"].tags == (
        "012",
        "ababab-1024-3-a1",
        "a,b|  x  |007",
        "<y>",
    )


def test_the_work_budget_is_per_rendering_not_for_the_whole_project() -> None:
    loop = "{% for i in range(40000) %}{% endfor %}ok"
    toml = "".join(f"[target.t{i}]\ntags = [{json.dumps(loop + str(i))}]\n" for i in range(5))
    project = resolve(toml)
    assert project.targets["t4"].tags == ("ok4",)


@pytest.mark.parametrize(
    ("template", "printed"),
    [
        ("{{ DEBUG }}", "true"),  # a bare name: str.format_map
        ("x-{{ DEBUG }}-{{ OFF }}", "x-true-false"),
        ("{{ DEBUG | string }}", "true"),
        ("{{ DEBUG ~ '' }}", "true"),
        ("{{ DEBUG and OFF }}", "false"),
        ("{{ 1 > 0 }}", "true"),  # computed by the template
        ("{% if DEBUG %}debug{% else %}release{% endif %}", "debug"),
        ("{% if OFF %}on{% else %}off{% endif %}", "off"),
        ("{{ DEBUG is true }}/{{ OFF is false }}/{{ DEBUG is boolean }}", "true/true/true"),
        ("{{ DEBUG is integer }}/{{ N is integer }}", "false/true"),
        ("{{ DEBUG | lower }}", "true"),
        ("{{ [DEBUG, N, F] | tojson }}", "[true, 3, 1.0]"),
        ("{{ N }}/{{ F }}/{{ HALF }}/{{ BIG }}", "3/1/0.5/100000000000000000000"),
        ("{{ 4 / 2 }}/{{ F * 3 }}", "2/3"),
    ],
)
def test_booleans_and_numbers_print_as_bake_prints_them(template: str, printed: str) -> None:
    toml = "[variables]\nDEBUG = true\nOFF = false\nN = 3\nF = 1.0\nHALF = 0.5\nBIG = 1e20\n"
    toml += f"[target.app]\ntags = [{json.dumps(template)}]\n"
    assert resolve(toml).targets["app"].tags == (printed,)


def test_matrix_booleans_print_as_bake_prints_them_in_names_and_values() -> None:
    toml = """
[target.app]
matrix = { debug = [true, false], n = [1.0, 2] }
name = "app-{{ debug }}-{{ n }}"
args = { DEBUG = "{{ debug }}" }
"""
    project = resolve(toml)
    assert list(project.targets) == ["app-true-1", "app-true-2", "app-false-1", "app-false-2"]
    assert project.targets["app-false-2"].args["DEBUG"] == "false"
    assert project.targets["app-true-1"].matrix_values["debug"] is True  # kept as written


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("{{ X }}", " X "),
        ("{{ [a] + b }}", " [a] + b "),
        ("{{ a }}{{ b }}", None),
        ("x{{ a }}", None),
        ("{{ a }} ", None),
        ("{{- a }}", None),
        ("{{ a -}}", None),
        ("{{}}", None),
        ("{% if a %}{{ a }}{% endif %}", None),
    ],
)
def test_a_whole_expression_is_one_expression_and_nothing_else(
    text: str, source: str | None
) -> None:
    from buildgraph.resolve.templates import whole_expression

    assert whole_expression(text) == source


def test_a_whole_expression_is_its_value_and_other_text_is_text() -> None:
    from buildgraph.resolve.template_values import printable
    from buildgraph.resolve.templates import template_value

    scope = {"P": ["a", "b"], "N": printable(None), "B": printable(True)}
    assert template_value("{{ P }}", scope) == ["a", "b"]
    assert template_value("{{ P | map('upper') }}", scope) == ["A", "B"]
    assert template_value("{{ N }}", scope) is None
    assert template_value("{{ B }}", scope) is True and template_value("{{ B }}!", scope) == "true!"
    assert template_value("{{ N is none }}-{{ N == none }}", scope) == "true-true"


@pytest.mark.parametrize("text", ["a{{ N }}", "{{ N }}{{ N }}", "{% if 1 %}{{ N }}{% endif %}"])
def test_a_null_never_prints_into_text(text: str) -> None:
    from buildgraph.resolve.template_values import printable
    from buildgraph.resolve.templates import render_string

    with pytest.raises(TemplateProblem, match="null value cannot be printed into text"):
        render_string(text, {"N": printable(None)})
