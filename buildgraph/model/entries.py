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


def entry_fields(entry: Any) -> dict[str, str]:
    """An entry as key -> value. A bare value is buildx's short form of a local directory."""
    if isinstance(entry, Mapping):
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in entry.items()}
    text = str(entry)
    if "=" not in text:
        return {"type": "tar", "dest": "-"} if text == "-" else {"type": "local", "dest": text}
    fields: dict[str, str] = {}
    for part in next(csv.reader([text]), []):
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    return fields


def _csv(fields: Mapping[str, str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([f"{k}={v}" for k, v in fields.items()])
    return buffer.getvalue()


def map_entry_paths(entry: Any, keys: tuple[str, ...], change: Callable[[str], str]) -> Any:
    """The entry with the local paths under `keys` passed through `change`, same shape."""
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
