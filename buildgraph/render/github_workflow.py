"""`buildgraph ci github`: a GitHub Actions workflow that builds the project in N shards,
each job building its share of what the event's change affects (`build --since` the
event's base, `--shard K/N`), every platform pushed by digest and joined under the tags
with `docker buildx imagetools create` (`build --split-platforms`).

Pure: the workflow as data, then YAML. The YAML is PyYAML's `safe_dump` (imported here
only): it quotes every string that needs it, so no value is read back as another type or
breaks the document. Quoting cannot stop GitHub, though: it evaluates `${{ ... }}` in any
string, quoted or not. So the only expressions are the fixed ones written below, project
values reach a `run` script only through `env` (never spliced into its text), and a
project value that holds `${{` is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
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
RUNNER = "ubuntu-24.04"
NATIVE = "linux/amd64"  # the platform of RUNNER: what needs no emulation

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
buildgraph build -f "${BUILDGRAPH_FILE}" --push --split-platforms "${since[@]}" \\
  --shard "${SHARD}/${SHARDS}" --format json | tee buildgraph-events.jsonl
"""


@dataclass(frozen=True, slots=True)
class WorkflowFacts:
    """What the workflow is made of: the project file (relative to the repository's
    root), the number of shards, the platforms its targets are built for."""

    project_file: str
    shards: int
    platforms: tuple[str, ...]


def literal(value: str, what: str) -> str:
    """`value` as it may appear in the workflow: never an expression GitHub evaluates."""
    if "${{" in value or any(c in value for c in "\n\r\0"):
        raise ConfigError.one(
            f"{what} {value!r} holds '${{{{' or a line break, which GitHub Actions would "
            "evaluate or split in the workflow",
            hint="rename it: the workflow must not run what a project value says",
        )
    return value


def workflow(facts: WorkflowFacts) -> dict[str, Any]:
    """The workflow as data."""
    if facts.shards < 1:
        raise ConfigError.one(f"--shards {facts.shards}: at least 1", hint="e.g. --shards 4")
    project_file = literal(facts.project_file, "the project file's path")
    emulated = [literal(p, "platform") for p in facts.platforms if p != NATIVE]
    steps: list[dict[str, Any]] = [
        {"uses": CHECKOUT, "with": {"fetch-depth": 0}},  # --since needs the base commit
        {"uses": SETUP_PYTHON, "with": {"python-version": "3.12"}},
        {"name": "Install buildgraph", "run": "python -m pip install ."},
    ]
    if emulated:
        steps.append({"uses": SETUP_QEMU, "with": {"platforms": ",".join(emulated)}})
    steps += [
        # docker-container driver: pushes by digest, which the docker driver refuses
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
        {
            "name": "Build and push this shard (each platform by digest, then joined)",
            "env": {
                "BASE": BASE,
                "SHARD": "${{ matrix.shard }}",
                "SHARDS": str(facts.shards),
                "BUILDGRAPH_FILE": project_file,
            },
            "run": BUILD_SCRIPT,
        },
        {
            "name": "Keep the build's events",
            "if": "${{ always() }}",
            "uses": "actions/upload-artifact@v4",
            "with": {
                "name": "buildgraph-events-${{ matrix.shard }}",
                "path": "buildgraph-events.jsonl",
                "if-no-files-found": "ignore",
            },
        },
    ]
    return {
        "name": "buildgraph",
        "on": {"push": {}, "pull_request": {}},
        "permissions": {"contents": "read"},
        "jobs": {
            "build": {
                "name": "shard ${{ matrix.shard }} of " + str(facts.shards),
                "runs-on": RUNNER,
                "strategy": {
                    "fail-fast": False,
                    "matrix": {"shard": list(range(1, facts.shards + 1))},
                },
                "steps": steps,
            }
        },
    }


def render_workflow(facts: WorkflowFacts) -> str:
    """The workflow's YAML, with buildgraph's mark at its head."""
    import yaml

    head = (
        f"# Generated by buildgraph from {literal(facts.project_file, 'the path')}: "
        "run `buildgraph ci github` again after changing it.\n"
    )

    class Dumper(yaml.SafeDumper):
        """safe_dump's, with scripts as literal blocks: read as they run."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    body = yaml.dump(
        workflow(facts), Dumper=Dumper, sort_keys=False, width=1000, allow_unicode=False
    )
    return head + body


def workflow_facts(loaded: Loaded, shards: int | None, cwd: Path) -> WorkflowFacts:
    """The facts of a project's workflow: its file relative to `cwd` (the repository's
    root, where the workflow runs), `shards` (None: one per family of the default
    selection, up to 4), and the platforms of the targets it builds by default."""
    from buildgraph.graph.selection import default_names, select
    from buildgraph.graph.shards import suggested_shard_count

    selection = select(loaded.graph, default_names(loaded.project))
    targets = loaded.project.targets
    platforms = dict.fromkeys(p for n in selection.targets for p in targets[n].platforms)
    if shards is None:
        shards = suggested_shard_count(loaded.graph, selection.requested)
    return WorkflowFacts(os.path.relpath(loaded.project.file, cwd), shards, tuple(platforms))
