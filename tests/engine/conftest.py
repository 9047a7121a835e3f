"""Fixtures several engine test modules share."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import engine_part_missing
from tests.engine.test_faults import SecondRegistry


@pytest.fixture()
def second_registry(engine: str, tmp_path: Path) -> Iterator[SecondRegistry]:
    if shutil.which("docker-registry") is None:
        engine_part_missing("docker-registry is not installed")
    registry = SecondRegistry(tmp_path / "registry")
    registry.root.mkdir()
    registry.start()
    yield registry
    registry.stop()
