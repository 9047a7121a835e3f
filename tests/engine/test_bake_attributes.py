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
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME, BAKE_ATTRIBUTES
from tests.conftest import FIXTURES

pytestmark = pytest.mark.engine

PROJECT = FIXTURES / "every-attribute" / "buildgraph.toml"


def unescaped(value: object) -> object:
    """Newer bake escapes ${ again in --print for some fields; compare the meaning."""
    return json.loads(json.dumps(value).replace("$${", "${").replace("%%{", "%{"))


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
                assert unescaped(printed[name][key]) == unescaped(value), key
            else:
                needed = ATTRIBUTES_BY_NAME[key].min_buildx
                assert needed is not None and version(needed) > have, (
                    f"buildx {have} dropped {key!r}, but the table says it knows it"
                )
    inline = printed["inline"]["dockerfile-inline"]
    assert '"${NOT_A_VAR}"' in inline  # a literal ${ survives bake's HCL evaluation
