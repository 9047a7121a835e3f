"""`buildgraph ci github`: a GitHub Actions workflow that builds the project in N shards,
each shard's platforms on runners of their own, docker's "distribute build across
multiple runners" pattern: per shard, one job a platform (on the runner
`[project.runners]` maps it to, natively; else on ubuntu-latest under QEMU) runs
`build --push --since BASE --shard K/N --platform P --digests-out FILE` (platform P of
the shard's targets, pushed by digest) and uploads the digests file; then the shard's
merge job (needing exactly those jobs) downloads them and runs `buildgraph join`, which
makes the tags with `docker buildx imagetools create`.

Pure: the workflow as data, then YAML. The YAML is PyYAML's `safe_dump` (imported here
only): it quotes every string that needs it, so no value is read back as another type or
breaks the document. Quoting cannot stop GitHub, though: it evaluates `${{ ... }}` in any
string, quoted or not. So the only expressions are the fixed ones written below, project
values reach a `run` script only through `env` (never spliced into its text), and a
project value that holds `${{` or a line break is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError

if TYPE_CHECKING:
    from buildgraph.plan.load import Loaded

# What a job checks out and runs; pinned by major version, as GitHub's examples are.
CHECKOUT = "actions/checkout@v4"
SETUP_PYTHON = "actions/setup-python@v5"
SETUP_QEMU = "docker/setup-qemu-action@v3"
SETUP_BUILDX = "docker/setup-buildx-action@v3"
LOGIN = "docker/login-action@v3"
UPLOAD = "actions/upload-artifact@v4"
DOWNLOAD = "actions/download-artifact@v4"
RUNNER = "ubuntu-latest"  # where a platform no [project.runners] entry maps runs
NATIVE = "linux/amd64"  # the platform of RUNNER: what needs no emulation there
LOCAL = "local"  # the builder's own platform: the targets declaring none

# The commit a change is compared with: a pull request's base, a push's previous head
# (zeros for a new branch: then everything is built).
BASE = (
    "${{ github.event_name == 'pull_request' && github.event.pull_request.base.sha "
    "|| github.event.before }}"
)
BUILD_SCRIPT = """\
set -euo pipefail
since=()
if [ -n "${BASE}" ] && [ "${BASE}" != 0000000000000000000000000000000000000000 ]; then
  since=(--since "${BASE}")
fi
platforms=()
read -ra listed <<< "${PLATFORMS}"
for platform in "${listed[@]}"; do platforms+=(--platform "${platform}"); done
buildgraph build -f "${BUILDGRAPH_FILE}" --push "${since[@]}" \\
  --shard "${SHARD}/${SHARDS}" "${platforms[@]}" --digests-out "digests/${SLUG}.json" \\
  --format json | tee "buildgraph-events-${SLUG}.jsonl"
"""
JOIN_SCRIPT = """\
set -euo pipefail
buildgraph join digests --format json | tee buildgraph-join.jsonl
"""


@dataclass(frozen=True, slots=True)
class WorkflowFacts:
    """What the workflow is made of: the project file (relative to the repository's
    root), the number of shards, the platforms its targets are built for (`local` when
    some declare none), and the runner label(s) native to a platform."""

    project_file: str
    shards: int
    platforms: tuple[str, ...]
    runners: Mapping[str, str | tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )


@dataclass(frozen=True, slots=True)
class PlatformJob:
    """One job of a shard: the platforms it builds (`local` rides with linux/amd64 on
    the default runner), where it runs, and what it emulates."""

    slug: str  # its job id's and artifact's part: linux-arm64
    platforms: tuple[str, ...]
    runs_on: str | tuple[str, ...]
    emulated: tuple[str, ...]


def literal(value: str, what: str) -> str:
    """`value` as it may appear in the workflow: never an expression GitHub evaluates."""
    if "${{" in value or any(c in value for c in "\n\r\0"):
        raise ConfigError.one(
            f"{what} {value!r} holds '${{{{' or a line break, which GitHub Actions would "
            "evaluate or split in the workflow",
            hint="rename it: the workflow must not run what a project value says",
        )
    return value


def slug(platform: str) -> str:
    """A platform as a job id's part (ids are letters, digits, '-' and '_')."""
    return "".join(c if c.isalnum() else "-" for c in platform)


def platform_jobs(facts: WorkflowFacts) -> list[PlatformJob]:
    """The jobs of one shard: one a platform; `local` (the targets declaring no
    platform) joins linux/amd64's job when that runs on the default runner."""
    platforms = [literal(p, "platform") for p in facts.platforms] or [LOCAL]
    runners = {literal(p, "platform"): r for p, r in facts.runners.items()}
    local_rides = LOCAL in platforms and NATIVE in platforms and NATIVE not in runners
    jobs = []
    for platform in platforms:
        if platform == LOCAL and local_rides:
            continue
        label = runners.get(platform, RUNNER)
        labels = (label,) if isinstance(label, str) else tuple(label)
        for one in labels:
            literal(one, "runner label")
        native = platform if platform in runners else NATIVE
        builds = (platform, LOCAL) if platform == NATIVE and local_rides else (platform,)
        emulated = tuple(p for p in platforms if p not in (native, LOCAL))
        jobs.append(PlatformJob(slug(platform), builds, label, emulated))
    return jobs


def setup_steps(emulated: tuple[str, ...]) -> list[dict[str, Any]]:
    """Checkout, Python, buildgraph, QEMU for what the runner does not run natively, a
    docker-container builder (it pushes by digest, which the docker driver refuses), and
    the registry's login when the repository sets one."""
    steps: list[dict[str, Any]] = [
        {"uses": CHECKOUT, "with": {"fetch-depth": 0}},  # --since needs the base commit
        {"uses": SETUP_PYTHON, "with": {"python-version": "3.12"}},
        {"name": "Install buildgraph", "run": "python -m pip install ."},
    ]
    if emulated:
        steps.append({"uses": SETUP_QEMU, "with": {"platforms": ",".join(emulated)}})
    steps += [
        {"uses": SETUP_BUILDX},
        {
            "name": "Log in to the registry",
            "if": "${{ vars.REGISTRY != '' }}",
            "uses": LOGIN,
            "with": {
                "registry": "${{ vars.REGISTRY }}",
                "username": "${{ secrets.REGISTRY_USERNAME }}",
                "password": "${{ secrets.REGISTRY_PASSWORD }}",
            },
        },
    ]
    return steps


def build_job(
    facts: WorkflowFacts, shard: int, job: PlatformJob, project_file: str
) -> dict[str, Any]:
    """One platform of one shard, pushed by digest; its digests file uploaded."""
    runs_on: str | list[str] = job.runs_on if isinstance(job.runs_on, str) else list(job.runs_on)
    return {
        "name": f"shard {shard} of {facts.shards}: {' '.join(job.platforms)}",
        "runs-on": runs_on,
        "steps": [
            *setup_steps(job.emulated),
            {
                "name": "Build this shard's platform and push it by digest",
                "env": {
                    "BASE": BASE,
                    "SHARD": str(shard),
                    "SHARDS": str(facts.shards),
                    "PLATFORMS": " ".join(job.platforms),
                    "SLUG": job.slug,
                    "BUILDGRAPH_FILE": project_file,
                },
                "run": BUILD_SCRIPT,
            },
            {
                "name": "Keep the digests for the merge",
                "uses": UPLOAD,
                "with": {
                    "name": f"digests-{shard}-{job.slug}",
                    "path": f"digests/{job.slug}.json",
                    "if-no-files-found": "error",
                    "retention-days": 1,
                },
            },
            {
                "name": "Keep the build's events",
                "if": "${{ always() }}",
                "uses": UPLOAD,
                "with": {
                    "name": f"buildgraph-events-{shard}-{job.slug}",
                    "path": f"buildgraph-events-{job.slug}.jsonl",
                    "if-no-files-found": "ignore",
                },
            },
        ],
    }


def merge_job(facts: WorkflowFacts, shard: int, needs: list[str]) -> dict[str, Any]:
    """The shard's tags, made from every platform job's digests."""
    return {
        "name": f"shard {shard} of {facts.shards}: tags",
        "needs": needs,
        "runs-on": RUNNER,
        "steps": [
            # A shallow checkout: `pip install .` needs the sources, not their history.
            {"uses": CHECKOUT},
            *setup_steps(())[1:],
            {
                "name": "Fetch the platforms' digests",
                "uses": DOWNLOAD,
                "with": {
                    "pattern": f"digests-{shard}-*",
                    "path": "digests",
                    "merge-multiple": True,
                },
            },
            {"name": "Make the tags from the digests", "run": JOIN_SCRIPT},
        ],
    }


def workflow(facts: WorkflowFacts) -> dict[str, Any]:
    """The workflow as data."""
    if facts.shards < 1:
        raise ConfigError.one(f"--shards {facts.shards}: at least 1", hint="e.g. --shards 4")
    project_file = literal(facts.project_file, "the project file's path")
    platform_of_shard = platform_jobs(facts)
    jobs: dict[str, Any] = {}
    for shard in range(1, facts.shards + 1):
        needs = []
        for job in platform_of_shard:
            name = f"build-{shard}-{job.slug}"
            jobs[name] = build_job(facts, shard, job, project_file)
            needs.append(name)
        jobs[f"merge-{shard}"] = merge_job(facts, shard, needs)
    return {
        "name": "buildgraph",
        "on": {"push": {}, "pull_request": {}},
        "permissions": {"contents": "read"},
        "jobs": jobs,
    }


def render_workflow(facts: WorkflowFacts) -> str:
    """The workflow's YAML, with buildgraph's mark at its head."""
    head = (
        f"# Generated by buildgraph from {literal(facts.project_file, 'the path')}: "
        "run `buildgraph ci github` again after changing it.\n"
    )
    return head + yaml_document(workflow(facts))


def yaml_document(data: dict[str, Any]) -> str:
    """CI configuration as YAML: PyYAML's safe_dump (every string that needs it quoted),
    in the order written, with scripts as literal blocks."""
    import yaml

    class Dumper(yaml.SafeDumper):
        """safe_dump's, with scripts as literal blocks: read as they run; never an
        anchor and alias, even for an object met twice."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, width=1000, allow_unicode=False)


def workflow_facts(loaded: Loaded, shards: int | None, cwd: Path) -> WorkflowFacts:
    """The facts of a project's workflow: its file relative to `cwd` (the repository's
    root, where the workflow runs), `shards` (None: one per family of the default
    selection, up to 4), and the platforms of the targets it builds by default."""
    from buildgraph.graph.selection import default_names, select
    from buildgraph.graph.shards import suggested_shard_count

    selection = select(loaded.graph, default_names(loaded.project))
    targets = loaded.project.targets
    platforms = dict.fromkeys(
        p for n in selection.targets for p in (targets[n].platforms or (LOCAL,))
    )
    if shards is None:
        shards = suggested_shard_count(loaded.graph, selection.requested)
    return WorkflowFacts(
        os.path.relpath(loaded.project.file, cwd),
        shards,
        tuple(platforms),
        MappingProxyType(project_runners(loaded)),
    )


def project_runners(loaded: Loaded) -> dict[str, str | tuple[str, ...]]:
    """`[project.runners]`, as the schema checked it (a bake file has none)."""
    if loaded.project.definition_files:
        return {}
    from buildgraph.projectfile.document import load_document

    table = load_document(loaded.project.file).data.get("project", {}).get("runners", {})
    return {p: r if isinstance(r, str) else tuple(r) for p, r in table.items()}
