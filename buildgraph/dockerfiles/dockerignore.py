"""`.dockerignore` matching, exactly as BuildKit applies it to a local build context.

Each upstream step has a counterpart: moby/patternmatcher's `ignorefile.ReadAll` (`_lines`),
`New` and `Pattern.compile`, which pick one of four match kinds with their quirks: `^foo`
is compared literally, `**.md` matches `a/b.md` (`_pattern`, `_compiled`); and fsutil's
`filterFS.Walk` with `MatchesUsingParentResults` (`IgnoreRules._verdict`, `._prunes`).
The Dockerfile and the ignore file get no special case: the frontend loads them on the
side, and `COPY .` sees them exactly when the patterns leave them in.
"""

from __future__ import annotations

import codecs
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Go's strings.TrimSpace trims unicode.IsSpace, which is not Python's str.isspace.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
_REGEX_ONLY = frozenset(".+()|{}$")  # patternmatcher escapes these: not glob syntax
_PREFIX_BREAKERS = "*[]?^\\"  # fsutil: an exception with these may match in any directory

Hits = tuple[bool, ...]  # per pattern: whether it counts as matching a directory


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str  # cleaned, without the `!`
    exception: bool
    kind: str  # "exact", "prefix", "suffix" or "regex", as patternmatcher picks it
    regex: GoRegex | None  # None for a regex Go's regexp refuses

    def matches(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        if self.regex is None:  # Go compiles on first use: only then does the build fail
            raise ValueError(f"syntax error in pattern {self.text!r}")
        return self.regex.matches(path)


def _go_clean(path: str) -> str:
    """filepath.Clean, which unlike posixpath.normpath folds a leading `//` too."""
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def _lines(text: str) -> list[str]:
    """ignorefile.ReadAll: `#` is a comment only in column one, before any trimming."""
    patterns = []
    for number, raw in enumerate(text.split("\n")):
        line = raw.removesuffix("\r").removeprefix("\ufeff" if number == 0 else "")
        line = "" if line.startswith("#") else line.strip(_GO_SPACE)
        if not line:
            continue
        invert = line.startswith("!")
        line = line[1:].strip(_GO_SPACE) if invert else line
        if line:
            line = _go_clean(line)
            line = line[1:] if len(line) > 1 and line.startswith("/") else line
        patterns.append("!" + line if invert else line)
    return patterns


def _pattern(line: str) -> _Pattern:
    """patternmatcher.New for one pattern, which cleans it once more (`!/` becomes `!`)."""
    text = _go_clean(line.strip(_GO_SPACE))
    if text == "!":
        raise ValueError('illegal exclusion pattern: "!"')
    exception = text.startswith("!")
    text = text[1:] if exception else text
    _check_glob_syntax(text)
    kind, regex = _compiled(text)
    return _Pattern(text, exception, kind, regex)


def _check_glob_syntax(pattern: str) -> None:
    """New's filepath.Match(pattern, "."): it checks the first chunk, and the next one
    only if the first matched ".", so `x*[` passes (and fails later, once tried)."""
    name: str | None = "."
    while pattern and name is not None:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return
        name = _match_chunk(chunk, name)


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    """Go's scanChunk: leading stars, then up to the next star outside a class."""
    chunk = pattern.lstrip("*")
    i, in_class = 0, False
    while i < len(chunk) and (chunk[i] != "*" or in_class):
        in_class = chunk[i] == "[" or (in_class and chunk[i] != "]")
        i += 2 if chunk[i] == "\\" and i + 1 < len(chunk) else 1
    return len(chunk) < len(pattern), chunk[:i], chunk[i:]


def _match_chunk(chunk: str, name: str) -> str | None:
    """Go's matchChunk: what is left of `name`, or None; like Go it parses the whole chunk
    even after a mismatch, and raises ValueError at bad syntax."""
    i, failed = 0, False
    while i < len(chunk):
        failed = failed or not name
        char, name = ("", name) if failed else (name[0], name[1:])
        if chunk[i] == "[":
            i += 1 + (chunk[i + 1 : i + 2] == "^")
            negated, found, ranges = chunk[i - 1] == "^", False, 0
            while not (chunk[i : i + 1] == "]" and ranges):  # `[]...]` is no class in Go
                low, i = _class_char(chunk, i)
                high, i = _class_char(chunk, i + 1) if chunk[i] == "-" else (low, i)
                found, ranges = found or low <= char <= high, ranges + 1
            i += 1
            failed = failed or found == negated
        elif chunk[i] == "?":
            failed, i = failed or char == "/", i + 1
        else:
            i += chunk[i] == "\\"
            if i == len(chunk):
                raise ValueError(f"syntax error in pattern {chunk!r}")
            failed, i = failed or chunk[i] != char, i + 1
    return None if failed else name


def _class_char(chunk: str, i: int) -> tuple[str, int]:
    """Go's getEsc: one class character, which may not end the chunk."""
    escaped = chunk[i : i + 1] == "\\"
    if chunk[i : i + 1] in ("", "-", "]") or i + escaped >= len(chunk) - 1:
        raise ValueError(f"syntax error in pattern {chunk!r}")
    return chunk[i + escaped], i + escaped + 1


def _compiled(pattern: str) -> tuple[str, GoRegex | None]:
    """Pattern.compile: the match kind, and for a regex the one Go builds (None where Go
    refuses it). Go's regexp and RE2 are one design: the same syntax, read the same way,
    matched in time linear in the path whatever the pattern (`*a*a*a*b`, `**/**/**`,
    `*[a]*[a]*b`), where Python's re would backtrack for minutes."""
    kind, out, i = "exact", ["^"], 0
    while i < len(pattern):
        ch, first = pattern[i], i == 0
        i += 1
        if ch == "*" and pattern[i : i + 1] == "*":
            i += 2 if pattern[i + 1 : i + 2] == "/" else 1  # `**/` is read as `**`
            at_end = i == len(pattern)
            kind = "prefix" if at_end and kind == "exact" else "regex"
            out.append(".*" if at_end else "(.*/)?")  # inside: whole directories, or none
            kind = "suffix" if first else kind  # Go decides by position alone
        elif ch in "*?":
            kind = "regex"
            out.append("[^/]*" if ch == "*" else "[^/]")
        elif ch == "\\" and i < len(pattern):
            kind = "regex"
            out.append("\\" + pattern[i])  # as Go writes it: its regexp reads the escape
            i += 1
        else:  # a last backslash escapes the `$` that ends the regex
            kind = "regex" if ch in "[]" else kind
            out.append("\\" + ch if ch in _REGEX_ONLY else ch)  # `[`, `]`, `^` as in Go
    if kind != "regex":
        return kind, None
    out.append("$")
    return kind, GoRegex.compile("".join(out))


@dataclass(frozen=True, slots=True)
class GoRegex:
    """A regex of Go's syntax, matched as Go's regexp matches it (RE2): on the path's
    UTF-8, where each byte that is no UTF-8 counts as one U+FFFD, as Go decodes it."""

    compiled: Any  # re2's pattern object (re2 ships no types)

    @classmethod
    def compile(cls, regex: str) -> GoRegex | None:
        """None where Go's regexp refuses `regex` (RE2 refuses the same)."""
        import re2  # only for regex patterns: most .dockerignore files have none

        try:
            return cls(re2.compile(_go_bytes(regex)))
        except re2.error:
            return None

    def matches(self, path: str) -> bool:
        return self.compiled.match(_go_bytes(path)) is not None


def _rune_error(error: UnicodeError) -> tuple[bytes, int]:
    assert isinstance(error, UnicodeEncodeError)
    return "\ufffd".encode() * (error.end - error.start), error.end


codecs.register_error("buildgraph-go-rune-error", _rune_error)


def _go_bytes(text: str) -> bytes:
    """`text`'s UTF-8, each byte the file system gave that is not UTF-8 (held by Python
    as a lone surrogate) as U+FFFD, which is how Go reads such a byte."""
    if text.isascii():
        return text.encode("ascii")
    return text.encode("utf-8", "buildgraph-go-rune-error")


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    patterns: tuple[_Pattern, ...] = ()
    error: str | None = None  # why BuildKit refuses these rules outright (none then apply)

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        try:
            return cls(tuple(_pattern(line) for line in _lines(text)))
        except ValueError as exc:  # every build fails, so every file counts as an input
            return cls(error=str(exc))

    @classmethod
    def for_context(cls, context_dir: Path, dockerfile: Path | None = None) -> IgnoreRules:
        """`<Dockerfile>.dockerignore` beside the Dockerfile wins, even when empty."""
        candidates = [context_dir / ".dockerignore"]
        if dockerfile is not None:
            candidates.insert(0, dockerfile.with_name(dockerfile.name + ".dockerignore"))
        for candidate in candidates:
            try:
                return cls.parse(candidate.read_bytes().decode("utf-8", "surrogateescape"))
            except (OSError, ValueError):  # missing, unreadable, or a NUL in the path
                continue
        return cls()

    def excludes(self, relpath: str) -> bool:
        """Whether the file at `relpath` (POSIX, from the context root) is not sent."""
        parts = posixpath.normpath(relpath).split("/")
        if not self.patterns or parts == ["."]:
            return False
        excluded, hits = False, None
        try:
            for depth in range(1, len(parts) + 1):
                prefix = "/".join(parts[:depth])
                excluded, hits = self._verdict(prefix, hits)
                if excluded and depth < len(parts) and self._prunes(prefix):
                    return True
        except ValueError:  # the walk tries a regex Go cannot compile: the build fails
            return False
        return excluded

    def _verdict(self, path: str, parent: Hits | None) -> tuple[bool, Hits]:
        """MatchesUsingParentResults: whether `path` is excluded, and the hits it passes on.

        What matched a directory matches everything below it. A pattern not tried on a
        directory (it could not flip the verdict there) is recorded as no match, and below
        it is tried on the deeper paths only: after `a/*`, `!a` re-includes nothing in `a`.
        """
        excluded, hits = False, []
        for index, pattern in enumerate(self.patterns):
            hit = parent[index] if parent else False
            if not hit and pattern.exception == excluded:
                hit = pattern.matches(path)
            hits.append(hit)
            excluded = not pattern.exception if hit else excluded
        return excluded, tuple(hits)

    def _prunes(self, directory: str) -> bool:
        """Whether fsutil skips an excluded directory instead of walking into it."""
        exceptions = [
            p.text.removesuffix("/**").removesuffix("/*") for p in self.patterns if p.exception
        ]
        if any(c in text for text in exceptions for c in _PREFIX_BREAKERS):
            return False
        return not any((text + "/").startswith(directory + "/") for text in exceptions)


def included_files(context_dir: Path, rules: IgnoreRules) -> list[str]:
    """Sorted POSIX paths of the non-directories (symlinks unfollowed) BuildKit sends;
    ValueError where BuildKit fails the build instead."""
    if rules.error is not None:
        raise ValueError(f"BuildKit refuses this .dockerignore: {rules.error}")
    found: list[str] = []
    _collect(context_dir, "", None, rules, found)
    return sorted(found)


def _collect(
    folder: Path, prefix: str, parent: Hits | None, rules: IgnoreRules, found: list[str]
) -> None:
    """Walk like fsutil: each directory hands its pattern hits down to its entries."""
    with os.scandir(folder) as entries:
        for entry in entries:
            relative = prefix + entry.name
            excluded, hits = rules._verdict(relative, parent)
            if not entry.is_dir(follow_symlinks=False):
                found.extend([] if excluded else [relative])
            elif not (excluded and rules._prunes(relative)):
                try:
                    _collect(Path(entry.path), relative + "/", hits, rules, found)
                except PermissionError:
                    if not excluded:  # fsutil forgives unreadable excluded directories only
                        raise
