"""The sandbox templates run in, with bounds on what one template may cost.

Jinja's immutable sandbox keeps templates away from Python's internals but not from the
machine: `{{ 9**999999999 }}`, `{{ 'x'*10**9 }}`, `lipsum(10**6)` or two nested
`range(100000)` loops run for minutes or take gigabytes. Here every place a template can
make something big or do something many times is counted or checked before it is done:

- no value a template makes (a string, a list, the text it prints) holds more than
  `MAX_VALUE` characters or items, and no integer more than `MAX_INT_BITS` bits;
- one rendering (of a template, or of an expression) does at most `MAX_WORK` units of
  work: a loop's step, a call, a filter, an operator each cost one, and making a value
  costs one more per 256 characters or items of it.

A template over a bound fails with `TemplateLimit`, which `templates` reports with the
file, target and key. This module imports jinja2 at its top: `templates` imports it only
when a string holds a template.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

MAX_VALUE = 1_000_000  # characters of a string, items of a list or table
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_WORK = 100_000  # units of work of one rendering
MAX_LIPSUM = 100  # paragraphs

LIMITS_HINT = (
    f"a template may make values of at most {MAX_VALUE:,} characters or items, integers "
    f"of at most {MAX_INT_BITS:,} bits, and do at most {MAX_WORK:,} steps of work "
    "(loop steps, calls, filters, operators)"
)

_SIZED = (str, list, tuple, dict)
_WIDTH = re.compile(r"\d+")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{|%[^a-zA-Z%]*\*")


class TemplateLimit(Exception):
    """A template went over one of the bounds above."""


class _Work:
    """The units of work left to the rendering under way, and how deep in calls of the
    project's functions it is (a call renders on its caller's budget)."""

    __slots__ = ("calls", "left")

    def __init__(self) -> None:
        self.left = MAX_WORK
        self.calls = 0


WORK = _Work()


def start() -> None:
    """A rendering begins: it has the whole budget, unless it is a function's result,
    rendered inside the rendering that called it."""
    if WORK.calls == 0:
        WORK.left = MAX_WORK


def charge(units: int) -> None:
    WORK.left -= units
    if WORK.left < 0:
        raise TemplateLimit(f"the template does more than {MAX_WORK:,} steps of work")


def checked(value: Any) -> Any:
    """`value`, charged by its size; a value over a bound fails."""
    kind = type(value)
    if kind in _SIZED:
        size = len(value)
        if size > MAX_VALUE:
            raise TemplateLimit(f"a value of {size:,} characters or items is too large")
        charge(1 + (size >> 8))
    elif kind is int:
        if value.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"an integer of more than {MAX_INT_BITS:,} bits is too large")
        charge(1)
    elif kind is float:
        if not math.isfinite(value):
            raise TemplateLimit("the result is not a finite number")
        charge(1)
    else:
        charge(1)
    return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


def _refuse_widths(text: str, args: Iterable[Any]) -> None:
    """`text` as a format (`%` or `str.format`): no width or precision that makes a value
    over the bound, written in it or taken from the arguments."""
    if any(int(digits) > MAX_VALUE for digits in _WIDTH.findall(text)):
        raise TemplateLimit("a width or precision in the format is too large")
    if _NESTED_SPEC.search(text):
        for arg in args:
            if type(arg) is int and abs(arg) > MAX_VALUE:
                raise TemplateLimit("a width or precision given to the format is too large")


def _precheck_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be over a bound, before computing it."""
    if operator == "**":
        if type(left) in (int, bool) and type(right) in (int, bool) and right > 0:
            bits = max(abs(left).bit_length() - 1, 0) * right
            if bits > MAX_INT_BITS:
                raise TemplateLimit(f"{left} ** {right} is too large")
    elif operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(sequence, _SIZED)
                and type(times) is int
                and len(sequence) * times > MAX_VALUE
            ):
                raise TemplateLimit("repeating a value makes it too large")
        if (
            type(left) is int
            and type(right) is int
            and left.bit_length() + right.bit_length() > MAX_INT_BITS
        ):
            raise TemplateLimit("the product is too large")
    elif operator == "+":
        if _size(left) + _size(right) > MAX_VALUE:
            raise TemplateLimit("joining the values makes one too large")
    elif operator == "%" and type(left) is str:
        _refuse_widths(left, right if isinstance(right, tuple) else (right,))


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    charge(len(numbers))
    return numbers


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if n > MAX_LIPSUM or max > MAX_LIPSUM or min > MAX_LIPSUM:
        raise TemplateLimit(f"lipsum() makes at most {MAX_LIPSUM} paragraphs of {MAX_LIPSUM} words")
    return checked(generate_lorem_ipsum(n=n, html=html, min=min, max=max))  # type: ignore[no-any-return]


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, each step charged."""
    for item in items:
        charge(1)
        yield item


# Filters whose result can be much larger than what they are given: their numbers (a
# width, a count) are looked at first.
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = [*args, *kwargs.values()]
        if name in _WIDTH_FILTERS:
            for value in values[1:]:
                if type(value) is int and value > MAX_VALUE:
                    raise TemplateLimit(f"{name}'s {value:,} is too large")
        if name == "format" and args and type(args[0]) is str:
            _refuse_widths(args[0], values[1:])
        estimate = _estimate(name, args, kwargs)
        if estimate > MAX_VALUE:
            raise TemplateLimit(f"the result of {name} would be too large")
        return checked(function(*args, **kwargs))

    return bounded


def _estimate(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """An upper bound of a filter's result size, where it can exceed its input's (the
    arguments as Jinja passes them: after the context for the filters that take it)."""
    try:
        if name == "replace":  # (eval_ctx, s, old, new, count=None)
            value, old, new = str(args[1]), str(args[2]), str(args[3])
            return len(value) + (value.count(old) + 1) * len(new)
        if name == "indent":  # (s, width=4, first=False, blank=False)
            width = kwargs.get("width", args[1] if len(args) > 1 else 4)
            lines = str(args[0]).count("\n") + 1
            return len(str(args[0])) + lines * (len(width) if type(width) is str else int(width))
        if name == "join":  # (eval_ctx, value, d="", attribute=None)
            items = args[1]
            separator = args[2] if len(args) > 2 else kwargs.get("d", "")
            if isinstance(items, _SIZED) and type(separator) is str:
                lengths = sum(len(i) for i in items if type(i) is str)
                return lengths + len(items) * (len(separator) + 1)
        if name == "sum":  # (environment, iterable, attribute=None, start=0)
            items = args[1]
            if isinstance(items, list | tuple):
                return sum(_size(i) for i in items)
    except (IndexError, TypeError, ValueError, OverflowError):
        pass  # the filter itself says what is wrong with its arguments
    return 0


def _joined(*parts: Any) -> str:
    """`a ~ b`: the parts as text, joined, at most MAX_VALUE."""
    texts = [part if type(part) is str else str(part) for part in parts]
    if sum(map(len, texts)) > MAX_VALUE:
        raise TemplateLimit("joining the values with ~ makes one too large")
    return checked("".join(texts))  # type: ignore[no-any-return]


class _Counted(NodeTransformer):
    """Each `{% for %}` loop's items go through `environment.counted_items`, each `a ~ b`
    through `environment.joined`."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.Concat)
        return nodes.Call(nodes.EnvironmentAttribute("joined"), visited.nodes, [], None, None)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.For)
        visited.iter = nodes.Call(
            nodes.EnvironmentAttribute("counted_items"), [visited.iter], [], None, None
        )
        return visited


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the bounds of this module."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})
    counted_items = staticmethod(_counted)
    joined = staticmethod(_joined)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.globals["lipsum"] = _bounded_lipsum
        for name, function in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, function)

    @staticmethod
    def concat(pieces: Iterable[str]) -> str:
        """What a template (or a macro, a block) prints: its pieces, at most MAX_VALUE."""
        kept: list[str] = []
        total = 0
        for piece in pieces:
            total += len(piece)
            if total > MAX_VALUE:
                raise TemplateLimit(f"the template prints more than {MAX_VALUE:,} characters")
            kept.append(piece)
        charge(1 + (total >> 8))
        return "".join(kept)

    def compile(
        self,
        source: Any,
        name: Any = None,
        filename: Any = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        source = _Counted().visit(source)
        return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _precheck_binop(operator, left, right)
        return checked(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        charge(1)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's inner items
            args = (_counted(args[0]), *args[1:])
        owner = getattr(__obj, "__self__", None)
        if type(owner) is str:
            method = getattr(__obj, "__name__", "")
            if method in ("center", "ljust", "rjust", "zfill", "expandtabs"):
                width = args[0] if args else kwargs.get("width", kwargs.get("tabsize", 0))
                if type(width) is int and width * max(owner.count("\t"), 1) > MAX_VALUE:
                    raise TemplateLimit(f"{method}'s {width:,} is too large")
        return checked(super().call(__context, __obj, *args, **kwargs))

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        if type(argument) is slice:
            checked(value)
        return value

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        text = str(value.__self__)

        def bounded(*args: Any, **kwargs: Any) -> str:
            _refuse_widths(text, [*args, *kwargs.values()])
            return checked(wrapper(*args, **kwargs))  # type: ignore[no-any-return]

        return bounded
