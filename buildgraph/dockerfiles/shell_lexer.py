"""BuildKit's shell lexer (frontend/dockerfile/shell/lex.go), as the Dockerfile frontend
applies it to instruction operands: quotes, escapes, word splitting and $-expansion with
its modifiers (`${X:-default}`, `${X#pattern}`, ...).

The patterns of `#`/`%` trims are matched in linear time: a pattern is turned into one
regular expression, never tried at every split of the value.
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
        regex = _shell_pattern(pattern, greedy=True, anchored=False)
        return regex.sub(lambda _: replacement, self.values.get(name, ""), count=0 if every else 1)


def _shell_pattern(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """The regular expression of a ${...#pattern} style pattern: * and ? wildcards,
    backslash escapes (the lexer's convertShellPatternToRegex; no [...] classes)."""
    parts = ["^"] if anchored else []
    index = 0
    while index < len(pattern):
        token = pattern[index]
        index += 1
        if token == "*":
            parts.append(".*" if greedy else ".*?")
        elif token == "?":
            parts.append(".")
        elif token == "\\":
            following = pattern[index : index + 1]
            if following in ("}", "/"):
                continue  # escaped only to get through ${...}; the character follows
            index += 1
            if following not in ("*", "?", "\\"):
                raise ShellError(f"invalid escape in pattern {pattern!r}")
            parts.append("\\" + following)
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _shell_pattern(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Regular expressions find leftmost matches: reverse both to trim from the right.
    return _trim_prefix(_reversed_pattern(pattern), value[::-1], greedy)[::-1]


def _reversed_pattern(pattern: str) -> str:
    tokens: list[str] = []
    index = 0
    while index < len(pattern):
        size = 2 if pattern[index] == "\\" and index + 1 < len(pattern) else 1
        tokens.append(pattern[index : index + size])  # an escape stays before its character
        index += size
    return "".join(reversed(tokens))
