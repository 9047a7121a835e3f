"""Entries of `output`, `cache-from`, `cache-to`, `secret`, `ssh`, `attest`, `policy`: CSV
text or TOML tables, read as buildx reads each attribute's."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# The entry lists whose entries may hold a path on this machine: rebased when a file is
# rendered elsewhere, and announced as filesystem entitlements (buildx 0.19+ asks for them).
CACHE_KEYS = frozenset({"cache-from", "cache-to"})
# The attributes whose values are such entries (the attribute table's entry lists).
ENTRY_KEYS = frozenset({"output", "cache-from", "cache-to", "secret", "ssh", "attest", "policy"})
_LINE_BREAKS = ("\n", "\r")


class EntryError(ValueError):
    """An entry buildx cannot take as one: never its text, which may hold a secret's id."""


def entry_error(entry: Any) -> str | None:
    """Why an entry is refused, or None. buildx reads each entry as one line of CSV (a
    flag's value, a bake attribute); a line break inside one has no meaning there, and
    would split the flag or the CSV record it is written into."""
    values = entry.values() if isinstance(entry, Mapping) else (entry,)
    if any(isinstance(v, str) and any(b in v for b in _LINE_BREAKS) for v in values):
        return "an entry holds a line break; buildx reads each entry as one line of CSV"
    return None


def entry_fields(entry: Any, attribute: str = "output") -> dict[str, str]:
    """An entry of `attribute` as key -> value, read as buildx reads it. Text without `=`
    is a short form: of `output`, a local folder (`-`: a tar stream on stdout); of
    `cache-from`/`cache-to`, a registry reference (each of its CSV fields one, for buildx)."""
    if isinstance(entry, Mapping):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in entry.items()}
    text = str(entry)
    error = entry_error(text)
    if error is not None:
        raise EntryError(error)
    if attribute in CACHE_KEYS and "=" not in text:
        return {"type": "registry", "ref": text}
    parts = _csv_fields(text)
    if attribute == "output" and _is_bare_output(text, parts):
        return {"type": "tar", "dest": "-"} if text == "-" else {"type": "local", "dest": text}
    fields: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        fields[key.strip().lower()] = value.strip()
    return fields


def _csv_fields(text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:  # no line break gets here: only what a future csv refuses
        raise EntryError(f"an entry is not valid CSV: {exc}") from None


def _is_bare_output(text: str, parts: list[str]) -> bool:
    """buildx's rule for an `output` short form: one CSV field, the whole text, not
    starting `type=`. So `dest=out` is the folder `dest=out`, as bake prints it."""
    return parts == [text] and not text.startswith("type=")


def local_path_keys(attribute: str, fields: Mapping[str, str]) -> tuple[str, ...]:
    """The keys of an entry of `attribute` that buildx reads as paths on this machine.

    `output`: `dest` of the kinds that write here (a `local` folder; a `tar`, or an `oci`
    or `docker` tarball or folder), never `-` (stdout). `cache-to`/`cache-from`: `dest`
    and `src` of a `local` cache only (a registry's `ref` is no path). `secret`: `src` (or
    `source`) of a file secret, not of `type=env`, where it names the variable."""
    kind = fields.get("type")
    if attribute == "output":
        keys: tuple[str, ...] = ("dest",) if kind in _WRITTEN_HERE else ()
    elif attribute == "cache-to":
        keys = ("dest",) if kind == "local" else ()
    elif attribute == "cache-from":
        keys = ("src",) if kind == "local" else ()
    elif attribute == "secret":
        keys = () if kind == "env" else ("src", "source")
    else:
        return ()
    return tuple(key for key in keys if fields.get(key) not in (None, "", "-"))


_WRITTEN_HERE = frozenset({"local", "tar", "oci", "docker"})
# Go's strconv.ParseBool, which buildx reads `tar=` with (anything else: a tarball).
_GO_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


def writes_a_folder(attribute: str, fields: Mapping[str, str]) -> bool:
    """Whether a written entry's path is a folder (a local output or cache, an OCI layout
    or docker image untarred), not a file (a tarball)."""
    kind = fields.get("type")
    if attribute == "cache-to" or kind == "local":
        return True
    return kind in ("oci", "docker") and fields.get("tar") in _GO_FALSE


def without_empty_entries(entries: tuple[Any, ...]) -> tuple[Any, ...]:
    """`entries` without its empty strings, the same tuple when it has none. buildx reads
    an empty entry as no entry at all (bake skips it, `--output ""` too): `output = [""]`
    exports nothing and leaves the target to --push/--load, `cache-to = ["", x]` is `[x]`."""
    if "" not in entries:
        return entries
    return tuple(entry for entry in entries if entry != "")


def entry_text(fields: Mapping[str, str]) -> str:
    """An entry's fields as the one line of CSV buildx reads (every buildx: the table form
    came later)."""
    return _csv(fields)


def _csv(fields: Mapping[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([f"{k}={v}" for k, v in fields.items()])
    return buffer.getvalue()


def map_entry_paths(entry: Any, attribute: str, change: Callable[[str], str]) -> Any:
    """The entry of `attribute` with its local paths (`local_path_keys`) passed through
    `change`, same shape. An empty entry is no entry to buildx, so it holds no path (never
    the folder `.`)."""
    if entry == "":
        return entry
    fields = entry_fields(entry, attribute)
    keys = local_path_keys(attribute, fields)
    if not keys:
        return entry
    updated = {k: change(v) if k in keys else v for k, v in fields.items()}
    if isinstance(entry, Mapping):
        return {k: updated.get(str(k), v) for k, v in entry.items()}
    text = str(entry)
    if attribute == "output" and _is_bare_output(text, _csv_fields(text)):
        dest = updated["dest"]
        # Still the short form only when buildx reads it back as one: else spelt out.
        if _is_bare_output(dest, _csv_fields(dest)) and dest != "-":
            return dest
        return _csv({"type": "local", "dest": dest})
    return _csv(updated)


def pushes_to_registry(outputs: Iterable[Any]) -> bool:
    """Whether any of these `output` entries pushes the image to a registry."""
    return any(entry_fields(entry).get("type") == "registry" for entry in outputs)
