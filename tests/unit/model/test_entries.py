from __future__ import annotations

import pytest

from buildgraph.model.entries import (
    EntryError,
    entry_error,
    entry_fields,
    map_entry_paths,
    without_empty_entries,
)


@pytest.mark.parametrize(
    "entry",
    [
        "type=registry,name=a\nb",
        'type=registry,"name=a\nb"',
        "type=local,dest=x\ry",
        "dir\nname",
        {"type": "registry", "name": "a\nb"},
    ],
)
def test_a_line_break_in_an_entry_is_refused_without_its_text(entry: object) -> None:
    error = entry_error(entry)
    assert error is not None and "line break" in error
    assert "name=a" not in error and "dest=x" not in error
    if isinstance(entry, str):
        with pytest.raises(EntryError, match="line break"):
            entry_fields(entry)


def test_entries_on_one_line_still_read_as_before() -> None:
    assert entry_error("type=registry,name=a") is None
    assert entry_fields('type=registry,"name=a,b"') == {"type": "registry", "name": "a,b"}
    assert entry_fields("out") == {"type": "local", "dest": "out"}
    assert entry_fields({"type": "image", "push": True}) == {"type": "image", "push": "true"}


def test_empty_entries_are_dropped_and_hold_no_path() -> None:
    kept = ("type=inline", {"type": "local", "dest": "d"})
    assert without_empty_entries(kept) is kept  # nothing to drop: the same tuple
    assert without_empty_entries(("", "type=inline", "")) == ("type=inline",)
    assert without_empty_entries(("",)) == ()
    # Never the folder `.`: buildx exports nothing for "".
    assert map_entry_paths("", ("dest",), lambda path: "rebased/" + path) == ""
