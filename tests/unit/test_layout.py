"""The package keeps the shape docs/architecture.md describes: no import cycle, no
private name imported from another module, at most 9 import levels from __main__
(tests/unit/runner/test_process.py checks that one module starts processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "scripts" / "import_map.py"


def test_import_map_check_passes() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=REPO
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_map_sees_a_cycle_and_a_private_import(tmp_path: Path) -> None:
    """The check itself can fail: a copy of a tiny package with a cycle and a private
    import is reported."""
    package = tmp_path / "buildgraph"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("from buildgraph import a\n")
    (package / "a.py").write_text("from buildgraph.b import _hidden\n")
    (package / "b.py").write_text("def f():\n    from buildgraph import a\n_hidden = 1\n")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "import_map.py").write_text(SCRIPT.read_text())
    done = subprocess.run(
        [sys.executable, str(scripts / "import_map.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "buildgraph.a <-> buildgraph.b" in done.stdout
    assert "from buildgraph.b import _hidden" in done.stdout
