"""Where buildgraph keeps things: the state folder beside the project file, and the
user's cache folder.

- `.buildgraph/` beside the project file holds the working files of builds: the bake file
  a build runs, logs, metadata, the OCI layouts that hand a dependency's result to its
  dependents. It ignores itself in git, and watch mode ignores it.
- The user's cache (`$XDG_CACHE_HOME/buildgraph`, else `~/.cache/buildgraph`) holds what
  must come from no one but the user: recorded plans (pickles, which run code when loaded)
  and kept builder facts. Never the project's folder: a cloned repository could carry a
  `.buildgraph/` of someone else's.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

STATE_DIR_NAME = ".buildgraph"
# The OCI layouts of linked dependencies, as written into rendered scripts and commands
# (relative to the folder they run in).
OCI_LAYOUTS = f"{STATE_DIR_NAME}/oci"


def state_dir(project_root: Path) -> Path:
    """.buildgraph/ beside the project file, made on first use, ignoring itself in git."""
    folder = project_root / STATE_DIR_NAME
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# buildgraph's working files\n*\n")
    return folder


def user_cache_dir() -> Path:
    """buildgraph's folder in the user's cache ($XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "buildgraph"


def cache_entry(folder: str, key: str, suffix: str) -> Path:
    """The file in the user's cache for `key`. A short name (zlib's checksums: no hashlib,
    whose OpenSSL start-up costs every run 6 ms), so each entry must hold its whole key:
    two keys sharing a name then only take each other's place."""
    data = key.encode()
    return user_cache_dir() / folder / f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{suffix}"
