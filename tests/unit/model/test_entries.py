from __future__ import annotations

import pytest

from buildgraph.model.entries import (
    EntryError,
    entry_error,
    entry_fields,
    local_path_keys,
    map_entry_paths,
    without_empty_entries,
    writes_a_folder,
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
    assert map_entry_paths("", "output", lambda path: "rebased/" + path) == ""


def rebased(entry: object, attribute: str) -> object:
    return map_entry_paths(entry, attribute, lambda path: "../" + path)


@pytest.mark.parametrize("attribute", ["cache-from", "cache-to"])
def test_a_bare_cache_entry_is_a_registry_reference_not_a_path(attribute: str) -> None:
    # buildx: a cache entry without `=` is type=registry,ref=<it>.
    assert entry_fields("user/app:cache", attribute) == {
        "type": "registry",
        "ref": "user/app:cache",
    }
    assert local_path_keys(attribute, entry_fields("user/app:cache", attribute)) == ()
    assert rebased("user/app:cache", attribute) == "user/app:cache"
    assert rebased("type=registry,ref=cache", attribute) == "type=registry,ref=cache"
    assert rebased({"type": "gha", "scope": "x"}, attribute) == {"type": "gha", "scope": "x"}


def test_only_a_local_cache_holds_a_path() -> None:
    assert rebased("type=local,dest=c,mode=max", "cache-to") == "type=local,dest=../c,mode=max"
    assert rebased("type=local,src=c", "cache-from") == "type=local,src=../c"
    assert rebased({"type": "local", "src": "c"}, "cache-from") == {"type": "local", "src": "../c"}
    # `dest` is not what a cache import reads, nor `src` what an export writes.
    assert rebased("type=local,dest=c", "cache-from") == "type=local,dest=c"


def test_output_paths_are_those_buildx_writes_here() -> None:
    assert rebased("out", "output") == "../out"
    assert rebased("-", "output") == "-"  # stdout
    # One field, not starting type=: buildx's short form, the folder `dest=out`.
    assert entry_fields("dest=out", "output") == {"type": "local", "dest": "dest=out"}
    assert rebased("dest=out", "output") == "../dest=out"
    assert rebased("type=docker,dest=img.tar", "output") == "type=docker,dest=../img.tar"
    assert rebased("type=oci,dest=layout,tar=false", "output") == (
        "type=oci,dest=../layout,tar=false"
    )
    assert rebased("type=image,name=x", "output") == "type=image,name=x"
    assert rebased("type=tar,dest=-", "output") == "type=tar,dest=-"
    assert writes_a_folder("output", entry_fields("type=oci,dest=l,tar=false", "output"))
    assert not writes_a_folder("output", entry_fields("type=oci,dest=l.tar", "output"))
    assert writes_a_folder("cache-to", entry_fields("type=local,dest=c", "cache-to"))


def test_a_short_output_stays_short_only_when_buildx_reads_it_back_so() -> None:
    # Rebased onto a folder whose name holds a comma, the short form would split in two.
    assert map_entry_paths("out", "output", lambda path: "a,b/" + path) == (
        'type=local,"dest=a,b/out"'
    )


def test_a_secret_names_a_file_unless_it_is_an_environment_variable() -> None:
    assert rebased("id=a,src=s.txt", "secret") == "id=a,src=../s.txt"
    assert rebased("id=a,source=s.txt", "secret") == "id=a,source=../s.txt"
    assert rebased("id=a,type=env,src=TOKEN", "secret") == "id=a,type=env,src=TOKEN"
    assert rebased("id=a,env=TOKEN", "secret") == "id=a,env=TOKEN"
