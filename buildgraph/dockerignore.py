"""`.dockerignore` matching, as BuildKit matches it (moby/patternmatcher).

Lines are trimmed, `#` lines are comments, `!` makes an exception; patterns are cleaned
like paths and lose a leading `/`. A pattern matches a file when it matches the file's
path or the path of one of its parent directories; the last pattern that matches decides.
`*` and `?` stay within one path element, `**` spans any number of them, `[...]` classes
pass through, `\\` escapes the next character.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_REGEX_SPECIAL = set(".+()|{}$")


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str
    exception: bool
    regex: re.Pattern[str]


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*" and pattern[i + 1 : i + 2] == "*":
            i += 2
            if pattern[i : i + 1] == "/":
                i += 1  # `**/` is `**`
            # `**` at the end takes everything; inside, any number of elements (even none)
            out.append(".*" if i >= len(pattern) else "(.*/)?")
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            out.append("\\" + pattern[i] if i < len(pattern) else "\\\\")
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)  # `[` and `]` pass through: character classes
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return re.compile(r"(?!)")  # BuildKit refuses the build; match nothing


def _clean(pattern: str) -> str:
    cleaned = posixpath.normpath(pattern)
    if len(cleaned) > 1 and cleaned.startswith("/"):
        cleaned = cleaned.lstrip("/") or "/"
    return cleaned


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    patterns: tuple[_Pattern, ...] = ()

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        patterns = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exception = line.startswith("!")
            if exception:
                line = line[1:].strip()
                if not line:
                    continue
            cleaned = _clean(line)
            patterns.append(_Pattern(cleaned, exception, _compile(cleaned)))
        return cls(tuple(patterns))

    @classmethod
    def for_context(cls, context_dir: Path, dockerfile: Path | None = None) -> IgnoreRules:
        """BuildKit prefers `<Dockerfile>.dockerignore` beside the Dockerfile."""
        candidates = []
        if dockerfile is not None:
            candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
        candidates.append(context_dir / ".dockerignore")
        for candidate in candidates:
            try:
                return cls.parse(candidate.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
        return cls()

    def excludes(self, relpath: str) -> bool:
        """Whether the file at `relpath` (POSIX, from the context root) is left out."""
        if not self.patterns:
            return False
        path = posixpath.normpath(relpath)
        parents = _parents(path)
        excluded = False
        for pattern in self.patterns:
            if pattern.regex.match(path) or any(pattern.regex.match(p) for p in parents):
                excluded = not pattern.exception
        return excluded


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def included_files(context_dir: Path, rules: IgnoreRules) -> list[str]:
    """POSIX paths of the files BuildKit would send from `context_dir`, sorted."""
    found = []
    for folder, dirs, files in os.walk(context_dir):
        relative_folder = Path(folder).relative_to(context_dir).as_posix()
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(folder, d)))]:
            relative = name if relative_folder == "." else f"{relative_folder}/{name}"
            if not rules.excludes(relative):
                found.append(relative)
    return sorted(found)
