"""The plan as a fully resolved bake JSON file: what `docker buildx bake --print` prints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.render.bake_target import Rebaser, bake_attrs, rendered_groups
from buildgraph.render.escaping import escape_template_markers
from buildgraph.render.ownership import GENERATED_MARK, JSON_COMMENT_KEY

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def _plain(value: Any) -> Any:
    # The model's read-only tables; the exact type first, the ABC check is slow.
    if type(value) is MappingProxyType or isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# One encoder for every entry (json.dumps with options builds one per call), without the
# check for cycles: the model is made of TOML values, which have none.
_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, default=_plain).encode


def bake_definition(plan: Plan, rebaser: Rebaser) -> dict[str, Any]:
    """The bake document (group + target), paths rebased; `rebaser` collects entitlements.
    Strings are as meant, not yet escaped for bake."""
    targets = {p.name: bake_attrs(p, rebaser) for p in plan.targets}
    groups = {name: {"targets": members} for name, members in rendered_groups(plan).items()}
    return {"group": groups, "target": targets}


ENTRY_INDENT = "    "  # deeper than the two spaces of the top-level keys


def render_bake_json(plan: Plan, rebaser: Rebaser) -> str:
    """The document with one group or target a line: readable, diffable, and written by
    json's C encoder (an indented dump is several times slower on thousands of targets).

    It starts with the mark that makes it ours to replace (render.ownership), as the
    property `"//"`, which bake reads as a comment. A section with no entry is left out:
    bake cannot read `"target": {}` (an empty group's plan)."""
    document = bake_definition(plan, rebaser)
    mark = f"{GENERATED_MARK} from {plan.project.file.name}: edit that file, not this one."
    sections = [f"  {_dumps(JSON_COMMENT_KEY)}: {_dumps(mark)}"]
    for section in ("group", "target"):
        if document[section]:
            sections.append(f'  "{section}": {{\n{_entry_lines(document[section])}\n  }}')
    return escape_template_markers("{\n" + ",\n".join(sections) + "\n}\n")


def _entry_lines(entries: Mapping[str, Any]) -> str:
    """`"name": {...}` a line; JSON strings hold no raw newline, so each entry is one line."""
    return ",\n".join(
        f"{ENTRY_INDENT}{_dumps(name)}: {_dumps(body)}" for name, body in entries.items()
    )
