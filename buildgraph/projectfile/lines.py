"""Where in the project file a key is written: tomli keeps no positions, so errors find
their line by reading the text again."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _split_dotted(key: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", key)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def locate_line(text: str, keys: Sequence[str]) -> int | None:
    """The 1-based line where the deepest known prefix of `keys` is written, if any.

    A heuristic over the text (tomli keeps no positions): table headers and `key =` lines,
    which covers how project files are written in practice. The text is read once into
    an index however many problems ask (thousands of bad tables stay linear).
    """
    index = _line_index(text)
    for depth in range(len(keys), 0, -1):
        line = index.get(tuple(keys[:depth]))
        if line is not None:
            return line
    return None


# A table header or key is a short line; a longer one (a long string's content) is not
# matched, as the header pattern's backtracking would cost its length squared.
_LONGEST_LINE = 4096


@lru_cache(maxsize=2)
def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Each table and key path written in the text -> the first line that writes it."""
    index: dict[tuple[str, ...], int] = {}
    table: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):  # TOML's lines, as tomli's
        if len(line) > _LONGEST_LINE:
            continue
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            table = _split_dotted(header.group(1))
            path = table
        else:
            key = _KEY.match(line)
            if not key:
                continue
            path = table + _split_dotted(key.group(1))
        if path:
            index.setdefault(tuple(path), number)
    return index
