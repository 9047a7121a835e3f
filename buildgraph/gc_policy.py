"""When Python's cyclic garbage collector runs: the one place that decides it.

Planning allocates a few objects for every attribute of every target and frees almost
nothing until it is done, so the collector's passes over that growing heap are pure cost:
about a fifth of a large plan's time. The model holds no reference cycles (see
`graph.selection.expand_names`), so nothing is lost by not collecting while planning.

- `pause_while_planning`: from the start of every command.
- `resume_for_a_long_run`: once a command stops planning and starts waiting on builds
  (build, watch), the collector is back on, with what planning made frozen out of its
  sight: that part lives until the command ends and is not worth scanning again and again.
- `spare_the_last_collections`: just before exit, so the interpreter's final collections
  do not walk everything the run made (about 9 ms of a build that reuses its plan).
"""

from __future__ import annotations

import gc


def pause_while_planning() -> None:
    gc.disable()


def resume_for_a_long_run() -> None:
    gc.freeze()
    gc.enable()


def spare_the_last_collections() -> None:
    gc.freeze()
