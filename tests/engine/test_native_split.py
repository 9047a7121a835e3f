"""Per-platform builds on two independent engines, joined by digest: the provisioned
dockerd builds linux/amd64, a second dockerd of its own (socket, data-root, bridge:
test_faults' fixture) builds linux/arm64 under QEMU, as a native arm64 runner would; one
multi-platform image on the local registry must come of them, its manifest list holding
each platform exactly as its engine built it.

Twice: `--split-platforms` with `[project.builders]` naming the second engine (one build,
two engines), and the CI pattern (`build --platform P --digests-out FILE` once per engine,
then `buildgraph join` of both files)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.test_build import (
    REGISTRY,
    buildgraph,
    manifest_platforms,
    namespace,
    run_in_image,
    summary,
)
from tests.engine.test_faults import SecondEngine, second_engine

pytestmark = pytest.mark.engine
__all__ = ["second_engine"]  # the fixture, reused: one second dockerd per module

CONTEXT = "bg-native-second"  # a docker context on the second dockerd: a builder of it


@pytest.fixture(scope="module")
def second_builder(engine: str, second_engine: SecondEngine) -> Iterator[str]:
    """The second dockerd as a buildx builder (its docker context), in this leg's
    DOCKER_CONFIG."""
    subprocess.run([engine, "context", "rm", "-f", CONTEXT], capture_output=True)
    made = subprocess.run(
        [engine, "context", "create", CONTEXT, "--docker", f"host={second_engine.host}"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    inspected = subprocess.run(
        [engine, "buildx", "inspect", CONTEXT], capture_output=True, text=True
    )
    assert inspected.returncode == 0 and "docker" in inspected.stdout, inspected.stderr
    yield CONTEXT
    subprocess.run([engine, "context", "rm", "-f", CONTEXT], capture_output=True)


def raw(docker: str, ref: str) -> dict[str, object]:
    done = subprocess.run(
        [docker, "buildx", "imagetools", "inspect", "--raw", ref],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def platform_manifest(docker: str, repository: str, digest: str, platform: str) -> str:
    """The image manifest of `platform` that `digest` is, or holds (an engine may push an
    index: its platform's image and an attestation)."""
    document = raw(docker, f"{repository}@{digest}")
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        return digest
    [found] = [
        m["digest"]
        for m in manifests
        if f"{m.get('platform', {}).get('os')}/{m.get('platform', {}).get('architecture')}"
        == platform
    ]
    return str(found)


def listed(docker: str, ref: str) -> dict[str, str]:
    """platform -> manifest digest, of the manifest list `ref` names."""
    return {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
        for m in raw(docker, ref)["manifests"]  # type: ignore[union-attr]
        if m.get("platform", {}).get("os") != "unknown"
    }


def built_on(docker: str, host: str, repository: str) -> bool:
    """Whether the engine at `host` holds an image of `repository` (the docker driver
    keeps what it pushes)."""
    images = subprocess.run(
        [docker, "-H", host, "images", "--format", "{{.Repository}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return repository in images


def with_builders(chain: Path) -> None:
    toml = chain / "buildgraph.toml"
    text = toml.read_text().replace(
        '[project]\nplatforms = ["linux/amd64", "linux/arm64"]\n',
        '[project]\nplatforms = ["linux/amd64", "linux/arm64"]\n'
        f'builders = {{ "linux/arm64" = "{CONTEXT}" }}\n',
    )
    assert CONTEXT in text
    toml.write_text(text)


def test_split_platforms_builds_arm64_on_the_second_engine_joined_by_digest(
    engine: str, second_builder: str, second_engine: SecondEngine, chain: Path
) -> None:
    with_builders(chain)
    ns = namespace()
    result = buildgraph(
        "build",
        "app",
        "--push",
        "--split-platforms",
        "--var",
        f"NS={ns}",
        "--format",
        "json",
        cwd=chain,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    repository = f"{REGISTRY}/{ns}/app"
    metadata = chain / ".buildgraph" / "metadata"
    as_built = {
        platform: platform_manifest(
            engine,
            repository,
            json.loads((metadata / f"app-{platform.replace('/', '-')}.json").read_text())[
                "containerimage.digest"
            ],
            platform,
        )
        for platform in ("linux/amd64", "linux/arm64")
    }
    assert listed(engine, f"{repository}:dev") == as_built
    assert summary(result.stdout)["app"]["status"] == "done"
    assert built_on(engine, second_engine.host, repository)  # arm64 was the second's
    ref = f"{repository}:dev"
    assert run_in_image(engine, ref, "linux/arm64", "cat", "/app-arch") == "aarch64"
    assert run_in_image(engine, ref, "linux/amd64", "cat", "/app-arch") == "x86_64"


def test_each_engine_builds_its_platform_by_digest_and_join_makes_the_tags(
    engine: str, second_builder: str, second_engine: SecondEngine, chain: Path, tmp_path: Path
) -> None:
    ns = namespace()
    repository = f"{REGISTRY}/{ns}/app"
    files = {}
    for platform, builder in (("linux/amd64", None), ("linux/arm64", second_builder)):
        out = tmp_path / "digests" / f"{platform.replace('/', '-')}.json"
        files[platform] = out
        result = buildgraph(
            "build",
            "app",
            "--push",
            "--platform",
            platform,
            "--digests-out",
            str(out),
            "--var",
            f"NS={ns}",
            "--format",
            "json",
            cwd=chain,
            # Each runner its own engine: the second's docker context is the current one.
            env={"DOCKER_CONTEXT": builder} if builder else None,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # Pushed by digest: no tag of the target's own yet.
        assert (
            subprocess.run(
                [engine, "buildx", "imagetools", "inspect", f"{repository}:dev"],
                capture_output=True,
            ).returncode
            != 0
        )
    recorded = {
        p: json.loads(f.read_text())["targets"]["app"]["digests"][p] for p, f in files.items()
    }
    assert list(json.loads(files["linux/arm64"].read_text())["targets"]) == ["app"]  # no base
    joined = buildgraph("join", str(tmp_path / "digests"), "--format", "json", cwd=tmp_path)
    assert joined.returncode == 0, joined.stdout + joined.stderr
    as_built = {p: platform_manifest(engine, repository, d, p) for p, d in recorded.items()}
    assert listed(engine, f"{repository}:dev") == as_built
    assert manifest_platforms(engine, f"{repository}:dev") == {"linux/amd64", "linux/arm64"}
    assert built_on(engine, second_engine.host, repository)
    ref = f"{repository}:dev"
    assert run_in_image(engine, ref, "linux/arm64", "cat", "/app-arch") == "aarch64"
    assert run_in_image(engine, ref, "linux/amd64", "cat", "/app-mark") == "fresh"
    # base, which app only needs, reached neither the registry nor the digests.
    assert (
        subprocess.run(
            [engine, "buildx", "imagetools", "inspect", f"{REGISTRY}/{ns}/base:dev"],
            capture_output=True,
        ).returncode
        != 0
    )
    assert os.environ.get("BUILDGRAPH_BUILDX") in (None, "", "0.29.1", "0.13.1")
