"""The plan as a bake HCL file, resolved like the JSON one, with comments a person can read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError
from buildgraph.render.bake_json import bake_definition
from buildgraph.render.bake_target import Rebaser, bake_run_group
from buildgraph.render.escaping import comment_text, hcl_string
from buildgraph.render.ownership import GENERATED_MARK

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Attribute names seen to be identifiers: a few dozen, checked once however many targets.
_CHECKED_KEYS: set[str] = set()


def _check_attribute_name(target: str, key: str) -> None:
    """An attribute's name is written bare: anything but an identifier could end it."""
    if _IDENTIFIER.fullmatch(key) is None:
        raise ConfigError.one(
            f"{key!r} cannot be written as an HCL attribute name",
            target=target,
            key=key,
            hint="render --format bake writes any attribute bake knows",
        )
    _CHECKED_KEYS.add(key)


def hcl_value(value: Any, indent: str = "") -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = indent + "  "
        items = ",\n".join(inner + hcl_value(v, inner) for v in value)
        return "[\n" + items + ",\n" + indent + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        inner = indent + "  "
        items = "\n".join(
            f"{inner}{hcl_string(str(k))} = {hcl_value(v, inner)}" for k, v in value.items()
        )
        return "{\n" + items + "\n" + indent + "}"
    raise TypeError(f"no HCL form for {type(value).__name__}")


def _block(kind: str, name: str, attrs: Mapping[str, Any]) -> str:
    lines = [f"{kind} {hcl_string(name)} {{"]
    for key, value in attrs.items():
        if key not in _CHECKED_KEYS:
            _check_attribute_name(name, key)
        lines.append(f"  {key} = {hcl_value(value, '  ')}")
    lines.append("}")
    return "\n".join(lines)


def render_hcl(plan: Plan, rebaser: Rebaser, source: str) -> str:
    document = bake_definition(plan, rebaser)
    entitlements = list(rebaser.entitlements)
    header = [
        f"# {GENERATED_MARK} from {comment_text(source)}: edit that file, not this one.",
        "# Resolved: no inherits, matrix or variables; paths are relative to this file's",
        "# directory, so run bake from there: docker buildx bake -f <this file>",
    ]
    if len(plan.bake_runs) > 1:
        runs = " && ".join(
            f"docker buildx bake -f <this file> {bake_run_group(n)}"
            for n in range(1, len(plan.bake_runs) + 1)
        )
        header += [
            "# Some dependencies are not visible to bake (no target: link), so build in order:",
            f"#   {runs}",
        ]
    if entitlements:
        flags = comment_text(" ".join(e.flag() for e in entitlements))
        header.append(f"# buildx 0.19+ needs these filesystem entitlements: {flags}")
    blocks = [_block("group", name, g) for name, g in document["group"].items()]
    blocks += [_block("target", name, t) for name, t in document["target"].items()]
    return "\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n"
