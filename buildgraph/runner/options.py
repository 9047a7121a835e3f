"""What a run of a plan is asked to do (`BuildOptions`), and the two ways it ends early:
`Stop` (Ctrl-C or the cancel event, inside a runner) and `Interrupted` (what the runner
then raises to its caller, with where each target got to).

Apart from the `run_plan` dispatcher, which imports every runner: the runners import this.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from buildgraph.plan.platform_share import PlatformShare
    from buildgraph.report.events import TargetResult


@dataclass(frozen=True, slots=True)
class BuildOptions:
    via: str = "bake"  # "bake" or "commands"
    jobs: int = 4
    keep_going: bool = False
    progress: str | None = None  # buildx's own progress shown (auto, plain, tty), or None
    builder: str | None = None
    split_platforms: bool = False
    driver: str | None = None  # the builder's driver, as the probe found it
    buildx_version: str | None = None  # as the probe found it: which flags bake knows
    only: frozenset[str] | None = None  # build just these; the others are taken as built
    cancel: threading.Event | None = None  # set from another thread: stop like Ctrl-C
    # --platform: this runner's share (split builds pushed by digest, joined later), and
    # the file its digests go to (--digests-out)
    share: PlatformShare | None = None
    digests_out: Path | None = None


class Stop(Exception):
    """Ctrl-C, or the cancel event of the options: stop every build started."""


class Interrupted(Exception):
    """Ctrl-C: every started build was stopped; `results` says where each target got to."""

    def __init__(self, results: list[TargetResult]) -> None:
        super().__init__("interrupted")
        self.results = results
