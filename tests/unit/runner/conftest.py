"""Plans of small projects on disk, for the runners' unit tests (nothing is built)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from buildgraph.plan.load import load, plan
from buildgraph.plan.plan import OutputMode, Plan


@pytest.fixture()
def make_plan(make_project: Callable[..., Path]) -> Callable[..., Plan]:
    """A plan of `toml` (and files), pushed unless told otherwise."""

    def make(
        toml: str,
        files: dict[str, str] | None = None,
        names: tuple[str, ...] = (),
        mode: OutputMode = OutputMode.PUSH,
    ) -> Plan:
        project = make_project(toml, files)
        return plan(load(project, {}, environ={}), names, mode)

    return make
