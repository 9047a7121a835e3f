"""The plan as a fully resolved bake JSON file: what `docker buildx bake --print` prints."""

from __future__ import annotations

import json
from typing import Any

from buildgraph.planner import Plan
from buildgraph.render import Rebaser, bake_attrs, rendered_groups


def escape_hcl(value: Any) -> Any:
    """Every string with bake's template markers escaped: bake reads JSON strings as HCL
    templates, so a literal `${` must be `$${` and `%{` must be `%%{`."""
    if isinstance(value, str):
        return value.replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return [escape_hcl(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_hcl(v) for k, v in value.items()}
    return value


def bake_definition(plan: Plan, rebaser: Rebaser) -> dict[str, Any]:
    """The bake document (group + target), paths rebased; `rebaser` collects entitlements."""
    targets = {p.name: escape_hcl(bake_attrs(p, rebaser)) for p in plan.targets}
    groups = {name: {"targets": members} for name, members in rendered_groups(plan).items()}
    return {"group": groups, "target": targets}


def render_bake_json(plan: Plan, rebaser: Rebaser) -> str:
    return json.dumps(bake_definition(plan, rebaser), indent=2, ensure_ascii=False) + "\n"
