"""`buildgraph import` from files to text: read each file (HCL, bake JSON, Compose),
translate them in bake's order, and say what was decided. No file is written here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from buildgraph.errors import ConfigError
from buildgraph.importing.report import UNTRANSLATABLE, Decision

COMPOSE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True, slots=True)
class ImportResult:
    text: str  # the buildgraph.toml
    decisions: tuple[Decision, ...]

    @property
    def partial(self) -> bool:
        return any(d.kind == UNTRANSLATABLE for d in self.decisions)


def import_definition(
    files: tuple[Path, ...], output: Path, cwd: Path, stdlib: frozenset[str] | None = None
) -> ImportResult:
    """The buildgraph.toml of bake or Compose `files`, read from bake's working folder
    `cwd`, to be written at `output`."""
    from buildgraph.importing.bake_import import Imported, import_bake
    from buildgraph.importing.toml_writer import toml_document

    out_dir = output.parent
    imported = Imported()
    compose = tuple(f for f in files if f.suffix in COMPOSE_SUFFIXES)
    bake = tuple(f for f in files if f.suffix not in COMPOSE_SUFFIXES)
    if compose:
        from buildgraph.importing.compose_import import import_compose

        import_compose(compose, cwd, out_dir, imported)
    if bake:
        from buildgraph.importing.hcl_source import read_bake_file

        sources = tuple(read_bake_file(f) for f in bake)
        import_bake(sources, cwd, out_dir, stdlib, imported)
    shown = ", ".join(os.path.relpath(f, out_dir) for f in files)
    header = [
        f"Imported by `buildgraph import` from {shown}.",
        "Every decision it made (what is approximate or missing, each path rebased, each",
        "default kept) is in .buildgraph-import beside this file.",
    ]
    text = toml_document(imported.document(), imported.origins, header)
    return ImportResult(text, tuple(imported.decisions))


def bake_files_here(cwd: Path) -> tuple[Path, ...]:
    """The files bake reads with no -f, in its order."""
    from buildgraph.projectfile.locate import BAKE_DEFAULT_FILES

    found = tuple(cwd / name for name in BAKE_DEFAULT_FILES if (cwd / name).is_file())
    if not found:
        raise ConfigError.one(
            f"no bake or Compose file in {cwd}",
            hint="name the files: buildgraph import docker-bake.hcl [docker-bake.override.hcl]",
        )
    return found


def refuse_existing_output(output: Path, force: bool) -> None:
    """Nothing a user wrote is replaced unless asked (`--force`)."""
    from buildgraph.errors import ConfigError

    if (output.exists() or output.is_symlink()) and not force:
        raise ConfigError.one(
            "the file exists", file=output, hint="--force replaces it, or -o names another"
        )
