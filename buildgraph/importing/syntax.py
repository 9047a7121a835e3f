"""The HCL model the importer translates: expressions and templates as frozen trees, each
node with the line it starts on, and the blocks and attributes of a file.

Both readers build it: `hcl_source` from HCL text (through python-hcl2's Lark tree), and
from bake JSON, whose strings are HCL templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union  # `X | Y` of classes defined below needs quotes: Union reads better


@dataclass(frozen=True, slots=True)
class Literal:
    line: int
    value: str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Interpolation:
    expr: Expr
    strip_before: bool = False
    strip_after: bool = False


@dataclass(frozen=True, slots=True)
class IfDirective:
    line: int
    condition: Expr
    then: tuple[Part, ...]
    otherwise: tuple[Part, ...]
    # `~` strip markers of %{ if }, %{ else } and %{ endif }: (before, after) each.
    strips: tuple[bool, ...] = (False,) * 6


@dataclass(frozen=True, slots=True)
class ForDirective:
    line: int
    key: str | None
    value: str
    collection: Expr
    body: tuple[Part, ...]
    # `~` strip markers of %{ for } and %{ endfor }: (before, after) each.
    strips: tuple[bool, ...] = (False,) * 4


Part = Union[  # noqa: UP007
    Text, Interpolation, IfDirective, ForDirective
]


@dataclass(frozen=True, slots=True)
class Template:
    """A quoted string or a heredoc: literal text, interpolations and directives."""

    line: int
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Name:
    line: int
    name: str


@dataclass(frozen=True, slots=True)
class GetAttr:
    line: int
    obj: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    line: int
    obj: Expr
    key: Expr


@dataclass(frozen=True, slots=True)
class Splat:
    """`xs[*].a.b` or `xs.*.a`: each item's attribute path."""

    line: int
    obj: Expr
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Call:
    line: int
    name: str
    args: tuple[Expr, ...]
    expand_last: bool = False  # f(xs...)


@dataclass(frozen=True, slots=True)
class TupleExpr:
    line: int
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ObjectItem:
    key: Expr  # a bare name key is a Literal string, as HCL reads it
    value: Expr


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    line: int
    items: tuple[ObjectItem, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    line: int
    op: str  # "-" or "!"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    line: int
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Conditional:
    line: int
    condition: Expr
    then: Expr
    otherwise: Expr


@dataclass(frozen=True, slots=True)
class ForExpr:
    """`[for k, v in coll : body if cond]`, or with `key_body` the object form
    `{for k, v in coll : key_body => body if cond}` (`grouping`: `...`)."""

    line: int
    key: str | None
    value: str
    collection: Expr
    body: Expr
    condition: Expr | None = None
    key_body: Expr | None = None
    grouping: bool = False


@dataclass(frozen=True, slots=True)
class Paren:
    line: int
    expr: Expr


Expr = Union[  # noqa: UP007
    Literal,
    Template,
    Name,
    GetAttr,
    Index,
    Splat,
    Call,
    TupleExpr,
    ObjectExpr,
    Unary,
    Binary,
    Conditional,
    ForExpr,
    Paren,
]


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    file: Path
    line: int


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
    file: Path
    line: int

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    attributes: tuple[Attribute, ...]
    blocks: tuple[Block, ...]
