"""`python -m buildgraph` exits with main's code after an interrupt main handled, never by
SIGINT (issue 12, faults).

CPython (3.8 to 3.13) kills a `python -m` process with SIGINT at exit, whatever its exit
code, once a KeyboardInterrupt has ended an `exec` or `eval` of a string, even one caught
since. The engine tests saw it: a Ctrl-C or SIGTERM landing while planning imported a
module (each `@dataclass` runs such an `exec`) ended the build with -2 instead of 130.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# main as it is when the interrupt ends a string exec inside the command: it is caught
# there, "interrupted" printed, 130 returned, as buildgraph.cli.main does.
INTERRUPTED_IN_A_STRING_EXEC = """\
import sys

from buildgraph.cli import main as cli


def interrupted() -> int:
    try:
        exec("raise KeyboardInterrupt", {})
    except KeyboardInterrupt:
        print("buildgraph: interrupted", file=sys.stderr)
        return 130
    return 0


cli.main = interrupted
cli.run()
"""


def test_an_interrupt_caught_after_a_string_exec_still_exits_130(tmp_path: Path) -> None:
    (tmp_path / "interrupted_entry.py").write_text(INTERRUPTED_IN_A_STRING_EXEC)
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_entry"],  # -m, as `python -m buildgraph` runs
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert done.returncode == 130, done.stderr  # -2 (killed by SIGINT) without the fix
    assert done.stderr == "buildgraph: interrupted\n"
