"""Rendering string values as Jinja2 templates, sandboxed, with undefined names as errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from buildgraph.resolve.template_values import (
    IMPURE_CALLS,
    NULL_IN_TEXT,
    BakeBool,
    TemplateProblem,
    bake_text,
    is_null,
    native,
    plain,
    printable,
)

if TYPE_CHECKING:
    from jinja2 import Template


def is_template(text: str) -> bool:
    # Most values are plain text: skipping Jinja for them keeps planning fast.
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined

    from buildgraph.resolve.template_limits import BoundedEnvironment

    environment = BoundedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=bake_text,  # what {{ }} prints: booleans and numbers as bake prints them
    )
    environment.tests.update(
        true=_is_true, false=_is_false, boolean=_is_boolean, integer=_is_integer, none=_is_none
    )
    environment.policies["json.dumps_function"] = _dumps
    environment.globals.update(_bake_functions(), for_each=for_each)
    return environment


def for_each(
    items: Any, body: Any, *args: Any, where: Any = None, key: Any = None
) -> list[Any] | dict[Any, Any]:
    """HCL's `[for k, v in items : body(k, v) if where(k, v)]`, which Jinja's expressions
    cannot say (the import writes its body as a function): each call gets the index (of a
    list) or key (of a table, in bake's order: sorted), the value, then `args`. With
    `key`, HCL's `{for ...}`: a table."""
    from buildgraph.resolve.template_limits import charge

    pairs = sorted(items.items()) if isinstance(items, Mapping) else list(enumerate(items))
    charge(len(pairs))
    kept = [(k, v) for k, v in pairs if where is None or where(k, v, *args)]
    if key is None:
        return printable([body(k, v, *args) for k, v in kept])  # type: ignore[no-any-return]
    return printable({key(k, v, *args): body(k, v, *args) for k, v in kept})  # type: ignore[no-any-return]


def _bake_functions() -> dict[str, Any]:
    """bake's standard library (`bake_functions`) as globals of every template, taking
    plain values and giving the scope's (booleans and numbers print as bake prints them;
    a null argument is None). The project's variables and functions hide them."""
    from buildgraph.resolve.bake_functions import BAKE_FUNCTIONS

    def scoped(function: Any, impure: bool) -> Any:
        def call(*args: Any) -> Any:
            if impure:
                IMPURE_CALLS.count += 1
            return printable(function(*[native(arg) for arg in args]))

        call.__name__ = call.__qualname__ = function.__name__
        return call

    return {
        name: scoped(function, name in _IMPURE_FUNCTIONS)
        for name, function in BAKE_FUNCTIONS.items()
    }


# bake's functions whose result is not a function of their arguments.
_IMPURE_FUNCTIONS = frozenset({"timestamp", "uuidv4"})


def _start_rendering() -> None:
    """A rendering through Jinja begins: it gets a whole budget of work
    (`template_limits`)."""
    from buildgraph.resolve.template_limits import start  # imported once jinja2 is

    start()


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().from_string(text)  # type: ignore[no-any-return]
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template syntax error: {exc.message}", hint="templates use Jinja2: {{ name }}"
        ) from None
    except Exception as exc:  # a parser's RecursionError on deep nesting, and the like
        raise _problem_of(text, exc, {}) from None


_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_BARE_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
# A `{{ name }}`, its name as group 1.
_BARE_EXPRESSION = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MISSING = object()
# Values printed as str() prints them: a bare name holding one is substituted without Jinja.
# (Booleans and floats print as bake prints them: `printable` makes the scope's own print
# so, `bake_text` the ones a template computes.)
_PRINTED_AS_STR = frozenset({str, int})


def _is_none(value: Any) -> bool:
    return is_null(value)


def _is_true(value: Any) -> bool:
    return value is True or (type(value) is BakeBool and value == 1)


def _is_false(value: Any) -> bool:
    return value is False or (type(value) is BakeBool and value == 0)


def _is_boolean(value: Any) -> bool:
    return type(value) is bool or type(value) is BakeBool


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not _is_boolean(value)


def _dumps(value: Any, **options: Any) -> str:
    import json

    return json.dumps(plain(value), **options)


class _Substitution(NamedTuple):
    """A template that is literal text and `{{ expression }}`s only (no blocks, comments or
    whitespace control)."""

    parts: tuple[str, ...]  # literal text and expression sources, alternating
    names: tuple[str | None, ...]  # at each expression: its name, when it is a bare name
    # When every expression is a bare name: the template as a str.format_map pattern, which
    # prints each value as Jinja does (str() of it) in one C call.
    pattern: str | None


@lru_cache(maxsize=8192)
def _substitution(text: str) -> _Substitution | None:
    """`text` split for substitution, or None when it needs Jinja's whole template engine.

    Each expression is compiled once however many templates use it: projects spell the
    same `{{ py | replace('.', '') }}` in hundreds of otherwise different strings, and
    compiling a whole template per string would dominate planning."""
    pieces = _BARE_EXPRESSION.split(text)  # literal text and names, alternating
    literals = "".join(pieces[::2])
    if "{" not in literals and "}" not in literals:
        return _substitution_of_names(pieces)
    if "{%" in text or "{#" in text:
        return None
    parts = tuple(_EXPRESSION.split(text))
    if any("{{" in literal for literal in parts[::2]):
        return None
    sources = parts[1::2]
    if any(source.startswith(("-", "+")) or source.endswith(("-", "+")) for source in sources):
        return None
    names = tuple(None if i % 2 == 0 else _bare_name(part) for i, part in enumerate(parts))
    return _Substitution(parts, names, _format_pattern(parts, names))


def _substitution_of_names(pieces: list[str]) -> _Substitution:
    """The `_Substitution` of a text whose only braces are `{{ name }}`s, as most templates
    are, from its literal text and names (each name is its expression's source)."""
    names = tuple([piece if i % 2 else None for i, piece in enumerate(pieces)])
    pattern = "".join(
        [piece if i % 2 == 0 else "{" + piece + "}" for i, piece in enumerate(pieces)]
    )
    return _Substitution(tuple(pieces), names, pattern)


def _format_pattern(parts: tuple[str, ...], names: tuple[str | None, ...]) -> str | None:
    if any(name is None for name in names[1::2]):
        return None
    pieces = [
        part.replace("{", "{{").replace("}", "}}") if i % 2 == 0 else f"{{{names[i]}}}"
        for i, part in enumerate(parts)
    ]
    return "".join(pieces)


def _bare_name(source: str) -> str | None:
    bare = _BARE_NAME.match(source)
    return bare.group(1) if bare else None


class _Expression(NamedTuple):
    """A compiled `{{ expression }}`."""

    evaluate: Any  # Jinja's compiled expression; its keyword arguments are the scope
    reads: tuple[str, ...] | None  # the names it reads, when its value depends on nothing else


# Filters whose result is not a function of their input alone.
_IMPURE_FILTERS = frozenset({"random"})


@lru_cache(maxsize=4096)
def _expression(source: str) -> _Expression | None:
    from jinja2 import TemplateSyntaxError

    environment = _environment()
    try:
        evaluate = environment.compile_expression(source, undefined_to_none=False)
        reads = _names_read(environment, source)
    except (TemplateSyntaxError, RecursionError, ValueError, TypeError, ArithmeticError):
        return None  # let the whole template say what is wrong, with its context
    return _Expression(evaluate, reads)


def _names_read(environment: Any, source: str) -> tuple[str, ...] | None:
    """The names an expression reads, when its value is a function of theirs alone: no call
    (lipsum(), cycler(), methods) and no impure filter."""
    from jinja2 import nodes
    from jinja2.parser import Parser

    tree = Parser(environment, source, state="variable").parse_expression()
    every = [tree, *tree.find_all(nodes.Node)]  # find_all leaves out the node itself
    if any(isinstance(node, nodes.Call) for node in every):
        return None
    if any(isinstance(node, nodes.Filter) and node.name in _IMPURE_FILTERS for node in every):
        return None
    return tuple(sorted({node.name for node in every if isinstance(node, nodes.Name)}))


def _printed(expression: _Expression, scope: Mapping[str, Any]) -> str:
    """What `{{ expression }}` prints in scope."""
    if expression.reads is not None:
        values = tuple(scope.get(name, _MISSING) for name in expression.reads)
        if all(type(value) is str for value in values):
            return _printed_for(expression, values)
    _start_rendering()
    return str(bake_text(expression.evaluate(**scope)))  # a StrictUndefined raises here


@lru_cache(maxsize=8192)
def _printed_for(expression: _Expression, values: tuple[str, ...]) -> str:
    """What a pure expression prints for these values of the names it reads: evaluated
    once per set of values, where a matrix repeats a few over thousands of targets."""
    scope = dict(zip(expression.reads or (), values, strict=True))
    _start_rendering()
    return str(bake_text(expression.evaluate(**scope)))


def _substituted(template: _Substitution, scope: Mapping[str, Any]) -> str | None:
    if template.pattern is not None:
        try:
            return template.pattern.format_map(scope)
        except KeyError:
            pass  # an undefined name: Jinja's StrictUndefined says which, below
    parts, names = template.parts, template.names
    pieces = list(parts)
    for i in range(1, len(parts), 2):
        name = names[i]
        value = _MISSING if name is None else scope.get(name, _MISSING)
        if type(value) in _PRINTED_AS_STR:
            pieces[i] = str(value)
            continue
        expression = _expression(parts[i])
        if expression is None:
            return None
        pieces[i] = _printed(expression, scope)
    return "".join(pieces)


def render_string(text: str, scope: Mapping[str, Any]) -> str:
    """`text` rendered in `scope`; plain text comes back unchanged."""
    # Most strings hold no brace at all: one test, the cheapest, sends them back.
    if "{" not in text or not is_template(text):
        return text
    template = _substitution(text)
    try:
        if template is not None:
            rendered = _substituted(template, scope)
            if rendered is not None:
                return rendered
        compiled = _compiled(text)
        _start_rendering()
        return compiled.render(scope)
    except TemplateProblem as exc:
        if str(exc) == NULL_IN_TEXT:
            raise TemplateProblem(f"template {text!r}: {exc}", hint=exc.hint) from None
        raise
    except Exception as exc:
        raise _problem_of(text, exc, scope) from None


class StringTemplate(NamedTuple):
    """A template string looked at once, to be rendered in many scopes (`compile_string`)."""

    text: str
    # The str.format_map pattern when every expression is a bare name, else None.
    pattern: str | None
    # The names its value is a function of, or None when that is not known (blocks, calls,
    # impure filters): a template whose names hold the same values in two scopes renders
    # the same in both.
    reads: frozenset[str] | None
    # The expression's source when the template is one whole `{{ expression }}`: its
    # value is the expression's own (`value`), not its printed text.
    whole: str | None = None

    def render(self, scope: Mapping[str, Any]) -> str:
        """`render_string(self.text, scope)`, without looking at the text again."""
        if self.pattern is not None:
            try:
                return self.pattern.format_map(scope)
            except Exception:
                pass  # an undefined name or a failing value: render_string says which
        return render_string(self.text, scope)

    def value(self, scope: Mapping[str, Any]) -> Any:
        """`template_value(self.text, scope)`, without looking at the text again."""
        if self.whole is None:
            return self.render(scope)
        if self.pattern is not None:  # `{{ name }}`: the name's value itself
            found = scope.get(self.pattern[1:-1], _MISSING)
            if found is not _MISSING:
                return native(found)
        return expression_value(self.whole, scope, self.text)


@lru_cache(maxsize=8192)
def compile_string(text: str) -> StringTemplate:
    """`text` (a template: `is_template(text)`) ready to render in many scopes."""
    template = _substitution(text)
    whole = whole_expression(text)
    if template is None:
        return StringTemplate(text, None, None, whole)
    return StringTemplate(text, template.pattern, _names_of(template), whole)


# `{{ expression }}` and nothing else; whitespace control (`{{-`) makes it text.
_WHOLE_EXPRESSION = re.compile(r"\{\{(?![-+])(.*?)(?<![-+])\}\}", re.DOTALL)


@lru_cache(maxsize=8192)
def whole_expression(text: str) -> str | None:
    """The expression's source when `text` is one whole `{{ expression }}` (a value, not
    text: `platforms = "{{ PLATFORMS }}"` is a list, `"{{ none }}"` unsets), else None."""
    if not (text.startswith("{{") and text.endswith("}}")):
        return None
    match = _WHOLE_EXPRESSION.fullmatch(text)
    if match is None:
        return None
    source = match.group(1)
    if "{{" in source or "}}" in source or not source.strip():
        return None  # two expressions (`{{ a }}{{ b }}`), or none
    return source


def template_value(text: str, scope: Mapping[str, Any]) -> Any:
    """The value of a string: a whole `{{ expression }}`'s own value (a list, a table, a
    boolean, a number, None), any other text rendered as text."""
    if "{" not in text:
        return text
    source = whole_expression(text)
    if source is None:
        return render_string(text, scope)
    return expression_value(source, scope, text)


def expression_value(source: str, scope: Mapping[str, Any], text: str | None = None) -> Any:
    """The value of the expression `source` in `scope`, as plain data (`native`); `text`
    is the template it came from, for errors."""
    text = "{{" + source + "}}" if text is None else text
    expression = _expression(source)
    if expression is None:
        return render_string(text, scope)  # which says what is wrong with it
    try:
        _start_rendering()
        return native(expression.evaluate(**scope))
    except TemplateProblem:
        raise
    except Exception as exc:
        raise _problem_of(text, exc, scope) from None


def _names_of(template: _Substitution) -> frozenset[str] | None:
    names: set[str] = set()
    for i in range(1, len(template.parts), 2):
        name = template.names[i]
        if name is not None:
            names.add(name)
            continue
        expression = _expression(template.parts[i])
        if expression is None or expression.reads is None:
            return None
        names.update(expression.reads)
    return frozenset(names)


def _problem_of(text: str, exc: Exception, scope: Mapping[str, Any]) -> TemplateProblem:
    """The error a person reads for a template that failed, whatever failed in it."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    from buildgraph.resolve.template_limits import LIMITS_HINT, TemplateLimit

    if isinstance(exc, TemplateLimit):
        return TemplateProblem(f"template {text!r} is refused: {exc}", hint=LIMITS_HINT)
    if isinstance(exc, UndefinedError):
        return TemplateProblem(
            f"undefined name in template {text!r}: {exc.message}", hint=_undefined_hint(scope)
        )
    if isinstance(exc, SecurityError):
        return TemplateProblem(
            f"template {text!r} does something the sandbox forbids: {exc}",
            hint="templates may only format values; they cannot reach Python internals",
        )
    if isinstance(exc, TemplateSyntaxError):
        return TemplateProblem(f"template syntax error: {exc.message}")
    if isinstance(exc, RecursionError):
        return TemplateProblem(
            f"template {text!r} failed: it recurses too deeply",
            hint="a macro (or a recursive loop) that calls itself needs a case that stops",
        )
    if isinstance(exc, MemoryError):
        return TemplateProblem(f"template {text!r} failed: it needs too much memory")
    # Everything else a template can raise: filters' own checks (truncate's assertion,
    # dictsort's ValueError), cycler() without items, an unknown filter inside map(), ...
    message = str(exc) or type(exc).__name__
    return TemplateProblem(
        f"template {text!r} failed: {message}",
        hint="templates use Jinja2's filters and tests: check the arguments given to them",
    )


def _undefined_hint(scope: Mapping[str, Any]) -> str:
    names = ", ".join(sorted(scope))
    return f"names in scope: {names}; declare others under [variables]"


def render_value(value: Any, scope: Mapping[str, Any]) -> Any:
    """A TOML value with every string in it (keys of tables too) rendered."""
    if isinstance(value, str):
        return render_string(value, scope)
    if isinstance(value, list):
        return [render_value(v, scope) for v in value]
    if isinstance(value, dict):
        return {render_string(k, scope): render_value(v, scope) for k, v in value.items()}
    return value


def render_frozen(value: Any, scope: Mapping[str, Any]) -> Any:
    """`freeze(render_value(value, scope))` in one pass: what the model keeps of a value."""
    # Tens of thousands of values in a large project: exact type checks (TOML data holds
    # only these builtins), and strings without a brace (most values, nearly all table
    # keys) not even passed to render_string.
    kind = type(value)
    if kind is str:
        return render_string(value, scope) if "{" in value else value
    if kind is list:
        return tuple([render_frozen(v, scope) for v in value])
    if kind is dict:
        return MappingProxyType(
            {
                (render_string(k, scope) if "{" in k else k): render_frozen(v, scope)
                for k, v in value.items()
            }
        )
    return value
