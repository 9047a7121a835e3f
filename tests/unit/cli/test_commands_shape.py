"""The CLI's shape: one module per command, each with `add_parser` and `run` only, `main`
dispatching to them; and what importing the CLI may not pull in."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest

from buildgraph.cli.main import build_parser, main
from buildgraph.errors import ConfigError, EnvironmentProblem
from tests.conftest import EXAMPLES

MONOREPO_FILE = EXAMPLES / "monorepo" / "buildgraph.toml"
COMMANDS = (
    "plan",
    "render",
    "validate",
    "build",
    "join",
    "watch",
    "doctor",
    "affected",
    "graph",
    "schema",
    "import",
    "ci",
)


# A command whose name Python keeps for itself lives in a module of another name.
MODULE_OF = {"import": "import_project"}


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"buildgraph.cli.{MODULE_OF.get(name, name)}")


def public_callables(module: ModuleType) -> set[str]:
    """The public functions and classes the module defines (not the names it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and callable(value)
        and getattr(value, "__module__", None) == module.__name__
    }


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_module_has_add_parser_and_run_only(name: str) -> None:
    module = command_module(name)
    assert public_callables(module) == {"add_parser", "run"}
    assert list(inspect.signature(module.add_parser).parameters) == ["commands"]
    assert list(inspect.signature(module.run).parameters) == ["args"]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_module_registers_its_own_name_and_run(name: str) -> None:
    module = command_module(name)
    parser = argparse.ArgumentParser(prog="buildgraph")
    commands = parser.add_subparsers(dest="command", required=True)
    module.add_parser(commands)
    assert list(commands.choices) == [name]
    assert commands.choices[name].get_default("run") is module.run


def test_the_parser_has_every_command_and_no_other() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(commands.choices) == list(COMMANDS)
    for name, sub in commands.choices.items():
        assert sub.get_default("run") is command_module(name).run


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: buildgraph ")
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ")]
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_commands_help_exits_0(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: buildgraph {name} ")


def test_render_format_choices_are_the_renderers_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from buildgraph.render import FORMATS

    assert main(["render", "--help"]) == 0
    assert "--format {" + ",".join(FORMATS) + "}" in capsys.readouterr().out
    assert main(["render", "--format", "xml"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'xml'" in err
    assert all(repr(f) in err for f in FORMATS)


@pytest.mark.parametrize("argv", [["plan", "--nope"], ["--nope", "plan"], ["nope"], []])
def test_an_unknown_flag_or_command_exits_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert "usage: buildgraph" in capsys.readouterr().err


def plan_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(argv) == 0, capsys.readouterr().err
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def base_tags(doc: dict[str, object]) -> list[str]:
    waves = doc["waves"]
    assert isinstance(waves, list)
    tags: list[str] = waves[0][0]["tags"]
    return tags


def test_global_file_and_var_before_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TAG", raising=False)
    monkeypatch.chdir(tmp_path)  # no buildgraph.toml here: only -f finds the project
    argv = ["-f", str(MONOREPO_FILE), "--var", "TAG=9", "plan", "--format", "json", "base"]
    assert base_tags(plan_json(argv, capsys)) == ["localhost:5000/acme/base:9"]
    # the command's own flags win: its -f, and its --var after the global one
    argv = ["-f", "/nope.toml", "--var", "TAG=8", "plan", "-f", str(MONOREPO_FILE)]
    argv += ["--var", "TAG=9", "--format", "json", "base"]
    assert base_tags(plan_json(argv, capsys)) == ["localhost:5000/acme/base:9"]


def test_a_bad_var_is_a_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--var", "X", "plan", "-f", str(MONOREPO_FILE)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("buildgraph: --var number 1 has no '=': it must be NAME=VALUE")
    assert "'X'" not in err  # what may be a secret is not shown


def raising(error: BaseException) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise error

    return run


@pytest.mark.parametrize(
    ("error", "code", "err"),
    [
        (
            EnvironmentProblem("docker is missing\n  hint: install it"),
            3,
            "buildgraph: docker is missing\n  hint: install it\n",
        ),
        (ConfigError.one("bad", hint="fix it"), 2, "buildgraph: bad\n  hint: fix it\n"),
        (KeyboardInterrupt(), 130, "buildgraph: interrupted\n"),
        (BrokenPipeError(), 0, ""),
    ],
)
def test_main_maps_errors_to_exit_codes(
    error: BaseException,
    code: int,
    err: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # add_parser registers the module's `run` as it is when the parser is built
    monkeypatch.setattr(command_module("schema"), "run", raising(error))
    assert main(["schema"]) == code
    assert capsys.readouterr().err == err


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"buildgraph {version('buildgraph')}\n"


def test_the_console_script_entry_exits_with_mains_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from buildgraph.cli.main import run

    monkeypatch.setattr(sys, "argv", ["buildgraph", "plan", "--nope"])
    with pytest.raises(SystemExit) as exited:
        run()
    assert exited.value.code == 2


HEAVY = ("networkx", "jinja2", "tomli", "buildgraph.plan", "buildgraph.resolve", "buildgraph.graph")


def imported_after(code: str) -> list[str]:
    """The HEAVY modules (or their submodules) in sys.modules after running `code`."""
    check = (
        f"{code}\n"
        "import sys, json\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    found: list[str] = json.loads(result.stdout)
    return found


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert imported_after("import buildgraph.cli.main") == []


def test_building_the_parser_imports_nothing_heavy() -> None:
    # every command's add_parser runs: none may import what its run needs
    assert imported_after("import buildgraph.cli.main as m; m.build_parser()") == []


def test_the_heavy_check_sees_an_import() -> None:
    # the two tests above would pass vacuously if the check could not see a module
    assert "buildgraph.plan.load" in imported_after("import buildgraph.plan.load")
