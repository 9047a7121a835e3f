"""A working directory removed under the command is a clean exit 2, even with an absolute
-f: `plan` and `render` show paths relative to it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

PROJECT = EXAMPLES / "monorepo" / "buildgraph.toml"


@pytest.mark.parametrize("command", [["plan"], ["render", "--format", "hcl"]])
def test_a_removed_working_directory_is_exit_2(tmp_path: Path, command: list[str]) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = (
        "import os, sys\n"
        f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "from buildgraph.cli.main import main\n"
        f"sys.exit(main({[*command, '-f', str(PROJECT)]!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "working directory" in done.stderr
