from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from buildgraph.resolve.matrix import MatrixProblem, expand_matrix


def test_order_is_axes_in_file_order_last_axis_fastest() -> None:
    combos = expand_matrix({"py": ["3.11", "3.12"], "flavor": ["slim", "full"]})
    assert combos == [
        {"py": "3.11", "flavor": "slim"},
        {"py": "3.11", "flavor": "full"},
        {"py": "3.12", "flavor": "slim"},
        {"py": "3.12", "flavor": "full"},
    ]


def test_exclude_matches_on_the_keys_it_names() -> None:
    combos = expand_matrix({"a": [1, 2], "b": ["x", "y"]}, exclude=[{"a": 1}])
    assert combos == [{"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_include_appends_new_and_skips_present_combinations() -> None:
    combos = expand_matrix({"a": [1], "b": ["x"]}, include=[{"a": 1, "b": "x"}, {"a": 3, "b": "z"}])
    assert combos == [{"a": 1, "b": "x"}, {"a": 3, "b": "z"}]


def test_exclude_naming_an_unknown_axis_is_an_error() -> None:
    with pytest.raises(MatrixProblem, match="'pyton', which is not a matrix axis") as info:
        expand_matrix({"python": ["3"]}, exclude=[{"pyton": "3"}])
    assert info.value.key == "matrix-exclude"


def test_include_must_give_every_axis() -> None:
    with pytest.raises(MatrixProblem, match="no value for axis 'b'"):
        expand_matrix({"a": [1], "b": [2]}, include=[{"a": 5}])


axes = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=3),
    st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True),
    min_size=1,
    max_size=3,
)


@given(axes=axes, data=st.data())
def test_matrix_is_product_minus_exclude_plus_include_each_once(axes, data) -> None:  # type: ignore[no-untyped-def]
    names = list(axes)
    combo = st.fixed_dictionaries({n: st.integers(0, 5) for n in names})
    exclude = data.draw(st.lists(combo, max_size=3))
    include = data.draw(st.lists(combo, max_size=3))
    result = expand_matrix(axes, include=include, exclude=exclude)

    product = [dict(zip(names, v, strict=True)) for v in itertools.product(*axes.values())]
    expected = [c for c in product if c not in exclude]
    for extra in include:
        if extra not in expected:
            expected.append(extra)
    assert result == expected
    keys = [tuple(sorted(c.items())) for c in result]
    assert len(keys) == len(set(keys))  # each combination once
