"""Graphviz's `dot`, which lays the graph's dot text out as a picture (SVG or PNG) for
`buildgraph graph --format svg|png`: the layout is Graphviz's, a well-kept program
Debian ships (`apt-get install graphviz`), not ours."""

from __future__ import annotations

from buildgraph.errors import EnvironmentProblem
from buildgraph.runner.process import run_filter

PICTURES = ("svg", "png")
DOT_TIMEOUT = 120.0  # a layout of thousands of nodes takes seconds; never hang forever
_INSTALL = "install Graphviz (Debian: apt-get install graphviz), or use --format dot"


def picture_of(dot_text: str, fmt: str) -> bytes:
    """The picture `dot -T<fmt>` draws of `dot_text`; EnvironmentProblem (exit 3) when
    dot is missing or fails."""
    if fmt not in PICTURES:
        raise ValueError(f"unknown picture format {fmt!r}")
    done = run_filter(["dot", f"-T{fmt}"], dot_text.encode("utf-8"), timeout=DOT_TIMEOUT)
    if done.code == 127 and not done.ran:
        raise EnvironmentProblem(f"Graphviz's dot is not installed; {_INSTALL}")
    if not done.ran:
        raise EnvironmentProblem(f"Graphviz's dot could not draw the graph: {done.stderr}")
    if done.code != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvironmentProblem(f"Graphviz's dot failed ({done.code}): {last[:300]}")
    return done.stdout
