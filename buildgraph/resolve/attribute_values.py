"""What a whole `{{ expression }}` yields, as the attribute holding it keeps it.

A template that is one whole expression is a value, not text (`templates.template_value`):
`platforms = "{{ PLATFORMS }}"` is a list, `args = "{{ BASE_ARGS }}"` a table,
`pull = "{{ PULL }}"` a boolean, and `"{{ none }}"` unsets what holds it, as bake's `null`
does: a scalar attribute as if not written, a table's entry and a list's item dropped.
Inside a list, an item yielding a list is spliced in its place. Here each such value is
checked against the shape its attribute has (the schema's), and frozen as the resolved
model keeps values; a value of the wrong shape is a `TemplateProblem`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from types import MappingProxyType
from typing import Any

from buildgraph.model.entries import ENTRY_KEYS
from buildgraph.model.project import freeze
from buildgraph.projectfile.attributes import BAKE_ATTRIBUTES, DEDUPLICATED
from buildgraph.resolve.template_values import TemplateProblem, bake_text


class Shape(Enum):
    TEXT = "text"
    BOOLEAN = "a boolean"
    LIST = "a list of text"
    ENTRIES = "a list of entries"
    TABLE = "a table of text"
    OTHER = "a value"


def _shape_of(schema: dict[str, Any], name: str) -> Shape:
    kind = schema.get("type")
    if name in ENTRY_KEYS:
        return Shape.ENTRIES
    if kind == "string":
        return Shape.TEXT
    if kind == "boolean":
        return Shape.BOOLEAN
    if kind == "array":
        return Shape.LIST
    if kind == "object" and schema.get("additionalProperties") == {"type": "string"}:
        return Shape.TABLE
    return Shape.OTHER


SHAPES: dict[str, Shape] = {a.name: _shape_of(a.schema, a.name) for a in BAKE_ATTRIBUTES}
SHAPES["depends_on"] = Shape.LIST

# A whole expression yielding none: the key is as if not written.
UNSET: Any = type("Unset", (), {"__repr__": lambda self: "UNSET", "__slots__": ()})()

_SCALARS = (str, int, float, bool)


def attribute_value(key: str, value: Any) -> Any:
    """`value`, the whole-expression value of attribute `key`, as the model keeps it;
    UNSET for none."""
    if value is None:
        return UNSET
    shape = SHAPES.get(key, Shape.OTHER)
    if shape is Shape.TEXT:
        return _text(key, value)
    if shape is Shape.BOOLEAN:
        return _boolean(key, value)
    if shape is Shape.LIST or shape is Shape.ENTRIES:
        return list_value(key, spliced(key, value))
    if shape is Shape.TABLE:
        if not isinstance(value, dict):
            raise _wrong_shape(key, shape, value)
        return table_value(key, value.items())
    return freeze(value)


def spliced(key: str, value: Any) -> list[Any]:
    """The items a whole-expression item of list `key` stands for: a list's items, no item
    for none, else the one item."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    entries = SHAPES.get(key) is Shape.ENTRIES
    out: list[Any] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, str):
            out.append(item)
        elif entries and isinstance(item, dict):
            out.append(_entry(key, item))
        elif isinstance(item, _SCALARS):
            out.append(str(bake_text(item)))
        else:
            shape = SHAPES.get(key, Shape.LIST)
            raise TemplateProblem(
                f"key {key!r} holds {shape.value}; the template yields an item that is "
                f"{_what(item)}",
                hint="flatten nested lists: {{ flatten([a, b]) }} or a + b",
            )
    return out


def list_value(key: str, items: list[Any]) -> tuple[Any, ...]:
    """The items of list `key`, frozen, duplicates and empty text dropped where bake drops
    them."""
    frozen = tuple(items) if SHAPES.get(key) is not Shape.ENTRIES else tuple(map(freeze, items))
    return normalized(key, frozen)


def normalized(key: str, items: tuple[Any, ...]) -> tuple[Any, ...]:
    """`items` of list `key` as bake's normalize leaves them: in the lists it deduplicates
    (tags, platforms, ...), the first of each, and no empty text (`split(",", "")`)."""
    if key not in DEDUPLICATED:
        return items
    if "" in items:
        return tuple(dict.fromkeys(item for item in items if item != ""))
    return tuple(dict.fromkeys(items))


def table_value(key: str, entries: Iterable[tuple[Any, Any]]) -> MappingProxyType[str, str]:
    """A table of text under `key`: entries whose value is none dropped, numbers and
    booleans as bake prints them."""
    table: dict[str, str] = {}
    for name, value in entries:
        if value is None:
            continue
        if not isinstance(name, str) or not isinstance(value, _SCALARS):
            raise TemplateProblem(
                f"key {key!r} holds a table of text; entry {name!r} is {_what(value)}",
                hint='each entry is NAME = "text" (or none, which drops it)',
            )
        table[name] = value if isinstance(value, str) else str(bake_text(value))
    return MappingProxyType(table)


def _text(key: str, value: Any) -> str:
    if isinstance(value, _SCALARS):
        return value if isinstance(value, str) else str(bake_text(value))
    raise _wrong_shape(key, Shape.TEXT, value)


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):  # as bake converts text to a boolean
        return bool(value == "true")
    raise _wrong_shape(key, Shape.BOOLEAN, value)


def _entry(key: str, entry: dict[Any, Any]) -> dict[str, Any]:
    if all(isinstance(k, str) and isinstance(v, _SCALARS) for k, v in entry.items()):
        return entry
    raise TemplateProblem(
        f"key {key!r} holds entries; the template yields a table that is not NAME = value",
        hint='an entry is "type=registry,ref=..." or a table of text, numbers and booleans',
    )


def _wrong_shape(key: str, shape: Shape, value: Any) -> TemplateProblem:
    return TemplateProblem(
        f"key {key!r} holds {shape.value}; the template yields {_what(value)}",
        hint="a whole {{ expression }} is a value: make it yield "
        + ("none or " if shape is not Shape.OTHER else "")
        + shape.value,
    )


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
