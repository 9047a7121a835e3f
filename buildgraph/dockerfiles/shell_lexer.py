"""BuildKit's shell lexer (frontend/dockerfile/shell/lex.go), as the Dockerfile frontend
applies it to instruction operands: quotes, escapes, word splitting and $-expansion with
its modifiers (`${X:-default}`, `${X#pattern}`, ...).

The patterns of `#`/`%` trims and `/` replacements are matched as Go's regexp matches the
regular expressions BuildKit makes of them, and like it in time linear in the value (see
_ShellPattern), never by backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Go's unicode.IsSpace, which the parser trims and splits with (Python's isspace differs).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


class ShellError(ValueError):
    """Where BuildKit's lexer fails, and with it the build."""


class _Words:
    """Word splitting as the lexer does it: whitespace in plain text and in unquoted
    expansions separates words; quoted text and escaped characters never do."""

    __slots__ = ("current", "open", "words")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.current: list[str] = []  # pieces, some possibly empty (an empty quoted string)
        self.open = False

    def add_char(self, char: str) -> None:
        if char not in GO_SPACE:
            self.add_raw(char)
        elif self.open and any(self.current):
            self._close()

    def add_text(self, text: str) -> None:
        for char in text:
            self.add_char(char)

    def add_raw(self, text: str) -> None:
        self.current.append(text)
        self.open = True

    def finish(self) -> list[str]:
        if any(self.current):  # a word of empty quotes alone is no word
            self._close()
        return self.words

    def _close(self) -> None:
        self.words.append("".join(self.current))
        self.current = []
        self.open = False


class ShellLexer:
    """One text through BuildKit's shell lexer: quotes, escapes and $-expansion.

    raw keeps quotes and escapes in the output (how the parser looks for heredocs);
    skip_unset, and keep for the names in it, leave unset variables as written.
    """

    def __init__(
        self,
        text: str,
        escape: str,
        values: Mapping[str, str],
        *,
        raw: bool = False,
        skip_unset: bool = False,
        keep: frozenset[str] = frozenset(),
    ) -> None:
        self.text = text
        self.position = 0
        self.escape = escape
        self.values = values
        self.raw_quotes = raw
        self.raw_escapes = raw
        self.skip_unset = skip_unset
        self.keep = keep

    def word(self) -> str:
        return self._until("", self.raw_escapes)[0]

    def words(self) -> list[str]:
        return self._until("", self.raw_escapes)[1]

    def _peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def _next(self) -> str:
        char = self._peek()
        self.position += 1
        return char

    def _until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """The text up to stop (consumed; "" for the end), processed, and its words."""
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            return self._scan(stop)
        finally:
            self.raw_escapes = saved

    def _scan(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        while self.position < len(self.text):
            char = self.text[self.position]
            if stop and char == stop:
                self.position += 1
                return "".join(result), words.finish()
            if char in ("$", "<", "'", '"'):
                piece = self._special(char)
                result.append(piece)
                if char == "$":
                    words.add_text(piece)  # an unquoted expansion is split into words
                else:
                    words.add_raw(piece)
                continue
            self.position += 1
            if char == self.escape:
                if self.raw_escapes:
                    words.add_raw(char)
                    result.append(char)
                if self.position == len(self.text):
                    break  # an escape at the end is dropped
                char = self._next()
                words.add_raw(char)
            else:
                words.add_char(char)
            result.append(char)
        if stop:
            raise ShellError(f"missing {stop!r}")
        return "".join(result), words.finish()

    def _special(self, char: str) -> str:
        if char == "$":
            return self._dollar()
        if char == "<":
            return self._angle()
        if char == "'":
            return self._single_quoted()
        return self._double_quoted()

    def _single_quoted(self) -> str:
        self.position += 1
        end = self.text.find("'", self.position)
        if end < 0:
            raise ShellError("missing closing single quote")
        body = self.text[self.position : end]
        self.position = end + 1
        return f"'{body}'" if self.raw_quotes else body

    def _double_quoted(self) -> str:
        self.position += 1
        result = ['"'] if self.raw_quotes else []
        while True:
            char = self._peek()
            if not char:
                raise ShellError("missing closing double quote")
            if char == '"':
                self.position += 1
                if self.raw_quotes:
                    result.append(char)
                return "".join(result)
            if char == "$":
                result.append(self._dollar())
                continue
            self.position += 1
            if char == self.escape:
                if self.raw_escapes:
                    result.append(char)
                following = self._peek()
                if not following:
                    continue  # an escape at the end: the missing quote is reported next
                if following in ('"', "$", self.escape):
                    char = self._next()  # only these can be escaped in double quotes
            result.append(char)

    def _angle(self) -> str:
        # "<<" and the blanks after it stay one piece, so "<< EOF" is one heredoc word.
        self.position += 1
        if self._peek() != "<":
            return "<"
        self.position += 1
        start = self.position
        while self._peek() in ("\t", "\r", " "):
            self.position += 1
        return "<<" + self.text[start : self.position]

    def _name(self) -> str:
        start = self.position
        first = self._peek()
        if first.isdecimal():  # positional parameters: $1, $12
            while self._peek().isdecimal():
                self.position += 1
        elif first and first in "@*#?-$!0":  # special parameters: one character
            self.position += 1
        else:
            while (char := self._peek()) and (char.isalpha() or char.isdecimal() or char == "_"):
                self.position += 1
        return self.text[start : self.position]

    def _kept(self, name: str, start: int) -> str | None:
        """The expression from start as written, if name is unset and to be kept."""
        if name not in self.values and (self.skip_unset or name in self.keep):
            return self.text[start : self.position]
        return None

    def _dollar(self) -> str:
        start = self.position
        self.position += 1
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            kept = self._kept(name, start)
            return kept if kept is not None else self.values.get(name, "")
        self.position += 1
        following = self._peek()
        if not following:
            raise ShellError("missing '}'")
        if following in ("{", "}", ":"):
            raise ShellError("bad substitution")
        name = self._name()
        operator = self._next()
        if operator == "}":
            kept = self._kept(name, start)
            return kept if kept is not None else self.values.get(name, "")
        null_is_unset = operator == ":"
        if null_is_unset:
            operator = self._next()
        if null_is_unset or operator in ("+", "-", "?", "#", "%"):
            return self._modified(name, operator, null_is_unset, start)
        if operator == "/":
            return self._replaced(name, start)
        raise ShellError(f"unsupported modifier {operator!r}")

    def _modified(self, name: str, operator: str, null_is_unset: bool, start: int) -> str:
        """${name-word}, ${name:-word}, ${name+word}, ${name?word}, ${name#pattern},
        ${name%pattern} and their greedy ## and %% forms."""
        trims = operator in ("#", "%")
        if null_is_unset and trims:
            raise ShellError(f"unsupported modifier ':{operator}'")
        word, _ = self._until("}", trims)  # patterns keep their escapes
        kept = self._kept(name, start)
        if kept is not None:
            return kept
        value = self.values.get(name)
        present = value is not None and not (null_is_unset and value == "")
        current = value or ""
        if operator == "-":
            return current if present else word
        if operator == "+":
            return word if present else ""
        if operator == "?":
            if not present:
                raise ShellError(f"{name}: {word or 'is not allowed to be unset or empty'}")
            return current
        if trims:
            greedy = word.startswith(operator)
            pattern = word[1:] if greedy else word
            if operator == "#":
                return _trim_prefix(pattern, current, greedy)
            return _trim_suffix(pattern, current, greedy)
        raise ShellError(f"unsupported modifier {operator!r}")

    def _replaced(self, name: str, start: int) -> str:
        """${name/pattern/replacement}, and ${name//pattern/replacement} for every match."""
        every = self._peek() == "/"
        if every:
            self.position += 1
        pattern, _ = self._until("/", True)
        replacement, _ = self._until("}", True)
        kept = self._kept(name, start)
        if kept is not None:
            return kept
        return _replace(pattern, self.values.get(name, ""), replacement, every)


# --- ${...#pattern} and ${.../pattern/...} matching ---------------------------------------
#
# BuildKit turns a pattern into a Go regular expression (convertShellPatternToRegex: `*`
# is `.*`, or `.*?` for the shortest trims; `?` is `.`) and Go's regexp matches in time
# linear in the value. Python's re backtracks: `*a*a*a...*b` takes exponential time. So
# the patterns are matched here directly, with Go's leftmost-first answers: the same
# (start, end) as Go's FindStringIndex, for the three uses BuildKit makes of them.
#
# A pattern is segments of fixed width (characters and `?`) between stars. Neither a star
# nor `?` matches a newline (Go's `.`), so when no segment holds a literal newline a match
# lies within one line of the value, where a star matches anything. There, placing each
# segment at its earliest position finds whether a match exists (and the shortest one);
# the longest one ends at the last place the final segment matches. A pattern holding a
# literal newline (only a variable's value can put one there) goes to a small Thompson
# simulation instead, linear in the value too.

_ANY = ""  # the cell of `?`; a literal cell is one character
_STAR = None


def _pattern_tokens(pattern: str) -> list[str | None]:
    """The cells and stars of a pattern (the lexer's convertShellPatternToRegex: `*` and
    `?` wildcards, backslash escapes; no [...] classes); runs of stars are one star."""
    tokens: list[str | None] = []
    index = 0
    while index < len(pattern):
        token = pattern[index]
        index += 1
        if token == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
        elif token == "?":
            tokens.append(_ANY)
        elif token == "\\":
            following = pattern[index : index + 1]
            if following in ("}", "/"):
                continue  # escaped only to get through ${...}; the character follows
            index += 1
            if following not in ("*", "?", "\\"):
                raise ShellError(f"invalid escape in pattern {pattern!r}")
            tokens.append(following)
        else:
            tokens.append(token)
    return tokens


class _Segment:
    """Cells of fixed width between two stars, and where they match in a text."""

    __slots__ = ("_reversed", "cells", "literal", "regex", "size")

    def __init__(self, cells: list[str]) -> None:
        self.cells = cells
        self.size = len(cells)
        self.literal = "".join(cells) if all(cells) else None
        # Fixed width, no repetition: re's search takes no more than width x text.
        self.regex = None if self.literal is not None else _cells_regex(cells)
        self._reversed: re.Pattern[str] | None = None

    def at(self, text: str, pos: int, end: int) -> bool:
        if pos + self.size > end:
            return False
        if self.literal is not None:
            return text.startswith(self.literal, pos, end)
        assert self.regex is not None
        return self.regex.match(text, pos, end) is not None

    def first(self, text: str, pos: int, end: int) -> int:
        """The earliest start >= pos of a match inside text[pos:end], or -1."""
        if self.literal is not None:
            return text.find(self.literal, pos, end)
        assert self.regex is not None
        match = self.regex.search(text, pos, end)
        return -1 if match is None else match.start()

    def last(self, text: str, pos: int, end: int) -> int:
        """The latest start >= pos of a match inside text[pos:end], or -1."""
        if self.literal is not None:
            return text.rfind(self.literal, pos, end)
        if self._reversed is None:
            self._reversed = _cells_regex(self.cells[::-1])
        match = self._reversed.search(text[pos:end][::-1])
        return -1 if match is None else end - match.start() - self.size


def _cells_regex(cells: list[str]) -> re.Pattern[str]:
    return re.compile("".join(re.escape(cell) if cell else "." for cell in cells))


class _ShellPattern:
    """A pattern ready to match: its segments, or its tokens for the simulation."""

    def __init__(self, tokens: list[str | None]) -> None:
        self.tokens = tokens
        self.multiline = "\n" in tokens
        cells: list[list[str]] = [[]]
        for token in tokens:
            if token is _STAR:
                cells.append([])
            else:
                cells[-1].append(token)
        self.segments = [_Segment(group) for group in cells]

    def reversed(self) -> _ShellPattern:
        return _ShellPattern(self.tokens[::-1])

    def match_end(self, value: str, start: int, greedy: bool) -> int:
        """Where the match anchored at start ends (the longest or shortest), or -1."""
        if self.multiline:
            found = _simulate(self.tokens, value, start, anchored=True, greedy=greedy)
            return -1 if found is None else found[1]
        return self._end_in_line(value, start, _line_end(value, start), greedy)

    def _end_in_line(self, value: str, start: int, end: int, greedy: bool) -> int:
        first = self.segments[0]
        if len(self.segments) == 1:  # no star: the one segment, here
            return start + first.size if first.at(value, start, end) else -1
        *middle, final = self.segments[1:]
        if not first.at(value, start, end):
            return -1
        pos = start + first.size
        for segment in middle:  # earliest places: a later one fits wherever one fits
            found = segment.first(value, pos, end)
            if found < 0:
                return -1
            pos = found + segment.size
        found = final.last(value, pos, end) if greedy else final.first(value, pos, end)
        return -1 if found < 0 else found + final.size

    def search(self, value: str, start: int) -> tuple[int, int] | None:
        """The leftmost match at or after start, the longest there (stars greedy)."""
        if self.multiline:
            return _simulate(self.tokens, value, start, anchored=False, greedy=True)
        first = self.segments[0]
        pos = start
        while pos <= len(value):
            end = _line_end(value, pos)
            found = first.first(value, pos, end)
            if found >= 0:
                match_end = self._end_in_line(value, found, end, greedy=True)
                if match_end >= 0:
                    return found, match_end
                # The rest fits nowhere after the first place its first segment matches,
                # so nowhere after a later one either: on to the next line.
            pos = end + 1
        return None


def _line_end(value: str, start: int) -> int:
    end = value.find("\n", start)
    return len(value) if end < 0 else end


def _simulate(
    tokens: list[str | None], value: str, start: int, *, anchored: bool, greedy: bool
) -> tuple[int, int] | None:
    """Leftmost-first matching by Thompson simulation (Pike's VM: threads in priority
    order, one list per position), as Go's regexp; time: value x pattern."""
    size = len(tokens)

    def add(threads: list[tuple[int, int]], seen: set[int], state: int, origin: int) -> None:
        if state in seen:
            return
        seen.add(state)
        if state < size and tokens[state] is _STAR:  # stars never follow stars
            if greedy:
                threads.append((state, origin))
            add(threads, seen, state + 1, origin)
            if not greedy:
                threads.append((state, origin))
        else:
            threads.append((state, origin))

    threads: list[tuple[int, int]] = []
    seen: set[int] = set()
    add(threads, seen, 0, start)
    found: tuple[int, int] | None = None
    pos = start
    while threads:
        char = value[pos] if pos < len(value) else None
        following: list[tuple[int, int]] = []
        following_seen: set[int] = set()
        for state, origin in threads:
            if state == size:
                found = (origin, pos)
                break  # the threads after this one have lower priority
            token = tokens[state]
            if char is None or (char == "\n" and (token == _ANY or token is _STAR)):
                continue
            if token is _STAR:
                add(following, following_seen, state, origin)
            elif token in (_ANY, char):
                add(following, following_seen, state + 1, origin)
        if char is None:
            break
        pos += 1
        threads = following
        if not anchored and found is None:
            add(threads, following_seen, 0, pos)
    return found


def _compiled_pattern(pattern: str) -> _ShellPattern:
    return _ShellPattern(_pattern_tokens(pattern))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    end = _compiled_pattern(pattern).match_end(value, 0, greedy)
    return value if end < 0 else value[end:]


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Go's regexp finds leftmost matches: BuildKit reverses both to trim from the right.
    reversed_value = value[::-1]
    end = _compiled_pattern(pattern).reversed().match_end(reversed_value, 0, greedy)
    return value if end < 0 else reversed_value[end:][::-1]


def _replace(pattern: str, value: str, replacement: str, every: bool) -> str:
    """${name/pattern/replacement} and ${name//...}: Go's ReplaceAllString loop (an empty
    match right after a match replaces nothing; the search moves on at least one
    character), the replacement taken literally."""
    compiled = _compiled_pattern(pattern)
    if not every:
        found = compiled.search(value, 0)
        return value if found is None else value[: found[0]] + replacement + value[found[1] :]
    pieces: list[str] = []
    last_end = search = 0
    while search <= len(value):
        found = compiled.search(value, search)
        if found is None:
            break
        begin, end = found
        pieces.append(value[last_end:begin])
        if end > last_end or begin == 0:
            pieces.append(replacement)
        last_end = end
        search = search + 1 if search + 1 > end else end
    pieces.append(value[last_end:])
    return "".join(pieces)
