"""Entries of `output`, `cache-from`, `cache-to`, `secret`, `ssh`: CSV text or TOML tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Keys that hold a path on this machine, per entry kind: rebased when a file is rendered
# elsewhere, and announced as filesystem entitlements (buildx 0.19+ asks for them).
PATH_KEYS_READ = ("src",)
PATH_KEYS_WRITE = ("dest",)
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


def entry_fields(entry: Any) -> dict[str, str]:
    """An entry as key -> value. A bare value is buildx's short form of a local directory."""
    if isinstance(entry, Mapping):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in entry.items()}
    text = str(entry)
    error = entry_error(text)
    if error is not None:
        raise EntryError(error)
    if "=" not in text:
        return {"type": "tar", "dest": "-"} if text == "-" else {"type": "local", "dest": text}
    fields: dict[str, str] = {}
    try:
        parts = next(csv.reader([text]), [])
    except csv.Error as exc:  # no line break gets here: only what a future csv refuses
        raise EntryError(f"an entry is not valid CSV: {exc}") from None
    for part in parts:
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    return fields


def without_empty_entries(entries: tuple[Any, ...]) -> tuple[Any, ...]:
    """`entries` without its empty strings, the same tuple when it has none. buildx reads
    an empty entry as no entry at all (bake skips it, `--output ""` too): `output = [""]`
    exports nothing and leaves the target to --push/--load, `cache-to = ["", x]` is `[x]`."""
    if "" not in entries:
        return entries
    return tuple(entry for entry in entries if entry != "")


def _csv(fields: Mapping[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([f"{k}={v}" for k, v in fields.items()])
    return buffer.getvalue()


def map_entry_paths(entry: Any, keys: tuple[str, ...], change: Callable[[str], str]) -> Any:
    """The entry with the local paths under `keys` passed through `change`, same shape.
    An empty entry is no entry to buildx, so it holds no path (never the folder `.`)."""
    if entry == "":
        return entry
    fields = entry_fields(entry)
    if fields.get("type") not in (None, "local", "oci", "tar", "file") and "src" not in fields:
        return entry
    if not any(k in fields and fields[k] != "-" for k in keys):
        return entry
    updated = {k: change(v) if k in keys and v != "-" else v for k, v in fields.items()}
    if isinstance(entry, Mapping):
        return {k: updated.get(str(k), v) for k, v in entry.items()}
    if "=" not in str(entry):
        return updated["dest"]
    return _csv(updated)


def pushes_to_registry(outputs: Iterable[Any]) -> bool:
    """Whether any of these `output` entries pushes the image to a registry."""
    return any(entry_fields(entry).get("type") == "registry" for entry in outputs)
