"""Writing a value so that it stays a value in bake's files: the one place that knows
bake's template markers.

bake reads every string of its files, JSON included, as an HCL template, so a literal
`${` must be written `$${` and `%{` as `%%{`, or bake would evaluate what follows.
"""

from __future__ import annotations

import json


def escape_template_markers(text: str) -> str:
    """`text` with HCL's template markers escaped. On serialized JSON this escapes exactly
    its strings (table keys included): JSON syntax itself holds neither marker."""
    return text.replace("${", "$${").replace("%{", "%%{")


def hcl_string(text: str) -> str:
    """A quoted HCL string literal of `text`: JSON's escapes are HCL's, plus the markers."""
    return escape_template_markers(json.dumps(text, ensure_ascii=False))
