"""What a finished buildx run leaves behind, read back: its metadata file (a target's image
digest) and the line of its log that says what went wrong.

Every way of running reads these; they live here so that none imports another's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_metadata_file(path: Path) -> dict[str, Any]:
    """buildx's `--metadata-file`: {} when it is missing or damaged (bake writes none after
    a failure; a stopped build may leave half of one)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def image_digest(metadata: dict[str, Any]) -> str | None:
    """The digest of the image one target's build made, from its part of the metadata."""
    value = metadata.get("containerimage.digest")
    return str(value) if value else None


def last_error_line(log: Path) -> str | None:
    """The line of a buildx log that says what went wrong (else its last line)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if "ERROR" in line or "error:" in line.lower():
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else None
