"""`build --via commands`: one `docker buildx build` per target, up to -j at once (the
scheduler decides when), each dependency handed to its dependents as the exact result just
built: the pushed digest for a target pushed to a registry, else an OCI layout on disk
(pinned to its digest when the build reported one).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.locations import state_dir
from buildgraph.model.entries import pushes_to_registry
from buildgraph.model.image_refs import repository
from buildgraph.render.bake_target import Rebaser
from buildgraph.render.buildx_build import build_command, linked_dependencies
from buildgraph.report.events import TargetResult
from buildgraph.runner.bake import BakeOutput, buildx_progress
from buildgraph.runner.buildx_results import image_digest, last_error_line, read_metadata_file
from buildgraph.runner.results import RunResults
from buildgraph.runner.scheduler import Launch, schedule

if TYPE_CHECKING:
    from buildgraph.plan.plan import Plan, PlannedTarget
    from buildgraph.report.events import Emit
    from buildgraph.runner.options import BuildOptions
    from buildgraph.runner.process import ProcessStarter


class TargetBuilds:
    """The scheduler's `Way` for per-target builds: one unit per target, named after it."""

    def __init__(self, plan: Plan, options: BuildOptions, emit: Emit) -> None:
        self.plan = plan
        self.options = options
        self.emit = emit
        self.root = plan.project.root
        self.state = state_dir(self.root)
        self.rebaser = Rebaser(plan.project, self.root)
        self.exported = linked_dependencies(plan)
        self.oci = self.state / "oci"
        self.digests: dict[str, str] = {}
        self.codes: dict[str, tuple[int, Path]] = {}  # target -> exit code, readable log
        self.outputs: dict[str, BakeOutput] = {}
        self.measured: dict[str, Measured] = {}

    def metadata_file(self, name: str) -> Path:
        return self.state / "metadata" / f"{name}.json"

    def describe(self, planned: PlannedTarget) -> str | None:
        return ", ".join(planned.target.platforms) or None

    def link_contexts(self, planned: PlannedTarget) -> dict[str, str]:
        contexts = {}
        for ref, dep in planned.links.items():
            digest = self.digests.get(dep)
            dependency = self.plan[dep]
            pushed = pushes_to_registry(dependency.outputs)
            if pushed and digest and dependency.target.tags:
                contexts[ref] = f"docker-image://{repository(dependency.target.tags[0])}@{digest}"
            else:
                pin = f"@{digest}" if digest else ""
                contexts[ref] = f"oci-layout://{self.oci / dep}{pin}"
        return contexts

    def launches(self, planned: PlannedTarget) -> dict[str, Launch]:
        name = planned.name
        if name in self.exported:
            shutil.rmtree(self.oci / name, ignore_errors=True)
        metadata = self.metadata_file(name)
        metadata.parent.mkdir(parents=True, exist_ok=True)
        metadata.unlink(missing_ok=True)
        command = build_command(
            planned,
            self.rebaser,
            name in self.exported,
            str(self.oci),
            self.link_contexts(planned),
            str(metadata),
            builder=self.options.builder,
            progress=buildx_progress(self.options.progress),
        )
        # As a bake's: rawjson read into the readable log, each step told as it comes.
        output = BakeOutput(
            self.state / "logs" / f"{name}.log", self.options.progress, f"[{name}] "
        )
        output.listen([name], self.emit)
        self.outputs[name] = output
        return {
            name: Launch(command.argv, output.process_log, command.stdin, output.echo, output.log)
        }

    def unit_ended(self, planned: PlannedTarget, unit: str, code: int, log: Path) -> None:
        digest = image_digest(read_metadata_file(self.metadata_file(planned.name)))
        if digest:
            self.digests[planned.name] = digest
        output = self.outputs.pop(planned.name, None)
        if output is not None:
            output.close()
            log = output.log
            self.measured[planned.name] = measured_build(planned.name, output, code)
        self.codes[planned.name] = (code, log)

    def outcome(self, planned: PlannedTarget, started: float) -> TargetResult:
        code, log = self.codes[planned.name]
        measured = self.measured.pop(planned.name, Measured())
        return TargetResult(
            planned.name,
            planned.target.platforms,
            "done" if code == 0 else "failed",
            measured.seconds if measured.seconds is not None else time.monotonic() - started,
            self.digests.get(planned.name),
            None if code == 0 else last_error_line(log),
            str(log),
            measured.steps,
            measured.cached_steps,
            measured.failed_at,
        )


@dataclass(frozen=True, slots=True)
class Measured:
    """What a build's progress stream told of it."""

    seconds: float | None = None  # from its first step's start to its last one's end
    steps: int = 0
    cached_steps: int = 0
    failed_at: str | None = None


def measured_build(name: str, output: BakeOutput, code: int) -> Measured:
    from buildgraph.runner.bake_log import failure_places

    steps, cached = output.instruction_steps([name]).get(name, (0, 0))
    places = failure_places(output.log.read_text(errors="replace").splitlines()) if code else []
    return Measured(output.seconds([name]).get(name), steps, cached, places[-1] if places else None)


def run_per_target(
    plan: Plan, options: BuildOptions, emit: Emit, starter: ProcessStarter
) -> list[TargetResult]:
    """Build every target of `plan` (or of `options.only`) with its own `buildx build`."""
    results = RunResults(plan, options, emit)
    return schedule(plan, options, results, TargetBuilds(plan, options, emit), starter)
