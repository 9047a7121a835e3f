"""Compose services' `build:` sections (and `x-bake`) as buildgraph targets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from buildgraph.importing.bake_import import Imported


def import_compose(files: tuple[Path, ...], cwd: Path, out_dir: Path, into: Imported) -> None:
    raise ConfigError.one("importing Compose files is not done yet", file=files[0])
