"""Choosing the renderer for `render --format`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.render.bake_target import Entitlement, Rebaser

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan


def render_file(plan: Plan, fmt: str, base: Path) -> tuple[str, list[Entitlement]]:
    """The file's text with paths relative to `base`, and the entitlements it needs."""
    rebaser = Rebaser(plan.project, base)
    source = plan.project.file.name
    if fmt in ("bake", "json"):
        from buildgraph.render.bake_json import render_bake_json

        text = render_bake_json(plan, rebaser)
    elif fmt == "hcl":
        from buildgraph.render.hcl import render_hcl

        text = render_hcl(plan, rebaser, source)
    elif fmt == "sh":
        from buildgraph.render.shell import render_shell

        text = render_shell(plan, rebaser, source)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return text, list(rebaser.entitlements)
