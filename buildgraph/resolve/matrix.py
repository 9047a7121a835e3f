"""Expanding a matrix into its combinations, deterministically.

Axes in file order, values in listed order, the last axis varying fastest; then the
excluded combinations are removed and the included ones appended, as CI matrices do.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

Combination = dict[str, Any]

# The most combinations one matrix table may have (before its excludes): refused before
# anything is expanded, so a matrix of ten axes of ten values is an error, not 10^10 names.
MAX_COMBINATIONS = 10_000


class MatrixProblem(Exception):
    def __init__(self, message: str, key: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.hint = hint


def expand_matrix(
    axes: Mapping[str, Sequence[Any]],
    include: Sequence[Mapping[str, Any]] = (),
    exclude: Sequence[Mapping[str, Any]] = (),
) -> list[Combination]:
    """Every combination: product of the axes, minus exclude, plus include, without repeats."""
    names = list(axes)
    size = math.prod(len(values) for values in axes.values())
    if size + len(include) > MAX_COMBINATIONS:
        raise MatrixProblem(
            f"the matrix has {size:,} combinations"
            + (f" and {len(include):,} included" if include else ""),
            "matrix",
            hint=f"a matrix table may have at most {MAX_COMBINATIONS:,} combinations "
            "(the product of its axes' lengths, plus matrix-include); split it into "
            "several tables",
        )
    _check_entries(exclude, names, "matrix-exclude", exact=False)
    _check_entries(include, names, "matrix-include", exact=True)
    if not exclude and not include:
        return [
            dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
        ]
    # Values compare as bake compares them: 1 is not true, "1" is not 1 (Python's own
    # equality says 1 == True).
    patterns = [[(names.index(k), same_as(v)) for k, v in entry.items()] for entry in exclude]
    keyed = [[(value, same_as(value)) for value in values] for values in axes.values()]
    kept: list[Combination] = []
    present: set[tuple[Any, ...]] = set()
    for combination in itertools.product(*keyed):
        key = tuple(k for _, k in combination)
        if any(all(key[axis] == v for axis, v in pattern) for pattern in patterns):
            continue
        kept.append(dict(zip(names, (value for value, _ in combination), strict=True)))
        present.add(key)
    for extra in include:
        key = tuple(same_as(extra[name]) for name in names)
        if key not in present:
            present.add(key)
            kept.append({name: extra[name] for name in names})
    return kept


def same_as(value: Any) -> Any:
    """What `value` is equal to as bake sees it: its kind and its content (numbers by
    value, so 1 and 1.0 are one number; booleans, strings and numbers never equal)."""
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if kind is int or kind is float:
        return ("number", value)
    if kind is str:
        return ("string", value)
    if isinstance(value, Mapping):
        return ("object", tuple(sorted((k, same_as(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("tuple", tuple(same_as(v) for v in value))
    return (kind.__name__, value)


def _check_entries(
    entries: Sequence[Mapping[str, Any]], names: Sequence[str], key: str, *, exact: bool
) -> None:
    for entry in entries:
        unknown = [k for k in entry if k not in names]
        if unknown:
            raise MatrixProblem(
                f"{key} entry {dict(entry)!r} names {unknown[0]!r}, which is not a matrix axis",
                key,
                hint=f"matrix axes: {', '.join(names)}",
            )
        missing = [n for n in names if n not in entry]
        if exact and missing:
            raise MatrixProblem(
                f"{key} entry {dict(entry)!r} gives no value for axis {missing[0]!r}",
                key,
                hint="an included combination needs a value for every axis",
            )
