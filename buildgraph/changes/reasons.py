"""Why `watch` rebuilds each target after a change: a file of its own changed, its
definition changed, or a dependency of it is rebuilt. Shown before the build starts, so
a person sees the cause of every rebuild (`api-slim: services/api/app/run.sh changed`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan

_FILES_NAMED = 2  # a reason names this many changed files, then counts the rest


ASKED = "a rebuild was asked for on the page"


def rebuild_reasons(
    the_plan: Plan,
    touched: Mapping[str, Sequence[str]],
    redefined: Collection[str],
    asked: Collection[str] = (),
) -> dict[str, str]:
    """target -> why it is rebuilt, in build order, for every target of the plan that
    `touched` (target -> the changed files it reads, as shown), `redefined` or `asked`
    (the page's rebuild button) names, and every dependent of those, transitively."""
    reasons: dict[str, str] = {}
    for planned in the_plan.targets:  # build order: dependencies come first
        name = planned.name
        if name in asked:
            reasons[name] = ASKED
        elif touched.get(name):
            reasons[name] = _files_changed(touched[name])
        elif name in redefined:
            reasons[name] = "its definition changed"
        else:
            rebuilt = [d for d in planned.needs if d in reasons]
            if rebuilt:
                reasons[name] = f"it needs {', '.join(rebuilt)}, rebuilt"
    return reasons


def _files_changed(files: Sequence[str]) -> str:
    named = ", ".join(files[:_FILES_NAMED])
    more = len(files) - _FILES_NAMED
    return f"{named} changed" + (f" (and {more} more)" if more > 0 else "")
