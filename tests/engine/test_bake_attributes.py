"""Every bake attribute, rendered and given to the real `docker buildx bake --print`: what
this buildx understands comes back exactly as declared; what it drops silently is what our
attribute table says is newer than it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from buildgraph.cli.main import main
from buildgraph.model.entries import ENTRY_KEYS, entry_fields
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME, BAKE_ATTRIBUTES
from tests.conftest import FIXTURES

pytestmark = pytest.mark.engine

PROJECT = FIXTURES / "every-attribute" / "buildgraph.toml"


def unescaped(value: object) -> object:
    """Newer bake escapes ${ again in --print for some fields; compare the meaning."""
    return json.loads(json.dumps(value).replace("$${", "${").replace("%%{", "%{"))


def meaning(key: str, value: object) -> object:
    """What bake reads in a value: newer bake (0.29.1) prints the entries of `cache-from`,
    `cache-to` and the like as tables, 0.13.1 as the CSV text they were given."""
    value = unescaped(value)
    if key in ENTRY_KEYS and isinstance(value, list):
        return [entry_fields(entry) for entry in value]
    return value


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def installed_buildx(docker: str) -> tuple[int, ...]:
    out = subprocess.run([docker, "buildx", "version"], capture_output=True, text=True).stdout
    match = re.search(r"v?(\d+\.\d+\.\d+)", out)
    assert match, out
    return version(match.group(1))


def test_every_attribute_survives_bake_print_or_is_newer_than_buildx(
    buildx: str, tmp_path: Path
) -> None:
    out = tmp_path / "bake.json"
    assert main(["render", "-f", str(PROJECT), "-o", str(out)]) == 0
    rendered = json.loads(out.read_text())["target"]
    declared = set(rendered["everything"])
    ssh_and_inline = {"ssh", "dockerfile-inline"}
    assert declared | ssh_and_inline == {a.name for a in BAKE_ATTRIBUTES}, "fixture is incomplete"

    result = subprocess.run(
        [buildx, "buildx", "bake", "-f", str(out), "--print", "everything", "inline"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)["target"]
    have = installed_buildx(buildx)
    for name in ("everything", "inline"):
        for key, value in rendered[name].items():
            if key in printed[name]:
                assert meaning(key, printed[name][key]) == meaning(key, value), key
            else:
                needed = ATTRIBUTES_BY_NAME[key].min_buildx
                assert needed is not None and version(needed) > have, (
                    f"buildx {have} dropped {key!r}, but the table says it knows it"
                )
    inline = unescaped(printed["inline"]["dockerfile-inline"])
    assert isinstance(inline, str)
    assert '"${NOT_A_VAR}"' in inline  # a literal ${ survives bake's HCL evaluation
