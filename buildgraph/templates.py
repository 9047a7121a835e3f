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


_SIMPLE_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@lru_cache(maxsize=8192)
def _simple_parts(text: str) -> tuple[str, ...] | None:
    """Literal text and names alternating, when `text` only substitutes bare names.

    Most templates are `{{ registry }}/api:{{ TAG }}`; substituting those directly gives
    what Jinja gives (str of the value) without compiling one template per target."""
    if "{%" in text or "{#" in text:
        return None
    parts = tuple(_SIMPLE_NAME.split(text))
    if any("{{" in literal for literal in parts[::2]):
        return None
    return parts


def _render_simple(parts: tuple[str, ...], scope: Mapping[str, Any]) -> str | None:
    pieces = list(parts)
    for i in range(1, len(parts), 2):
        value = scope.get(parts[i], _MISSING)
        kind = type(value)
        if kind is str:
            pieces[i] = value
        elif kind is int or kind is float or kind is bool:
            pieces[i] = str(value)
        else:
            return None  # Jinja decides: an undefined name, a global, or a rich value
    return "".join(pieces)


_MISSING = object()


def render_string(text: str, scope: Mapping[str, Any]) -> str:
    """`text` rendered in `scope`; plain text comes back unchanged."""
    if not is_template(text):
        return text
    parts = _simple_parts(text)
    if parts is not None:
        simple = _render_simple(parts, scope)
        if simple is not None:
            return simple
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    template = _compiled(text)
    try:
        return template.render(scope)
    except UndefinedError as exc:
        raise TemplateProblem(
            f"undefined name in template {text!r}: {exc.message}",
            hint=_undefined_hint(scope),
        ) from None
    except SecurityError as exc:
        raise TemplateProblem(
            f"template {text!r} does something the sandbox forbids: {exc}",
            hint="templates may only format values; they cannot reach Python internals",
        ) from None
    except TemplateSyntaxError as exc:  # pragma: no cover - caught at compile time
        raise TemplateProblem(f"template syntax error: {exc.message}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(f"template {text!r} failed: {exc}") from None


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
