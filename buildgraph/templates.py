"""Rendering string values as Jinja2 templates, sandboxed, with undefined names as errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Template


class TemplateProblem(Exception):
    """A template could not be rendered; `resolve` adds file, target and key."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def is_template(text: str) -> bool:
    # Most values are plain text: skipping Jinja for them keeps planning fast.
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Template:
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().from_string(text)  # type: ignore[no-any-return]
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"template syntax error: {exc.message}", hint="templates use Jinja2: {{ name }}"
        ) from None


_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_BARE_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_MISSING = object()


@lru_cache(maxsize=8192)
def _parts(text: str) -> tuple[str, ...] | None:
    """Literal text and `{{ expression }}` sources alternating, when the template has
    nothing else (no blocks, comments or whitespace control).

    Each expression is compiled once however many templates use it: projects spell the
    same `{{ py | replace('.', '') }}` in hundreds of otherwise different strings, and
    compiling a whole template per string would dominate planning."""
    if "{%" in text or "{#" in text:
        return None
    parts = tuple(_EXPRESSION.split(text))
    if any("{{" in literal for literal in parts[::2]):
        return None
    if any(source.startswith(("-", "+")) or source.endswith(("-", "+")) for source in parts[1::2]):
        return None
    return parts


@lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    from jinja2 import TemplateSyntaxError

    try:
        return _environment().compile_expression(source, undefined_to_none=False)
    except TemplateSyntaxError:
        return None  # let the whole template say what is wrong, with its context


def _render_parts(parts: tuple[str, ...], scope: Mapping[str, Any]) -> str | None:
    pieces = list(parts)
    for i in range(1, len(parts), 2):
        source = parts[i]
        bare = _BARE_NAME.match(source)
        value = scope.get(bare.group(1), _MISSING) if bare else _MISSING
        kind = type(value)
        if kind is str:
            pieces[i] = str(value)
            continue
        if kind is int or kind is float or kind is bool:
            pieces[i] = str(value)
            continue
        expression = _expression(source)
        if expression is None:
            return None
        pieces[i] = str(expression(**scope))  # a StrictUndefined raises here
    return "".join(pieces)


def render_string(text: str, scope: Mapping[str, Any]) -> str:
    """`text` rendered in `scope`; plain text comes back unchanged."""
    if not is_template(text):
        return text
    parts = _parts(text)
    try:
        if parts is not None:
            rendered = _render_parts(parts, scope)
            if rendered is not None:
                return rendered
        return _compiled(text).render(scope)
    except TemplateProblem:
        raise
    except Exception as exc:
        raise _problem_of(text, exc, scope) from None


def _problem_of(text: str, exc: Exception, scope: Mapping[str, Any]) -> Exception:
    """The error a person reads for a template that failed; other errors pass unchanged."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

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
    if isinstance(exc, TypeError | ValueError | ArithmeticError):
        return TemplateProblem(f"template {text!r} failed: {exc}")
    return exc


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
