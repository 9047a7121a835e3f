"""Writing the imported tables as TOML, by hand rather than with a library, for what a
library does not write: a comment over each table naming the file and line it came from,
and each variable, function, target and group as one table with inline values, in the
order of the bake files. What is written is read back (tomllib) and compared with what
was meant before anything reaches the disk."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# An inline value longer than this is written one item a line.
_WIDTH = 88


def toml_document(
    tables: dict[str, Any], origins: dict[tuple[str, str], str], header: list[str]
) -> str:
    out = [f"# {line}" if line else "#" for line in header]
    for section in ("variables", "functions"):
        if section in tables:
            out += ["", f"[{section}]"]
            for name, value in tables[section].items():
                origin = origins.get((section, name))
                if origin:
                    out.append(f"# {origin}")
                out.append(f"{key(name)} = {inline(value, 0)}")
    for section in ("target", "group"):
        for name, table in tables.get(section, {}).items():
            out.append("")
            origin = origins.get((section, name))
            if origin:
                out.append(f"# {origin}")
            out.append(f"[{section}.{key(name)}]")
            for attribute, value in table.items():
                out.append(f"{key(attribute)} = {inline(value, 0)}")
    text = "\n".join(out).lstrip("\n") + "\n"
    check_round_trip(text, tables)
    return text


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else string(name)


def string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, `\\/` aside, which JSON never
    writes); a multi-line text as a multi-line string, so a Dockerfile reads as one."""
    if "\n" in text.rstrip("\n") and '"""' not in text and "\r" not in text:
        body = json.dumps(text, ensure_ascii=False)[1:-1]
        body = body.replace("\\n", "\n").replace('\\"', '"')
        if body.endswith('"'):
            body = body[:-1] + '\\"'
        return '"""\n' + body + '"""'
    return json.dumps(text, ensure_ascii=False)


def inline(value: Any, depth: int, wrap: bool = True) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("TOML of bake values has no nan or inf")
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, list):
        items = [inline(v, depth + 1, wrap) for v in value]
        flat = "[" + ", ".join(items) + "]"
        if not wrap or (len(flat) <= _WIDTH and "\n" not in flat):
            return flat
        pad = "  " * (depth + 1)
        return "[\n" + "".join(f"{pad}{item},\n" for item in items) + "  " * depth + "]"
    if isinstance(value, dict):
        # Inline tables stay on one line (TOML 1.0), their lists too.
        pairs = ", ".join(f"{key(k)} = {inline(v, depth + 1, False)}" for k, v in value.items())
        return "{ " + pairs + " }" if pairs else "{}"
    raise TypeError(f"no TOML for {type(value).__name__}")


def check_round_trip(text: str, tables: dict[str, Any]) -> None:
    """TOML read back must be the tables meant: a bug here must not become a file that
    says something else."""
    import tomli  # a dependency already: buildgraph reads its TOML with it

    read = tomli.loads(text)
    if read != tables:
        raise AssertionError("the TOML written does not read back as the tables imported")
