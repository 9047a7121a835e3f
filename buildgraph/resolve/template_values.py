"""The values templates see and make, and how bake prints them: bake's booleans (`true`),
numbers (`1`, not `1.0`) and `null`, which prints into no text; `native` turns what a
template made into plain data. It imports nothing else of buildgraph, and jinja2 only to
recognise an undefined name: the modules that shape rendered values use it without the
template engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class TemplateProblem(Exception):
    """A template could not be rendered; `resolve` adds file, target and key."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class BakeBool(int):
    """A boolean of the scope: true in `if`, equal to True, printed `true`/`false` as bake
    prints it (Python's bool, which cannot be subclassed, prints `True`)."""

    __slots__ = ()

    def __str__(self) -> str:
        return "true" if self else "false"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(bool(self), spec)


class BakeFloat(float):
    """A float of the scope, printed as bake prints a number: `1`, not `1.0`."""

    __slots__ = ()

    def __str__(self) -> str:
        return str(bake_text(float(self)))

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else format(float(self), spec)


class _Null:
    """bake's `null` in the scope of templates (a variable whose default is `{{ none }}`):
    equal to None and false, and never printed into text, as HCL refuses to interpolate
    a null (None itself would print `None` through every fast path of this module)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return other is None or other is self

    def __hash__(self) -> int:
        return hash(None)

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        raise TemplateProblem(NULL_IN_TEXT, hint=NULL_HINT)

    def __format__(self, spec: str) -> str:
        raise TemplateProblem(NULL_IN_TEXT, hint=NULL_HINT)

    def __repr__(self) -> str:
        return "none"


NULL: Any = _Null()
NULL_IN_TEXT = "a null value cannot be printed into text"
NULL_HINT = (
    "a template that is one {{ expression }} yielding none unsets its key or entry; inside "
    "longer text, give a fallback: {{ X if X is not none else '' }}"
)


def is_null(value: Any) -> bool:
    """Whether `value` is bake's null: None, or the scope's NULL."""
    return value is None or type(value) is _Null


def bake_text(value: Any) -> Any:
    """A boolean or a float as bake prints it (`true`, `1`, `0.5`); any other value as is."""
    kind = type(value)
    if value is None or kind is _Null:
        raise TemplateProblem(NULL_IN_TEXT, hint=NULL_HINT)
    if kind is bool or kind is BakeBool:
        return "true" if value else "false"
    if kind is float or kind is BakeFloat:
        if value != value or value in (float("inf"), float("-inf")):
            return str(float(value))
        if float(value).is_integer():
            return str(int(value))
        from decimal import Decimal

        return format(Decimal(repr(float(value))), "f")
    return value


def printable(value: Any) -> Any:
    """A value for the scope of templates: booleans and floats in it (at any depth) print
    as bake prints them."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if value is None:
        return NULL
    if kind is bool:
        return BakeBool(value)
    if kind is float:
        return BakeFloat(value)
    if kind is dict:
        return {k: printable(v) for k, v in value.items()}
    if kind is list:
        return [printable(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """`value` with BakeBools as the booleans they stand for (for tojson)."""
    kind = type(value)
    if kind is BakeBool:
        return bool(value)
    if kind is _Null:
        return None
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    return value


def native(value: Any) -> Any:
    """A value a template made, as plain data: str, int, float, bool, None, list, dict.
    Booleans and floats of the scope lose their bake printing, generators and ranges
    become lists; an undefined name fails here; anything else (a function, a macro) is
    not a value."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is _Null:
        return None
    if kind is BakeBool:
        return bool(value)
    if kind is BakeFloat:
        return float(value)
    if isinstance(value, int | float):  # bake's own numbers (bake_functions.BakeNumber)
        return value
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        str(value)  # raises: StrictUndefined says which name
    if isinstance(value, str):  # Markup
        return str(value)
    if isinstance(value, Mapping):
        return {native(k): native(v) for k, v in value.items()}
    if isinstance(value, list | tuple | range) or _is_iterator(value):
        return [native(v) for v in value]
    raise TemplateProblem(
        f"the template yields a {type(value).__name__}, not a value",
        hint="a whole {{ expression }} may yield text, a number, a boolean, a list, a "
        "table or none",
    )


def _is_iterator(value: Any) -> bool:
    return isinstance(value, Iterator)


class _ImpureCalls:
    """How many calls of functions whose result is not a function of their arguments
    (`timestamp()`, `uuidv4()`) templates have made: a plan made with one is not reused."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


IMPURE_CALLS = _ImpureCalls()
