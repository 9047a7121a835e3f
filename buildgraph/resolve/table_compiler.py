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
from typing import Any, NamedTuple

from buildgraph.model.project import freeze
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME, BAKE_ATTRIBUTES
from buildgraph.resolve.attribute_values import (
    SHAPES,
    UNSET,
    Shape,
    attribute_value,
    list_value,
    normalized,
    spliced,
    table_value,
)
from buildgraph.resolve.inheritance import MapLayers
from buildgraph.resolve.template_values import TemplateProblem
from buildgraph.resolve.templates import (
    StringTemplate,
    compile_string,
    is_template,
    render_frozen,
    render_string,
    template_value,
    whole_expression,
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


class _Native(NamedTuple):
    """The value of a whole `{{ expression }}` that is the same for every target."""

    value: Any


# A string being compiled: plain text, a whole expression's value (both the same for every
# target), or a template to render per target.
_Item = str | _Native | StringTemplate


class _Slot:
    """A value of a compiled table rendered for each concrete target."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def render(self, scope: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class _StringSlot(_Slot):
    __slots__ = ("template", "text")

    def __init__(self, key: str, template: StringTemplate) -> None:
        super().__init__(key)
        self.template = template
        self.text = SHAPES.get(key) is Shape.TEXT  # where text is what a value must be

    def render(self, scope: Mapping[str, Any]) -> Any:
        if self.template.whole is None:
            return self.template.render(scope)
        value = self.template.value(scope)
        return value if type(value) is str and self.text else attribute_value(self.key, value)


def _patterned(template: StringTemplate) -> bool:
    """Whether `template` renders by its pattern: every expression a bare name, and, when
    it is one whole `{{ name }}`, only while that name holds text (`_text_names`)."""
    return template.pattern is not None and (
        template.whole is None or template.pattern == "{" + template.whole.strip() + "}"
    )


def _text_names(templates: Iterable[StringTemplate]) -> tuple[str, ...]:
    """The names of the whole `{{ name }}`s: their pattern is right while they hold text."""
    return tuple(t.whole.strip() for t in templates if t.whole is not None)


def _list_slot(key: str, items: tuple[_Item, ...]) -> _Slot:
    if all(type(item) is StringTemplate and _patterned(item) for item in items):
        templates: tuple[StringTemplate, ...] = items  # type: ignore[assignment]
        return _PatternListSlot(key, items, tuple(t.pattern for t in templates))  # type: ignore[misc]
    return _ListSlot(key, items)


def _map_slot(key: str, entries: dict[str, Any], templated: dict[str, StringTemplate]) -> _Slot:
    if all(_patterned(t) for t in templated.values()):
        return _PatternMapSlot(key, entries, templated)
    return _MapSlot(key, entries, templated)


def _list_items(key: str, items: Iterable[_Item], scope: Mapping[str, Any]) -> tuple[Any, ...]:
    """The items of a list of strings in `scope`: whole expressions spliced in."""
    rendered: list[Any] = []
    for item in items:
        if type(item) is str:
            rendered.append(item)
        elif type(item) is _Native:
            rendered.extend(spliced(key, item.value))
        elif item.whole is not None:  # type: ignore[union-attr]
            rendered.extend(spliced(key, item.value(scope)))  # type: ignore[union-attr]
        else:
            rendered.append(item.render(scope))  # type: ignore[union-attr]
    return list_value(key, rendered)


class _ListSlot(_Slot):
    """A list of strings, some of them templates."""

    __slots__ = ("items",)

    def __init__(self, key: str, items: tuple[_Item, ...]) -> None:
        super().__init__(key)
        self.items = items

    def render(self, scope: Mapping[str, Any]) -> Any:
        return _list_items(self.key, self.items, scope)


class _PatternListSlot(_ListSlot):
    """A list of strings all of which are templates of bare names (`{{ registry }}/x`)."""

    __slots__ = ("patterns", "text_names")

    def __init__(self, key: str, items: tuple[_Item, ...], patterns: tuple[str, ...]) -> None:
        super().__init__(key, items)
        self.patterns = patterns
        self.text_names = _text_names(items)  # type: ignore[arg-type]

    def render(self, scope: Mapping[str, Any]) -> Any:
        for name in self.text_names:
            if type(scope.get(name)) is not str:
                return super().render(scope)  # a list to splice, none to drop, ...
        try:
            rendered = [pattern.format_map(scope) for pattern in self.patterns]
        except Exception:
            return super().render(scope)  # which says what is wrong
        return normalized(self.key, tuple(rendered))


class _MapSlot(_Slot):
    """A table of strings under plain keys, some values templates: the constant entries
    are copied, with the templated ones in their places, and those filled in."""

    __slots__ = ("entries", "native", "templated")

    def __init__(
        self,
        key: str,
        entries: dict[str, Any],
        templated: dict[str, StringTemplate],
        native: bool = False,
    ):
        super().__init__(key)
        self.entries = entries  # every key in file order; templated ones hold their template
        self.templated = tuple(templated.items())
        self.native = native  # whether some constant entries are values (none, numbers)

    def render(self, scope: Mapping[str, Any]) -> Any:
        entries = self.entries.copy()
        wholes = self.native
        for name, template in self.templated:
            if template.whole is None:
                entries[name] = template.render(scope)
            else:
                entries[name] = template.value(scope)
                wholes = True
        if wholes:  # values of any kind, and nones to drop
            return table_value(self.key, entries.items())
        return MappingProxyType(entries)


class _PatternMapSlot(_MapSlot):
    """A `_MapSlot` whose templates are all of bare names."""

    __slots__ = ("patterns", "text_names")

    def __init__(self, key: str, entries: dict[str, Any], templated: dict[str, StringTemplate]):
        super().__init__(key, entries, templated)
        self.patterns = tuple((name, t.pattern) for name, t in templated.items())
        self.text_names = _text_names(templated.values())

    def render(self, scope: Mapping[str, Any]) -> Any:
        for name in self.text_names:
            if type(scope.get(name)) is not str:
                return super().render(scope)  # none to drop, a number to print, ...
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
        return normalized(self.key, rendered) if type(rendered) is tuple else rendered


class _FailedSlot(_Slot):
    """A value that failed when compiled: each target reports it, as rendering would."""

    __slots__ = ("problem",)

    def __init__(self, key: str, problem: TemplateProblem) -> None:
        super().__init__(key)
        self.problem = problem

    def render(self, scope: Mapping[str, Any]) -> Any:
        raise self.problem


class _MixedListSlot(_Slot):
    """A list of entries (strings and tables) some of whose strings are whole
    expressions: those spliced in, every other item rendered as a value."""

    __slots__ = ("items",)

    def __init__(self, key: str, items: list[Any]) -> None:
        super().__init__(key)
        self.items = items

    def render(self, scope: Mapping[str, Any]) -> Any:
        rendered: list[Any] = []
        for item in self.items:
            if type(item) is str and whole_expression(item) is not None:
                rendered.extend(spliced(self.key, template_value(item, scope)))
            else:
                rendered.append(render_frozen(item, scope))
        return list_value(self.key, rendered)


class _LayersSlot(_Slot):
    """A table inherited from parents and laid over by children where some of them give it
    as a whole expression (`args = "{{ BASE_ARGS }}"`): each rendered, then merged key by
    key, later layers winning, as bake merges them."""

    __slots__ = ("layers",)

    def __init__(self, key: str, layers: tuple[Any, ...]) -> None:
        super().__init__(key)
        self.layers = layers  # each a constant table, UNSET, or a slot

    def render(self, scope: Mapping[str, Any]) -> Any:
        return _merged_layers(
            [layer.render(scope) if isinstance(layer, _Slot) else layer for layer in self.layers]
        )


def _merged_layers(layers: Iterable[Any]) -> Any:
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is not UNSET:
            merged.update(layer)
    return MappingProxyType(merged)


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
        if UNSET in attrs.values():  # `{{ none }}`: as if not written
            attrs = {key: value for key, value in attrs.items() if value is not UNSET}
        return attrs, failed


class TableCompiler:
    """Compiles tables whose templates see `scope` plus, per target, some `varying` names."""

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope
        # Template text -> its value in `scope` (_UNSET when that fails: then it is
        # rendered per target, which reports the problem with the target and key).
        self._in_scope: dict[str, Any] = {}
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
            try:
                compiled = self._cached_value(key, value, varying)
            except TemplateProblem as exc:  # a value every target has, of the wrong shape
                compiled = _FailedSlot(key, exc)
            if isinstance(compiled, _Slot):
                constants[key] = None
                slots.append(compiled)
            elif compiled is not UNSET:
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
                value = (
                    render_string(text, self.scope)
                    if template.whole is None
                    else template.value(self.scope)
                )
                # Text is the same whether printed or not; only other values are _Native.
                self._in_scope[text] = value if type(value) is str else _Native(value)
            except Exception:  # rendered per target, each then failing as it always did
                self._in_scope[text] = _UNSET
        rendered = self._in_scope[text]
        return template if rendered is _UNSET else rendered

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
            if type(item) is str:
                return item
            if type(item) is _Native:
                return attribute_value(key, item.value)
            return _StringSlot(key, item)  # type: ignore[arg-type]
        if kind is list and all(type(v) is str for v in value):
            items = tuple([self._item(v, varying) for v in value])
            if any(type(item) is StringTemplate for item in items):
                return _list_slot(key, items)
            if any(type(item) is _Native for item in items):
                return _list_items(key, items, self.scope)
            return normalized(key, items)
        if kind is list and any(type(v) is str and whole_expression(v) for v in value):
            return _MixedListSlot(key, value)
        if kind is dict and all(type(v) is str and "{" not in k for k, v in value.items()):
            entries = {k: self._item(v, varying) for k, v in value.items()}
            templated = {k: v for k, v in entries.items() if isinstance(v, StringTemplate)}
            if any(type(v) is _Native for v in entries.values()):
                entries = {k: v.value if type(v) is _Native else v for k, v in entries.items()}
                if not templated:
                    return table_value(key, entries.items())
                return _MapSlot(key, entries, templated, native=True)
            return _map_slot(key, entries, templated) if templated else MappingProxyType(entries)
        if kind is MapLayers:
            layers = tuple(self._value(key, layer, varying) for layer in value)
            if any(isinstance(layer, _Slot) for layer in layers):
                return _LayersSlot(key, layers)
            return _merged_layers(layers)
        if _has_brace(value):
            return _ValueSlot(key, value)
        frozen = freeze(value)
        return normalized(key, frozen) if type(frozen) is tuple else frozen


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
