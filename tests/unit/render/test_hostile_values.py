"""Nothing a value holds leaves its token in a rendered file: comments, strings, argv."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.plan.load import load, plan
from buildgraph.render.escaping import comment_text, hcl_string
from buildgraph.render.formats import render_file

PROJECT = """
[project]
name = "hostile"

[variables]
OUT = "../dist"
CTX = "app"
DOCKERFILE = "Dockerfile"

[target.app]
context = "{{ CTX }}"
dockerfile = "{{ DOCKERFILE }}"
output = [{ type = "local", dest = "{{ OUT }}" }]
"""


def render(project: Path, fmt: str, environ: dict[str, str], base: str = ".") -> str:
    loaded = load(project, {}, environ=environ)
    text, _ = render_file(plan(loaded, ()), fmt, (project.parent / base).resolve())
    return text


def hostile_project(make_project: Callable[..., Path], context: str = "app") -> Path:
    return make_project(PROJECT, {f"{context}/Dockerfile": "FROM scratch\n", "-": "FROM scratch\n"})


def test_a_newline_in_a_value_cannot_end_a_shell_comment(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    # Rendered into a folder the context is not in: its path shows in a comment, the
    # entitlement buildx may ask for.
    context = "app\ntouch PWNED"
    project = hostile_project(make_project, context)
    (project.parent / "out").mkdir()
    script = render(project, "sh", {"CTX": context}, "out")
    assert "# buildx 0.19+ may ask for: --allow=fs.read=" in script
    assert "touch PWNED" not in script.splitlines()
    # Run it, with a docker that does nothing: only docker may run, never the value.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text("#!/bin/sh\nexit 0\n")
    (fake / "docker").chmod(0o755)
    path = project.parent / "out" / "build.sh"
    path.write_text(script)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["sh", str(path)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert not (project.parent / "PWNED").exists()


def test_a_newline_in_a_value_cannot_add_an_hcl_block(make_project: Callable[..., Path]) -> None:
    context = 'app\ntarget "evil" {\n  context = "/"\n'
    project = hostile_project(make_project, context)
    (project.parent / "out").mkdir()
    hcl = render(project, "hcl", {"CTX": context}, "out")
    assert "entitlements: --allow=fs.read=" in hcl
    header = hcl.split("\n\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert not re.search(r'^target "evil"', hcl, re.MULTILINE)
    assert len(re.findall(r"^target ", hcl, re.MULTILINE)) == 1


def test_the_project_file_name_stays_in_its_comment(make_project: Callable[..., Path]) -> None:
    project = hostile_project(make_project)
    named = project.rename(project.parent / "x\ntouch PWNED\n.toml")
    for fmt in ("sh", "hcl"):
        text = render(named, fmt, {})
        assert "touch PWNED" not in text.splitlines()
        assert "x\\u000atouch PWNED\\u000a.toml" in text


def test_a_context_starting_with_a_dash_stays_a_path(make_project: Callable[..., Path]) -> None:
    for context in ("--allow=security.insecure", "-x"):
        project = hostile_project(make_project, context)
        script = render(project, "sh", {"CTX": context})
        command = script.splitlines()[-1]
        assert command.endswith(f" ./{context}"), command


def test_a_dockerfile_named_dash_is_not_stdin(make_project: Callable[..., Path]) -> None:
    project = hostile_project(make_project, ".")
    script = render(project, "sh", {"CTX": ".", "DOCKERFILE": "-"})
    assert "--file ./- " in script.splitlines()[-1]


def _hcl_decoded(literal: str) -> str:
    """What HCL reads from a quoted literal: its escapes (only HCL's) and the markers."""
    assert literal[0] == literal[-1] == '"'
    escapes = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    out: list[str] = []
    body, i = literal[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            kind = body[i + 1]
            if kind == "u":
                code = int(body[i + 2 : i + 6], 16)
                i += 6
                if 0xD800 <= code < 0xDC00 and body[i : i + 2] == "\\u":  # a pair
                    low = int(body[i + 2 : i + 6], 16)
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                out.append(chr(code))
                continue
            assert kind in escapes, f"\\{kind} is no HCL escape"
            out.append(escapes[kind])
            i += 2
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i + 1 : i + 3])
            i += 3
        else:
            assert body[i : i + 2] not in ("${", "%{"), "an unescaped template marker"
            assert char not in "\n\r", "a raw line break in a string"
            out.append(char)
            i += 1
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_hcl_strings_read_back_as_the_value(text: str) -> None:
    assert _hcl_decoded(hcl_string(text)) == text


def test_hcl_strings_have_no_json_only_escapes() -> None:
    assert hcl_string("a\bb\fc\\b") == '"a\\u0008b\\u000cc\\\\b"'
    assert json.loads(hcl_string("a\bb\fc")) == "a\bb\fc"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_comment_text_is_one_line_of_encodable_text(text: str) -> None:
    shown = comment_text(text)
    assert len(shown.splitlines()) <= 1
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", shown)
    shown.encode("utf-8")  # no lone surrogate


def test_an_attribute_name_that_is_no_identifier_is_refused() -> None:
    from buildgraph.errors import ConfigError
    from buildgraph.render import hcl

    assert hcl._block("target", "app", {"context": "."}) == 'target "app" {\n  context = "."\n}'
    with pytest.raises(ConfigError, match="HCL attribute name"):
        hcl._block("target", "app", {'x = 1\n}\ntarget "evil" {\n  y': "."})


def test_a_key_holding_an_equals_sign_is_refused_for_buildx_build(
    make_project: Callable[..., Path],
) -> None:
    from buildgraph.errors import ConfigError

    for table in (
        'args = { "A=B" = "c" }',
        'labels = { "l=x" = "y" }',
        'contexts = { "n=m" = "app" }',
    ):
        project = make_project(
            f'[target.app]\ncontext = "app"\n{table}\n', {"app/Dockerfile": "FROM scratch\n"}
        )
        with pytest.raises(ConfigError, match="holds '='"):
            render(project, "sh", {})
        render(project, "bake", {})  # bake's file carries the table whole


def test_an_entry_field_holding_a_comma_stays_one_field(
    make_project: Callable[..., Path],
) -> None:
    import csv
    import shlex

    project = make_project(
        '[target.app]\ncontext = "app"\noutput = [{ type = "local", dest = "a,b\\"c" }]\n',
        {"app/Dockerfile": "FROM scratch\n"},
    )
    words = shlex.split(render(project, "sh", {}).splitlines()[-1])
    entry = words[words.index("--output") + 1]
    assert next(csv.reader([entry])) == ["type=local", 'dest=a,b"c']
