"""The plan as a fully resolved bake JSON file: what `docker buildx bake --print` prints."""

from __future__ import annotations

import json
from typing import Any

from buildgraph.planner import Plan
from buildgraph.render import Rebaser, bake_attrs, rendered_groups


def escape_hcl(value: Any) -> Any:
    """Every string with bake's template markers escaped: bake reads JSON strings as HCL
    templates, so a literal `${` must be `$${` and `%{` must be `%%{`."""
    kind = type(value)
    if kind is str:
        return value.replace("${", "$${").replace("%{", "%%{") if "{" in value else value
    if kind is list:
        return [escape_hcl(v) for v in value]
    if kind is dict:
        return {k: escape_hcl(v) for k, v in value.items()}
    return value


def bake_definition(plan: Plan, rebaser: Rebaser) -> dict[str, Any]:
    """The bake document (group + target), paths rebased; `rebaser` collects entitlements."""
    targets = {p.name: escape_hcl(bake_attrs(p, rebaser)) for p in plan.targets}
    groups = {name: {"targets": members} for name, members in rendered_groups(plan).items()}
    return {"group": groups, "target": targets}


def render_bake_json(plan: Plan, rebaser: Rebaser) -> str:
    """The document with one group or target a line: readable, diffable, and written by
    json's C encoder (an indented dump is several times slower on thousands of targets)."""
    document = bake_definition(plan, rebaser)
    sections = []
    for section in ("group", "target"):
        entries = ",\n".join(
            f"    {json.dumps(name, ensure_ascii=False)}: {json.dumps(body, ensure_ascii=False)}"
            for name, body in document[section].items()
        )
        sections.append(f'  "{section}": {{\n{entries}\n  }}')
    return "{\n" + ",\n".join(sections) + "\n}\n"
