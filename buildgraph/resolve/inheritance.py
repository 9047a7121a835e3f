"""`inherits`, bake's way: parents in order, later parents win, the table's own values
win over all; maps merge key by key, the lists bake accumulates are appended parent
first, everything else is replaced (projectfile/attributes.py says which is which). The
keys that shape a table (inherits, matrix, name) are never inherited. A cycle is an
error (bake accepts it silently).

Inheritance works on the raw tables, before any template renders, so a parent's
`{{ target }}` names each child.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from buildgraph.errors import did_you_mean
from buildgraph.projectfile.attributes import BAKE_ATTRIBUTES, NOT_INHERITED, Merge

_MAP_KEYS = frozenset(a.name for a in BAKE_ATTRIBUTES if a.merge is Merge.MAP)
_APPEND_KEYS = frozenset(a.name for a in BAKE_ATTRIBUTES if a.merge is Merge.APPEND)


class MapLayers(tuple[Any, ...]):
    """A table attribute (`args`, `labels`, ...) merged from parents where some give it as
    a whole `{{ expression }}`, which has no keys before it renders: the layers in merge
    order, merged key by key once rendered (`table_compiler`)."""

    __slots__ = ()


def _layers(value: Any) -> tuple[Any, ...]:
    return tuple(value) if type(value) is MapLayers else (value,)


class InheritProblem(Exception):
    """A table's inherits cannot be followed: reported with the table that says it."""

    def __init__(self, message: str, target: str, hint: str | None) -> None:
        super().__init__(message)
        self.target = target
        self.hint = hint


class Inheritance:
    """The target tables of a document with their parents merged in, each merged once.

    Parents are followed with an explicit stack, not recursion: a chain of thousands of
    tables, or a cycle through thousands, is an answer, not a RecursionError."""

    def __init__(self, tables: Mapping[str, dict[str, Any]]) -> None:
        self.tables = tables
        self._merged: dict[str, dict[str, Any]] = {}
        self._failed: dict[str, InheritProblem] = {}  # each table on a failed walk

    def table(self, name: str) -> dict[str, Any]:
        """The table of `name` with its parents merged in, bake's way."""
        merged = self._merged.get(name)
        if merged is not None:
            return merged
        failed = self._failed.get(name)
        if failed is not None:
            raise failed
        for parent in self.tables[name].get("inherits", ()):
            if parent not in self._merged or "matrix" in self.tables[parent]:
                break
        else:  # most tables: no parent, or parents merged already (the common few)
            merged = self._merged[name] = self._merge(name)
            return merged
        # Depth first, parents before children: each entry is a table and how many of its
        # parents have been looked at; `path` is the chain from `name` down to the top one.
        stack: list[tuple[str, int]] = [(name, 0)]
        path: dict[str, None] = {name: None}  # ordered, and a set
        try:
            while stack:
                current, seen = stack[-1]
                parents = self.tables[current].get("inherits", [])
                if seen == len(parents):
                    self._merged[current] = self._merge(current)
                    stack.pop()
                    del path[current]
                    continue
                stack[-1] = (current, seen + 1)
                parent = parents[seen]
                if parent in self._merged and "matrix" not in self.tables[parent]:
                    continue
                self._check_parent(current, parent, path)
                stack.append((parent, 0))
                path[parent] = None
        except InheritProblem as problem:
            for table in path:
                self._failed[table] = problem
            raise
        return self._merged[name]

    def _check_parent(self, child: str, parent: str, path: Mapping[str, None]) -> None:
        if parent not in self.tables:
            raise InheritProblem(
                f"inherits unknown target {parent!r}",
                child,
                did_you_mean(parent, self.tables) or "inherit from a [target.NAME] table",
            )
        if "matrix" in self.tables[parent]:
            raise InheritProblem(
                f"inherits matrix target {parent!r}",
                child,
                "inherit from an abstract parent (a name starting with '_') shared by both",
            )
        if parent in path:
            chain = list(path)
            raise InheritProblem(
                f"inherits cycle: {_cycle_text([*chain[chain.index(parent) :], parent])}",
                child,
                "bake would accept this silently; remove one of the links",
            )
        failed = self._failed.get(parent)
        if failed is not None:
            raise failed

    def _merge(self, name: str) -> dict[str, Any]:
        """`name`'s table over its parents, which are merged already."""
        table = self.tables[name]
        merged: dict[str, Any] = {}
        for parent in table.get("inherits", []):
            merged = merge_tables(merged, self._merged[parent])
        merged = merge_tables(merged, {k: v for k, v in table.items() if k not in NOT_INHERITED})
        for key in NOT_INHERITED:
            if key in table:
                merged[key] = table[key]
        return merged


def _cycle_text(cycle: list[str]) -> str:
    """`a -> b -> a`; a long cycle by its ends and its length."""
    if len(cycle) <= 8:
        return " -> ".join(cycle)
    return " -> ".join(cycle[:3]) + f" -> ... ({len(cycle) - 5} more) -> " + " -> ".join(cycle[-2:])


def merge_tables(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """`child` laid over `base` with bake's merge rules: maps by key, some lists appended."""
    merged = dict(base)
    for key, value in child.items():
        if key in _MAP_KEYS:
            below = merged.get(key)
            if isinstance(below, dict) and isinstance(value, dict):
                value = {**below, **value}
            elif below is not None:  # a whole expression on either side: merged rendered
                value = MapLayers((*_layers(below), *_layers(value)))
        elif key in _APPEND_KEYS:
            below = merged.get(key)
            if below is not None:  # a string is a whole expression: one item, spliced
                value = [
                    *(below if isinstance(below, list) else [below]),
                    *(value if isinstance(value, list) else [value]),
                ]
        merged[key] = value
    return merged
