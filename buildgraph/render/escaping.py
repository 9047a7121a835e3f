"""Writing a value so that it stays a value in the files we render: the one place that
knows bake's template markers, HCL's escapes and what may stand in a `#` comment.

bake reads every string of its files, JSON included, as an HCL template, so a literal
`${` must be written `$${` and `%{` as `%%{`, or bake would evaluate what follows.
"""

from __future__ import annotations

import json
import re


def escape_template_markers(text: str) -> str:
    """`text` with HCL's template markers escaped. On serialized JSON this escapes exactly
    its strings (table keys included): JSON syntax itself holds neither marker."""
    return text.replace("${", "$${").replace("%{", "%%{")


# JSON's escapes HCL lacks: \b and \f. An escape is a backslash and one character, so
# scanning escape by escape never takes the second half of `\\` for the start of one.
_JSON_ESCAPE = re.compile(r"\\(.)")
_HCL_FOR_JSON_ESCAPE = {"b": "\\u0008", "f": "\\u000c"}


def _hcl_escape(match: re.Match[str]) -> str:
    return _HCL_FOR_JSON_ESCAPE.get(match.group(1), match.group(0))


def hcl_string(text: str) -> str:
    """A quoted HCL string literal of `text`: JSON's escapes are HCL's (but \\b and \\f,
    written as \\u escapes), plus the markers."""
    quoted = json.dumps(text, ensure_ascii=False)
    if "\b" in text or "\f" in text:
        quoted = _JSON_ESCAPE.sub(_hcl_escape, quoted)
    return escape_template_markers(quoted)


# What could end a `#` comment or hide what follows it: control characters (a newline
# ends the comment in sh and HCL), Unicode's line and paragraph separators, and the
# bidirectional controls that reorder how a line reads; and lone surrogates (bytes of the
# environment that are not UTF-8), which no file can hold.
_NOT_FOR_COMMENTS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _visible(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def comment_text(text: str) -> str:
    """`text` as it may stand in a `#` comment of a shell script or an HCL file: on one
    line, whatever it holds; a character that could end the line or reorder it is
    written as a `\\uNNNN` escape."""
    if _NOT_FOR_COMMENTS.search(text) is None:
        return text
    return _NOT_FOR_COMMENTS.sub(_visible, text)
