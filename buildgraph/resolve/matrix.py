"""Expanding a matrix into its combinations, deterministically.

Axes in file order, values in listed order, the last axis varying fastest; then the
excluded combinations are removed and the included ones appended, as CI matrices do.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

Combination = dict[str, Any]


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
    _check_entries(exclude, names, "matrix-exclude", exact=False)
    _check_entries(include, names, "matrix-include", exact=True)
    product = [
        dict(zip(names, values, strict=True)) for values in itertools.product(*axes.values())
    ]
    kept = [c for c in product if not any(_matches(c, e) for e in exclude)]
    for extra in include:
        combination = {name: extra[name] for name in names}
        if combination not in kept:
            kept.append(combination)
    return kept


def _matches(combination: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    return all(combination.get(k) == v for k, v in pattern.items())


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
