"""Target tables compiled once into what their concrete targets share and what each renders.

A project's targets are mostly alike: a matrix table yields many targets, and tables
inherit most of their values from a few parents. Rendering and freezing every value again
for every concrete target was most of resolving, so `TableCompiler` looks at an (inherited)
table once: values without a template, and templates whose names hold the same value for
every target of the table (`{{ registry }}`, not `{{ target }}` or a matrix axis), are
frozen then; what is left are slots, each rendered per concrete target by
`CompiledTable.attributes`. The result is what `render_frozen` gives for each value in the
target's scope, errors included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from buildgraph.model.project import freeze
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME, BAKE_ATTRIBUTES, DEDUPLICATED
from buildgraph.resolve.templates import (
    StringTemplate,
    TemplateProblem,
    compile_string,
    is_template,
    render_frozen,
    render_string,
)

# Keys of a target table that become part of the resolved Target (the rest shape the table).
RENDERED_KEYS = frozenset({*ATTRIBUTES_BY_NAME, "depends_on", "watch"})

_UNSET: Any = object()

# Keys whose values the schema makes lists of strings, and tables of strings.
STRING_LISTS = frozenset(
    [a.name for a in BAKE_ATTRIBUTES if a.schema == {"type": "array", "items": {"type": "string"}}]
    + ["depends_on"]
)
STRING_TABLES = frozenset(
    a.name
    for a in BAKE_ATTRIBUTES
    if a.schema == {"type": "object", "additionalProperties": {"type": "string"}}
)

# A value being compiled: a plain string (a constant) or a template to render per target.
_Item = str | StringTemplate


class _Slot:
    """A value of a compiled table rendered for each concrete target."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def render(self, scope: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class _StringSlot(_Slot):
    __slots__ = ("template",)

    def __init__(self, key: str, template: StringTemplate) -> None:
        super().__init__(key)
        self.template = template

    def render(self, scope: Mapping[str, Any]) -> Any:
        return self.template.render(scope)


def _list_slot(key: str, items: tuple[_Item, ...]) -> _Slot:
    patterns = [item.pattern if isinstance(item, StringTemplate) else None for item in items]
    if all(isinstance(item, StringTemplate) for item in items) and None not in patterns:
        return _PatternListSlot(key, items, tuple(p for p in patterns if p is not None))
    return _ListSlot(key, items)


def _map_slot(key: str, entries: dict[str, Any], templated: dict[str, StringTemplate]) -> _Slot:
    if all(t.pattern is not None for t in templated.values()):
        return _PatternMapSlot(key, entries, templated)
    return _MapSlot(key, entries, templated)


class _ListSlot(_Slot):
    """A list of strings, some of them templates."""

    __slots__ = ("deduplicate", "items")

    def __init__(self, key: str, items: tuple[_Item, ...]) -> None:
        super().__init__(key)
        self.items = items
        self.deduplicate = key in DEDUPLICATED

    def render(self, scope: Mapping[str, Any]) -> Any:
        rendered = [item if isinstance(item, str) else item.render(scope) for item in self.items]
        return tuple(dict.fromkeys(rendered)) if self.deduplicate else tuple(rendered)


class _PatternListSlot(_ListSlot):
    """A list of strings all of which are templates of bare names (`{{ registry }}/x`)."""

    __slots__ = ("patterns",)

    def __init__(self, key: str, items: tuple[_Item, ...], patterns: tuple[str, ...]) -> None:
        super().__init__(key, items)
        self.patterns = patterns

    def render(self, scope: Mapping[str, Any]) -> Any:
        try:
            rendered = [pattern.format_map(scope) for pattern in self.patterns]
        except Exception:
            return super().render(scope)  # which says what is wrong
        return tuple(dict.fromkeys(rendered)) if self.deduplicate else tuple(rendered)


class _MapSlot(_Slot):
    """A table of strings under plain keys, some values templates: the constant entries
    are copied, with the templated ones in their places, and those filled in."""

    __slots__ = ("entries", "templated")

    def __init__(self, key: str, entries: dict[str, Any], templated: dict[str, StringTemplate]):
        super().__init__(key)
        self.entries = entries  # every key in file order; templated ones hold their template
        self.templated = tuple(templated.items())

    def render(self, scope: Mapping[str, Any]) -> Any:
        entries = self.entries.copy()
        for name, template in self.templated:
            entries[name] = template.render(scope)
        return MappingProxyType(entries)


class _PatternMapSlot(_MapSlot):
    """A `_MapSlot` whose templates are all of bare names."""

    __slots__ = ("patterns",)

    def __init__(self, key: str, entries: dict[str, Any], templated: dict[str, StringTemplate]):
        super().__init__(key, entries, templated)
        self.patterns = tuple((name, t.pattern) for name, t in templated.items())

    def render(self, scope: Mapping[str, Any]) -> Any:
        entries = self.entries.copy()
        try:
            for name, pattern in self.patterns:
                entries[name] = pattern.format_map(scope)  # type: ignore[union-attr]
        except Exception:
            return super().render(scope)  # which says what is wrong
        return MappingProxyType(entries)


class _ValueSlot(_Slot):
    """Any other value holding a template (nested tables, tables with templated keys)."""

    __slots__ = ("value",)

    def __init__(self, key: str, value: Any) -> None:
        super().__init__(key)
        self.value = value

    def render(self, scope: Mapping[str, Any]) -> Any:
        rendered = render_frozen(self.value, scope)
        return tuple(dict.fromkeys(rendered)) if self.key in DEDUPLICATED else rendered


@dataclass(frozen=True, slots=True)
class CompiledTable:
    """A target table's attributes: frozen where every target shares them, slots elsewhere."""

    # Every rendered key in table order; a slot's key holds None until it is rendered.
    constants: dict[str, Any]
    slots: tuple[_Slot, ...]

    def attributes(
        self, scope: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, TemplateProblem]]]:
        """The frozen attributes of the target whose templates see `scope`, and each key
        whose value could not be rendered (then missing from the attributes)."""
        attrs = self.constants.copy()  # a slot's value replaces None in its place
        failed: list[tuple[str, TemplateProblem]] = []
        for slot in self.slots:
            try:
                attrs[slot.key] = slot.render(scope)
            except TemplateProblem as exc:
                failed.append((slot.key, exc))
        for key, _ in failed:
            del attrs[key]
        return attrs, failed


class TableCompiler:
    """Compiles tables whose templates see `scope` plus, per target, some `varying` names."""

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope
        # Template text -> its value in `scope` (None when that fails: then it is rendered
        # per target, which reports the problem with the target and key).
        self._in_scope: dict[str, str | None] = {}
        # Values of strings only, compiled: children of one parent repeat its values.
        self._compiled: dict[tuple[str, type, Any, frozenset[str]], Any] = {}

    def compile(self, table: Mapping[str, Any], varying: Iterable[str]) -> CompiledTable:
        """`table`'s rendered keys compiled; `varying` names differ between its targets."""
        varying = frozenset(varying)
        constants: dict[str, Any] = {}
        slots: list[_Slot] = []
        for key, value in table.items():
            if key not in RENDERED_KEYS:
                continue
            compiled = self._cached_value(key, value, varying)
            if isinstance(compiled, _Slot):
                constants[key] = None
                slots.append(compiled)
            else:
                constants[key] = compiled
        return CompiledTable(constants, tuple(slots))

    def _item(self, text: str, varying: frozenset[str]) -> _Item:
        """`text` itself, its value when every target renders it the same, or its template."""
        if "{" not in text or not is_template(text):
            return text
        template = compile_string(text)
        if template.reads is None or not template.reads.isdisjoint(varying):
            return template
        if text not in self._in_scope:
            try:
                self._in_scope[text] = render_string(text, self.scope)
            except Exception:  # rendered per target, each then failing as it always did
                self._in_scope[text] = None
        rendered = self._in_scope[text]
        return template if rendered is None else rendered

    def _cached_value(self, key: str, value: Any, varying: frozenset[str]) -> Any:
        """`_value`, once for each list or table made of strings only (most are)."""
        kind = type(value)
        if kind is str:  # looking at a string costs no more than finding it in a cache
            return self._value(key, value, varying)
        # The schema makes these lists and tables of strings; other values can be equal
        # without being the same (1 == True), so they are not looked up.
        if key in STRING_LISTS and kind is list:
            content: Any = tuple(value)
        elif key in STRING_TABLES and kind is dict:
            content = tuple(value.items())
        else:
            return self._value(key, value, varying)
        cache_key = (key, kind, content, varying)
        compiled = self._compiled.get(cache_key, _UNSET)
        if compiled is _UNSET:
            compiled = self._compiled[cache_key] = self._value(key, value, varying)
        return compiled

    def _value(self, key: str, value: Any, varying: frozenset[str]) -> Any:
        """A slot rendering `value` per target, or its frozen value when it is the same for
        every target."""
        kind = type(value)
        if kind is str:
            item = self._item(value, varying)
            return item if isinstance(item, str) else _StringSlot(key, item)
        if kind is list and all(type(v) is str for v in value):
            items = tuple([self._item(v, varying) for v in value])
            if any(type(item) is not str for item in items):
                return _list_slot(key, items)
            return tuple(dict.fromkeys(items)) if key in DEDUPLICATED else items
        if kind is dict and all(type(v) is str and "{" not in k for k, v in value.items()):
            entries = {k: self._item(v, varying) for k, v in value.items()}
            templated = {k: v for k, v in entries.items() if isinstance(v, StringTemplate)}
            return _map_slot(key, entries, templated) if templated else MappingProxyType(entries)
        if _has_brace(value):
            return _ValueSlot(key, value)
        frozen = freeze(value)
        return tuple(dict.fromkeys(frozen)) if key in DEDUPLICATED else frozen


def _has_brace(value: Any) -> bool:
    """Whether any string in a TOML value (table keys too) holds a brace."""
    kind = type(value)
    if kind is str:
        return "{" in value
    if kind is list:
        return any(_has_brace(v) for v in value)
    if kind is dict:
        return any("{" in k or _has_brace(v) for k, v in value.items())
    return False
