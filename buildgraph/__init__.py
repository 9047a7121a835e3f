"""buildgraph: declare the container images of a monorepo once, build them in order.

The version is the installed distribution's (`importlib.metadata`), defined once in
pyproject.toml; it is read only when asked for, so no command pays for the lookup.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("buildgraph")
    raise AttributeError(f"module 'buildgraph' has no attribute {name!r}")
