"""`buildgraph join`: the steps (runner.join joins; report says what became of each)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def run_join_command(paths: Sequence[Path], json_events: bool) -> int:
    """Join the targets the digests files name; exit 0 when every one's tags were made,
    1 when one failed or lacks a platform, 2 for a file that is no digests file."""
    from buildgraph.errors import EXIT_BUILD_FAILED, EXIT_OK
    from buildgraph.report.events import Event, human_emitter, json_emitter, summary_table
    from buildgraph.report.style import Style
    from buildgraph.runner.join import run_join

    emit = json_emitter() if json_events else human_emitter()
    results = run_join(paths, emit)
    if json_events:
        rows = [
            {"name": r.name, "platforms": list(r.platforms), "status": r.status}
            | {"digest": r.digest, "detail": r.detail}
            for r in results
        ]
        emit(Event("summary", data={"targets": rows}))
    else:
        print(summary_table(results, Style.for_stream(sys.stderr)), file=sys.stderr)
    return EXIT_OK if all(r.status == "done" for r in results) else EXIT_BUILD_FAILED
