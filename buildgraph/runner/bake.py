"""The `docker buildx bake` command line, the working folder it runs from, and a bake
started before its plan is made.

Light on purpose: `build` starts bake from here before it imports what plans.
"""

from __future__ import annotations

from pathlib import Path

from buildgraph.locations import state_dir
from buildgraph.runner.process import Running, echo_to_stderr


def bake_argv(
    builder: str | None, progress: str | None, definition: str, metadata: Path, targets: list[str]
) -> list[str]:
    """`docker buildx bake` of `targets` (none: the default group) from `definition`, a file
    or "-" for standard input, writing buildx's metadata (digests) to `metadata`."""
    return [
        "docker",
        "buildx",
        *(["--builder", builder] if builder else []),
        "bake",
        "-f",
        definition,
        "--metadata-file",
        str(metadata),
        "--progress",
        progress or "plain",
        *targets,
    ]


class EarlyBake:
    """A `docker buildx bake -f -` started before there is a plan: buildx's own start-up
    (the docker CLI, plugin discovery, the plugin's exec; about 70 ms) then overlaps
    planning instead of following it. It reads the definition from standard input and has
    built nothing until it is fed one, so stopping it unfed is clean; and should buildgraph
    die first, bake reads an empty definition and exits having built nothing.

    It builds the definition's default group, which is the whole plan: the bake runner
    feeds it only when the first run is the whole plan (one stage), and stops it otherwise.
    """

    def __init__(self, root: Path, builder: str | None, progress: str | None) -> None:
        state = state_dir(root)
        self.metadata = state / "bake-1.metadata.json"
        self.metadata.unlink(missing_ok=True)
        argv = bake_argv(builder, progress, "-", self.metadata, [])
        self.running: Running | None = Running(
            argv,
            root,
            state / "logs" / "bake-1.log",
            echo=echo_to_stderr("") if progress else None,
            feed_later=True,
        )

    def feed(self, definition: str) -> Running:
        assert self.running is not None, "an early bake is fed once"
        running, self.running = self.running, None
        running.feed(definition)
        return running

    def stop(self) -> None:
        """Stop it unless it was fed (what was fed is the runner's to stop)."""
        if self.running is not None:
            self.running.stop()
            self.running = None
