"""`build --push` reuses what the registry holds, against the real engine and registry: a
second run on an empty build cache builds nothing, each kind of input changed rebuilds
exactly what it reaches, a changed base rebuilds its dependent (whose arm64 image, run
under QEMU, holds the new base), and a registry that does not answer means a build."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import stage_busybox
from tests.engine.test_build import buildgraph, events, namespace, summary
from tests.engine.test_faults import REGISTRY_PORT, SecondRegistry

pytestmark = pytest.mark.engine

TOML = """
[project]
platforms = ["linux/amd64", "linux/arm64"]

[variables]
NS = "bgtest"
REG = "127.0.0.1:5000"
FLAVOUR = "plain"

[target.base]
context = "base"
tags = ["{{ REG }}/{{ NS }}/base:dev"]

[target.svc]
context = "svc"
args = { NS = "{{ NS }}", REG = "{{ REG }}", FLAVOUR = "{{ FLAVOUR }}" }
contexts = { extra = "extra" }
tags = ["{{ REG }}/{{ NS }}/svc:dev", "{{ REG }}/{{ NS }}/svc:latest"]

[group.default]
targets = ["base", "svc"]
"""
FILES = {
    "base/Dockerfile": (
        "FROM scratch\nARG TARGETARCH\n"
        "COPY rootfs/linux/${TARGETARCH}/bin/busybox /bin/busybox\n"
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
        "COPY mark.txt /mark\n"
    ),
    "base/mark.txt": "base one\n",
    "svc/Dockerfile": (
        "ARG REG\nARG NS\nFROM ${REG}/${NS}/base:dev\nARG FLAVOUR\n"
        "COPY app.txt /app.txt\nCOPY --from=extra extra.txt /extra.txt\n"
        'RUN cat /mark > /base-mark && echo "$FLAVOUR" > /flavour && uname -m > /arch\n'
    ),
    "svc/app.txt": "app one\n",
    "svc/notes.md": "ignored by .dockerignore\n",
    "svc/.dockerignore": "notes.md\n",
    "extra/extra.txt": "extra one\n",
}


def write_project(folder: Path, registry: str = "127.0.0.1:5000") -> Path:
    for rel, text in FILES.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (folder / "buildgraph.toml").write_text(TOML.replace("127.0.0.1:5000", registry))
    stage_busybox(folder / "base" / "rootfs")
    return folder


def build(folder: Path, ns: str, *extra: str) -> tuple[dict[str, dict[str, object]], str]:
    result = buildgraph(
        "build", "--push", "--var", f"NS={ns}", "--format", "json", *extra, cwd=folder
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return summary(result.stdout), result.stdout


def statuses(done: dict[str, dict[str, object]]) -> dict[str, object]:
    return {name: t["status"] for name, t in done.items()}


def prune_build_cache(docker: str) -> None:
    """A fresh runner: the builder's cache emptied, so nothing can come from it."""
    subprocess.run([docker, "buildx", "prune", "-af"], capture_output=True, check=True)


def digest_of(docker: str, ref: str) -> str:
    out = subprocess.run(
        [docker, "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    return str(json.loads(out)["digest"])


def run_arm64(docker: str, ref: str, *command: str) -> str:
    """Run the arm64 image `ref` (a digest) under QEMU, pulled afresh."""
    return subprocess.run(
        [docker, "run", "--rm", "--pull", "always", "--platform", "linux/arm64", ref, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture()
def project(engine: str, tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj")


def test_a_second_push_on_an_empty_cache_builds_nothing(engine: str, project: Path) -> None:
    ns = namespace()
    first, _ = build(project, ns)
    assert statuses(first) == {"base": "done", "svc": "done"}
    refs = [f"127.0.0.1:5000/{ns}/{n}" for n in ("base:dev", "svc:dev", "svc:latest")]
    before = {ref: digest_of(engine, ref) for ref in refs}
    prune_build_cache(engine)

    second, out = build(project, ns)
    assert statuses(second) == {"base": "reused", "svc": "reused"}
    finished = {e["target"]: e for e in events(out) if e["event"] == "finished"}
    for name in ("base", "svc"):
        assert finished[name]["status"] == "reused"
        repo = f"127.0.0.1:5000/{ns}/{name}"
        assert finished[name]["detail"] == f"{repo}@{second[name]['digest']}"
    assert {ref: digest_of(engine, ref) for ref in refs} == before
    assert second["svc"]["digest"] == before[refs[1]]
    assert all(e["event"] != "started" for e in events(out))  # nothing built

    forced, _ = build(project, ns, "--rebuild")
    assert statuses(forced) == {"base": "done", "svc": "done"}
    only_svc, _ = build(project, ns, "--rebuild", "svc")
    assert statuses(only_svc) == {"base": "reused", "svc": "done"}


def test_each_kind_of_input_rebuilds_exactly_what_it_reaches(engine: str, project: Path) -> None:
    ns = namespace()
    assert statuses(build(project, ns)[0]) == {"base": "done", "svc": "done"}

    (project / "svc" / "notes.md").write_text("changed, but .dockerignore'd\n")
    assert statuses(build(project, ns)[0]) == {"base": "reused", "svc": "reused"}

    changes = [
        lambda: (project / "svc" / "app.txt").write_text("app two\n"),  # a context file
        lambda: (project / "svc" / "Dockerfile").write_text(
            FILES["svc/Dockerfile"] + "LABEL changed=1\n"
        ),
        lambda: (project / "extra" / "extra.txt").write_text("extra two\n"),  # named context
    ]
    for change in changes:
        change()
        assert statuses(build(project, ns)[0]) == {"base": "reused", "svc": "done"}
        assert statuses(build(project, ns)[0]) == {"base": "reused", "svc": "reused"}
    # an arg: a --var reaching svc's args
    assert statuses(build(project, ns, "--var", "FLAVOUR=spicy")[0]) == {
        "base": "reused",
        "svc": "done",
    }

    (project / "base" / "mark.txt").write_text("base two\n")  # a base's file
    rebuilt, _ = build(project, ns, "--var", "FLAVOUR=spicy")
    assert statuses(rebuilt) == {"base": "done", "svc": "done"}
    svc = f"127.0.0.1:5000/{ns}/svc@{rebuilt['svc']['digest']}"
    assert run_arm64(engine, svc, "cat", "/base-mark") == "base two"
    assert run_arm64(engine, svc, "cat", "/arch") == "aarch64"
    assert run_arm64(engine, svc, "cat", "/flavour") == "spicy"


def test_a_registry_that_does_not_answer_means_build_never_skip(
    engine: str, second_registry: SecondRegistry, tmp_path: Path
) -> None:
    ns = namespace()
    host = f"127.0.0.1:{REGISTRY_PORT}"
    folder = write_project(tmp_path / "proj", host)
    assert statuses(build(folder, ns)[0]) == {"base": "done", "svc": "done"}
    assert statuses(build(folder, ns)[0]) == {"base": "reused", "svc": "reused"}

    second_registry.stop()
    down = buildgraph("build", "--push", "--var", f"NS={ns}", "--format", "json", cwd=folder)
    notes = [e["detail"] for e in events(down.stdout) if e["event"] == "note"]
    assert any(
        f"registry {host} does not answer" in n and "building base, svc rather than reusing" in n
        for n in notes
    ), notes
    started = {e["target"] for e in events(down.stdout) if e["event"] == "started"}
    assert started == {"base", "svc"}  # it tried to build both: never a silent skip
    assert down.returncode == 1  # and the push fails, the registry being down
    assert "reused" not in {t["status"] for t in summary(down.stdout).values()}
