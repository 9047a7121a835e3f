"""`buildgraph ci gitlab`: a `.gitlab-ci.yml` that builds the project in N shards, the
GitLab form of buildgraph.render.github_workflow (same facts, same jobs, same scripts):
per shard, one job a platform (on the runners `[project.runners]` maps it to, selected by
their tags, natively; else on any runner under QEMU) runs `build --push --since BASE
--shard K/N --platform P --digests-out FILE` and keeps the digests file as an artifact;
then the shard's merge job (needing exactly those jobs and their artifacts) runs
`buildgraph join`, which makes the tags.

Each job runs Docker's standard GitLab pattern, a `docker:dind` service reached over TLS,
from Debian's Python image: buildgraph needs google-re2, which PyPI builds for glibc only,
so Alpine's `docker:` image would have to compile it; Debian (trixie) packages the docker
CLI and buildx 0.13.1, the oldest buildx buildgraph supports. The image has bash, which
the runner then runs the scripts with (github_workflow's scripts are bash).

Pure: the pipeline as data, then YAML (github_workflow.yaml_document). Quoting cannot
stop GitLab, though: it expands `$NAME`, `${NAME}` and `%NAME%` in `tags` and in
`variables` (then the runner expands `$NAME` there again), and the runner in `image`,
`services` and `artifacts`; only `script` lines are left to the shell. So the scripts are
fixed text, project values reach them only through `variables` (never spliced into their
text), and a project value that holds `$`, `%` or a line break is refused.
"""

from __future__ import annotations

from typing import Any

from buildgraph.errors import ConfigError
from buildgraph.render.github_workflow import (
    BUILD_SCRIPT,
    JOIN_SCRIPT,
    PlatformJob,
    WorkflowFacts,
    platform_jobs,
    yaml_document,
)

# What a job runs in: Debian's Python (see above), beside Docker's daemon (pinned by major
# version, as GitLab's docs advise).
IMAGE = "python:3.12-slim-trixie"
DIND = "docker:28-dind"
BINFMT = "tonistiigi/binfmt"  # QEMU's installer: what docker/setup-qemu-action runs
# The dind service over TLS: it writes its client certificates to /certs/client, which
# the runner shares with the job (GitLab's docs for dind with the Docker executor).
DOCKER_VARIABLES = {
    "DOCKER_HOST": "tcp://docker:2376",
    "DOCKER_TLS_CERTDIR": "/certs",
    "DOCKER_TLS_VERIFY": "1",
    "DOCKER_CERT_PATH": "/certs/client",
}
# Merge request pipelines and branch pipelines, never both for one push (GitLab's
# "switch between branch pipelines and merge request pipelines" rules).
WORKFLOW_RULES = [
    {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
    {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
    {"if": "$CI_COMMIT_BRANCH"},
]

INSTALL = [
    "apt-get update -qq && apt-get install -qq -y --no-install-recommends "
    "docker-cli docker-buildx git",
    "python -m pip install .",
]
# Only for platforms the runner does not run natively; EMULATE is the job's variable.
QEMU = f'docker run --privileged --rm {BINFMT} --install "${{EMULATE}}"'
# A docker-container builder: it pushes by digest, which the docker driver refuses.
BUILDER = "docker buildx create --use --driver docker-container --name buildgraph"
LOGIN = """\
if [ -n "${CI_REGISTRY:-}" ] && [ -n "${CI_REGISTRY_USER:-}" ]; then
  printf '%s' "${CI_REGISTRY_PASSWORD:-}" | docker login --username "${CI_REGISTRY_USER}" \\
    --password-stdin "${CI_REGISTRY}"
fi
"""
# The commit a change is compared with (BUILD_SCRIPT's BASE): a merge request's base,
# else a push's previous head (zeros for a new branch: then everything is built).
BASE = 'BASE="${CI_MERGE_REQUEST_DIFF_BASE_SHA:-${CI_COMMIT_BEFORE_SHA:-}}"'


def literal(value: str, what: str, key: str | None = None) -> str:
    """`value` as it may appear in the pipeline: never a variable GitLab expands."""
    if any(c in value for c in "$%\n\r\0"):
        raise ConfigError.one(
            f"{what} {value!r} holds '$', '%' or a line break, which GitLab CI would "
            "expand as a variable or split in .gitlab-ci.yml",
            key=key,
            hint="rename it: the pipeline must not run or expand what a project value says",
        )
    return value


def checked(facts: WorkflowFacts) -> WorkflowFacts:
    """`facts` once every project value in them is known to be literal for GitLab."""
    literal(facts.project_file, "the project file's path")
    for platform in facts.platforms:
        literal(platform, "platform", "platforms")
    for platform, labels in facts.runners.items():
        key = f'project.runners."{platform}"'
        literal(platform, "platform", key)
        for label in (labels,) if isinstance(labels, str) else labels:
            literal(label, "runner tag", key)
    return facts


def runner_tags(facts: WorkflowFacts, job: PlatformJob) -> list[str] | None:
    """The tags of the runners `[project.runners]` maps the job's platform (its first)
    to; None (any runner) when it maps none."""
    labels = facts.runners.get(job.platforms[0])
    if labels is None:
        return None
    return [labels] if isinstance(labels, str) else list(labels)


def setup_script(emulated: tuple[str, ...]) -> list[str]:
    """buildgraph, QEMU for what the runner does not run natively, the builder, and the
    login to GitLab's registry when the project has one."""
    return [*INSTALL, *([QEMU] if emulated else []), BUILDER, LOGIN]


def build_job(facts: WorkflowFacts, shard: int, job: PlatformJob) -> dict[str, Any]:
    """One platform of one shard, pushed by digest; its digests file kept for the merge."""
    variables = {
        "GIT_DEPTH": "0",  # --since needs the base commit
        "SHARD": str(shard),
        "SHARDS": str(facts.shards),
        "PLATFORMS": " ".join(job.platforms),
        "SLUG": job.slug,
        "BUILDGRAPH_FILE": facts.project_file,
    }
    if job.emulated:
        variables["EMULATE"] = ",".join(job.emulated)
    built: dict[str, Any] = {"stage": "build"}
    tags = runner_tags(facts, job)
    if tags is not None:
        built["tags"] = tags
    built |= {
        "variables": variables,
        "script": [*setup_script(job.emulated), BASE, BUILD_SCRIPT],
        "artifacts": {
            "when": "always",  # the events too when the build fails
            "expire_in": "1 day",
            "paths": ["digests/", f"buildgraph-events-{job.slug}.jsonl"],
        },
    }
    return built


def merge_job(needs: list[str]) -> dict[str, Any]:
    """The shard's tags, made from every platform job's digests."""
    return {
        "stage": "merge",
        "needs": [{"job": name, "artifacts": True} for name in needs],
        "script": [*setup_script(()), JOIN_SCRIPT],
    }


def pipeline(facts: WorkflowFacts) -> dict[str, Any]:
    """The pipeline as data."""
    if facts.shards < 1:
        raise ConfigError.one(f"--shards {facts.shards}: at least 1", hint="e.g. --shards 4")
    platform_of_shard = platform_jobs(checked(facts))
    jobs: dict[str, Any] = {}
    for shard in range(1, facts.shards + 1):
        needs = []
        for job in platform_of_shard:
            name = f"build-{shard}-{job.slug}"
            jobs[name] = build_job(facts, shard, job)
            needs.append(name)
        jobs[f"merge-{shard}"] = merge_job(needs)
    return {
        "workflow": {"rules": [dict(rule) for rule in WORKFLOW_RULES]},
        "stages": ["build", "merge"],
        "variables": dict(DOCKER_VARIABLES),
        "default": {"image": IMAGE, "services": [DIND]},
        **jobs,
    }


def render_pipeline(facts: WorkflowFacts) -> str:
    """The pipeline's YAML, with buildgraph's mark at its head."""
    body = yaml_document(pipeline(facts))  # refuses what GitLab would expand
    head = (
        f"# Generated by buildgraph from {facts.project_file}: "
        "run `buildgraph ci gitlab` again after changing it.\n"
    )
    return head + body
