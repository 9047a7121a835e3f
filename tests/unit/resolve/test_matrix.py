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


def test_a_matrix_larger_than_the_limit_is_refused_before_expanding() -> None:
    import time

    from buildgraph.resolve.matrix import MAX_COMBINATIONS

    started = time.perf_counter()
    with pytest.raises(MatrixProblem) as info:
        expand_matrix({f"a{i}": list(range(10)) for i in range(10)})
    assert time.perf_counter() - started < 0.5
    assert info.value.key == "matrix"
    assert "10,000,000,000 combinations" in str(info.value)
    assert f"{MAX_COMBINATIONS:,}" in (info.value.hint or "")


def test_the_limit_itself_is_allowed() -> None:
    assert len(expand_matrix({"a": list(range(100)), "b": list(range(100))})) == 10_000


@pytest.mark.parametrize(
    ("axis", "pattern", "kept"),
    [
        ([1, True], {"a": True}, [1]),
        ([1, True], {"a": 1}, [True]),
        (["1", 1], {"a": 1}, ["1"]),
        ([0, False], {"a": False}, [0]),
        ([1, 2], {"a": 1.0}, [2]),  # numbers compare by value, as bake's do
    ],
)
def test_exclude_compares_values_as_bake_does(
    axis: list[object], pattern: dict[str, object], kept: list[object]
) -> None:
    combos = expand_matrix({"a": axis}, exclude=[pattern])
    assert [c["a"] for c in combos] == kept
    assert [type(c["a"]) for c in combos] == [type(v) for v in kept]


def test_include_of_true_is_not_the_present_1() -> None:
    combos = expand_matrix({"a": [1]}, include=[{"a": True}, {"a": 1}])
    assert [(c["a"], type(c["a"])) for c in combos] == [(1, int), (True, bool)]
