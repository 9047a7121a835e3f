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


class InheritProblem(Exception):
    """A table's inherits cannot be followed: reported with the table that says it."""

    def __init__(self, message: str, target: str, hint: str | None) -> None:
        super().__init__(message)
        self.target = target
        self.hint = hint


_MAP_KEYS = frozenset(a.name for a in BAKE_ATTRIBUTES if a.merge is Merge.MAP)
_APPEND_KEYS = frozenset(a.name for a in BAKE_ATTRIBUTES if a.merge is Merge.APPEND)


class Inheritance:
    """The target tables of a document with their parents merged in, each merged once."""

    def __init__(self, tables: Mapping[str, dict[str, Any]]) -> None:
        self.tables = tables
        self._merged: dict[str, dict[str, Any]] = {}

    def table(self, name: str, chain: tuple[str, ...] = ()) -> dict[str, Any]:
        """The table of `name` with its parents merged in, bake's way."""
        if name in self._merged:
            return self._merged[name]
        if name in chain:
            cycle = " -> ".join((*chain[chain.index(name) :], name))
            raise InheritProblem(
                f"inherits cycle: {cycle}",
                chain[-1],
                "bake would accept this silently; remove one of the links",
            )
        table = self.tables[name]
        merged: dict[str, Any] = {}
        for parent in table.get("inherits", []):
            if parent not in self.tables:
                raise InheritProblem(
                    f"inherits unknown target {parent!r}",
                    name,
                    did_you_mean(parent, self.tables) or "inherit from a [target.NAME] table",
                )
            if "matrix" in self.tables[parent]:
                raise InheritProblem(
                    f"inherits matrix target {parent!r}",
                    name,
                    "inherit from an abstract parent (a name starting with '_') shared by both",
                )
            merged = merge_tables(merged, self.table(parent, (*chain, name)))
        merged = merge_tables(merged, {k: v for k, v in table.items() if k not in NOT_INHERITED})
        for key in NOT_INHERITED:
            if key in table:
                merged[key] = table[key]
        self._merged[name] = merged
        return merged


def merge_tables(base: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """`child` laid over `base` with bake's merge rules: maps by key, some lists appended."""
    merged = dict(base)
    for key, value in child.items():
        if key in _MAP_KEYS:
            below = merged.get(key)
            if isinstance(below, dict):
                value = {**below, **value}
        elif key in _APPEND_KEYS:
            below = merged.get(key)
            if isinstance(below, list):
                value = [*below, *value]
        merged[key] = value
    return merged
