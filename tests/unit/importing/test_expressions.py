"""HCL expressions as Jinja: generated expressions of a small grammar (with the value
HCL gives them, computed beside the text) translate to Jinja that evaluates to the same
value in buildgraph's sandbox; and the constructs with no exact form say so."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from buildgraph.importing.expressions import Scope, Untranslatable, expression, template
from buildgraph.importing.hcl_source import parse_expression
from buildgraph.importing.syntax import Template

VARIABLES = {"N": 3, "M": -2, "S": "ab", "T": "", "B": True, "F": False}
SCOPE = Scope(frozenset(VARIABLES), frozenset(), frozenset({"formatlist"}), frozenset({"md5"}))
JINJA = ImmutableSandboxedEnvironment(keep_trailing_newline=True)  # as buildgraph's

Gen = tuple[str, Any]  # HCL text, and the value HCL gives it


def hcl_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


ints = st.one_of(
    st.integers(-50, 50).map(lambda n: (str(n), n)),
    st.sampled_from([("N", 3), ("M", -2)]),
)
# python-hcl2 reads `$${` and `%%{` only when a `}` follows (HCL itself needs none):
# generated text holds them with one.
texts = st.one_of(
    st.lists(
        st.sampled_from(
            ["a", "b", "-", "{", "}", "{{", "{%", "{#", "'", '"', "\\", " ", "\n", "${x}", "%{ y }"]
        ),
        max_size=5,
    )
    .map("".join)
    .filter(lambda s: re.search(r"[$%]\{[^}]*$", s) is None)
    .map(lambda s: (hcl_string(s), s)),
    st.sampled_from([("S", "ab"), ("T", "")]),
)
bools = st.one_of(
    st.sampled_from([("true", True), ("false", False), ("B", True), ("F", False)]),
)


def int_ops(children: st.SearchStrategy[Gen]) -> st.SearchStrategy[Gen]:
    def combine(op: str, a: Gen, b: Gen) -> Gen:
        value = {"+": a[1] + b[1], "-": a[1] - b[1], "*": a[1] * b[1]}[op]
        return f"({a[0]} {op} {b[0]})", value

    return st.builds(combine, st.sampled_from("+-*"), children, children)


int_exprs = st.recursive(ints, int_ops, max_leaves=6)


def bool_ops(children: st.SearchStrategy[Gen]) -> st.SearchStrategy[Gen]:
    def logic(op: str, a: Gen, b: Gen) -> Gen:
        return f"({a[0]} {op} {b[0]})", (a[1] and b[1]) if op == "&&" else (a[1] or b[1])

    def compare(op: str, a: Gen, b: Gen) -> Gen:
        ops = {"==": a[1] == b[1], "!=": a[1] != b[1], "<": a[1] < b[1], ">=": a[1] >= b[1]}
        return f"({a[0]} {op} {b[0]})", ops[op]

    def same(op: str, a: Gen, b: Gen) -> Gen:
        return f"({a[0]} {op} {b[0]})", (a[1] == b[1]) if op == "==" else (a[1] != b[1])

    return st.one_of(
        st.builds(logic, st.sampled_from(["&&", "||"]), children, children),
        st.builds(
            lambda a: (f"!{a[0]}" if a[0][0] in "(tfBF" else f"!({a[0]})", not a[1]), children
        ),
        st.builds(compare, st.sampled_from(["==", "!=", "<", ">="]), int_exprs, int_exprs),
        st.builds(same, st.sampled_from(["==", "!="]), texts, texts),
        st.builds(
            lambda f, a, b: (
                f"{f}({a[0]}, {b[0]})",
                (a[1] and b[1]) if f == "and" else (a[1] or b[1]),
            ),
            st.sampled_from(["and", "or"]),
            children,
            children,
        ),
        st.builds(lambda a: (f"not({a[0]})", not a[1]), children),
    )


bool_exprs = st.recursive(bools, bool_ops, max_leaves=6)


def interpolated(pieces: list[Gen]) -> Gen:
    """A template of text and interpolated strings or ints: `"a${S}b${N}"` (adjacent
    texts written as one run, so that their escapes are those of the joined text)."""
    runs: list[Gen] = []
    for piece in pieces:
        if piece[0].startswith('"') and runs and runs[-1][0] == "text":
            runs[-1] = ("text", runs[-1][1] + piece[1])
        elif piece[0].startswith('"'):
            runs.append(("text", piece[1]))
        else:
            runs.append(piece)
    # A text ending in `$` or `%` before `${` would write `$${`, an escape: no such run.
    runs = [(k, v[:-1] if k == "text" and v[-1:] in "$%" else v) for k, v in runs]
    source = "".join(hcl_string(v)[1:-1] if k == "text" else "${" + k + "}" for k, v in runs)
    shown = [r for r in runs if r != ("text", "")]
    if len(shown) == 1 and shown[0][0] != "text":
        return f'"{source}"', shown[0][1]  # "${x}" alone is x itself, as HCL unwraps it
    return f'"{source}"', "".join(str(v) for _, v in runs)


def closed_escapes(generated: Gen) -> bool:
    """python-hcl2 reads `$${` and `%%{` only when a `}` follows (HCL itself needs none)."""
    return re.search(r"[$%]\{[^}]*$", generated[0]) is None


templates = (
    st.lists(st.one_of(texts, ints), min_size=1, max_size=4)
    .map(interpolated)
    .filter(closed_escapes)
)


def any_exprs() -> st.SearchStrategy[Gen]:
    scalars = st.one_of(int_exprs, bool_exprs, texts, templates)

    def conditional(c: Gen, a: Gen, b: Gen) -> Gen:
        return f"({c[0]} ? {a[0]} : {b[0]})", a[1] if c[1] else b[1]

    def indexed(items: list[Gen], at: int) -> Gen:
        at = at % len(items)
        return "[" + ", ".join(i[0] for i in items) + f"][{at}]", items[at][1]

    return st.one_of(
        scalars,
        st.builds(conditional, bool_exprs, int_exprs, int_exprs),
        st.builds(conditional, bool_exprs, texts, templates),
        st.builds(indexed, st.lists(scalars, min_size=1, max_size=3), st.integers(0, 5)),
        st.lists(scalars, max_size=3).map(
            lambda items: ("[" + ", ".join(i[0] for i in items) + "]", [i[1] for i in items])
        ),
        st.builds(
            lambda k, v: ("{ " + k + " = " + v[0] + " }", {k: v[1]}),
            st.sampled_from(["a", "b_c", "d-e"]),
            scalars,
        ),
    )


def jinja_value(hcl: str) -> Any:
    expr = parse_expression(Path("t.hcl"), hcl, 1)
    return JINJA.compile_expression(expression(expr, SCOPE))(**VARIABLES)


@settings(max_examples=300, deadline=None)
@given(any_exprs())
def test_a_translated_expression_has_the_value_hcl_gives_it(generated: Gen) -> None:
    hcl, value = generated
    assert jinja_value(hcl) == value


@settings(max_examples=200, deadline=None)
@given(templates)
def test_a_translated_template_prints_the_text_hcl_prints(generated: Gen) -> None:
    hcl, value = generated
    parsed = parse_expression(Path("t.hcl"), hcl, 1)
    assert isinstance(parsed, Template)
    assert JINJA.from_string(template(parsed, SCOPE)).render(**VARIABLES) == str(value)


@pytest.mark.parametrize(
    ("hcl", "text"),
    [
        ('"$${A} %%{ if } {{ x }} {% y %} {# z #}"', "${A} %{ if } {{ x }} {% y %} {# z #}"),
        ('"%{ if B }yes%{ else }no%{ endif }"', "yes"),
        ('"a %{~ if F ~} x %{~ else ~} y %{~ endif ~} b"', "ayb"),
        ('"%{ for v in ["x", "y"] }<${v}>%{ endfor }"', "<x><y>"),
        ('"%{ for i, v in ["x", "y"] }${i}${v}%{ endfor }"', "0x1y"),
    ],
)
def test_templates_with_escapes_and_directives(hcl: str, text: str) -> None:
    parsed = parse_expression(Path("t.hcl"), hcl, 1)
    assert isinstance(parsed, Template)
    assert JINJA.from_string(template(parsed, SCOPE)).render(**VARIABLES) == text


def test_the_for_expressions_a_filter_says() -> None:
    env = ImmutableSandboxedEnvironment()
    env.globals["formatlist"] = lambda f, *a: [
        f % tuple(x[i] if isinstance(x, list) else x for x in a)
        for i in range(max(len(x) for x in a if isinstance(x, list)))
    ]
    scope = {**VARIABLES, "L": ["a", "", "b"]}
    sc = Scope(frozenset(scope), frozenset(), frozenset({"formatlist"}))

    def value(hcl: str) -> Any:
        expr = parse_expression(Path("t.hcl"), hcl, 1)
        return env.compile_expression(expression(expr, sc))(**scope)

    assert value("[for x in L : x]") == ["a", "", "b"]
    assert value('[for x in L : x if x != ""]') == ["a", "b"]
    assert value('[for x in L : "${S}/${x}%" if x != ""]') == ["ab/a%", "ab/b%"]
    assert value('[for x in L : "${x}"]') == ["a", "", "b"]


@pytest.mark.parametrize(
    ("hcl", "construct", "detail"),
    [
        ("target.app.tags", "target.app.tags", "another target"),
        ("md5(S)", "md5()", "lack"),
        ("nosuch(S)", "nosuch()", "unknown function"),
        ("UNDEFINED", "UNDEFINED", "undefined"),
        ("BAKE_CMD_CONTEXT", "BAKE_CMD_CONTEXT", "bake sets"),
        ("can(S.x)", "can()", "catch"),
        ("[for x in L : upper(x)]", "for expression", "comprehension"),
        ("{for k, v in {a = 1} : k => v}", "for expression", "comprehension"),
    ],
)
def test_what_has_no_exact_form_says_so(hcl: str, construct: str, detail: str) -> None:
    scope = Scope(SCOPE.names | {"L"}, frozenset(), frozenset(), frozenset({"md5", "can"}))
    with pytest.raises(Untranslatable) as caught:
        expression(parse_expression(Path("t.hcl"), hcl, 7), scope)
    assert caught.value.construct == construct
    assert detail in caught.value.detail
    assert caught.value.line == 7
