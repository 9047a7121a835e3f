"""The probe's kept facts: reused only while the local docker setup is the same; binfmt is
always read afresh; other drivers and remote daemons are always probed."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from buildgraph.runner import probe
from buildgraph.runner.probe import silence_in
from buildgraph.runner.process import Captured
from tests.conftest import HEALTHY_X86


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A docker setup of files: config dir, a socket stand-in, a docker CLI on PATH."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = tmp_path / "docker-config"
    (config / "buildx" / "instances").mkdir(parents=True)
    (config / "config.json").write_text("{}")
    (tmp_path / "docker.sock").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\n")
    (bin_dir / "docker").chmod(0o755)
    yield {
        "DOCKER_CONFIG": str(config),
        "DOCKER_HOST": f"unix://{tmp_path / 'docker.sock'}",
        "PATH": str(bin_dir),
    }


@pytest.fixture()
def probes(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Each real probe run (by builder), answering with a healthy docker-driver builder."""
    runs: list[str | None] = []

    def gather(builder: str | None = None) -> probe.Facts:
        runs.append(builder)
        return HEALTHY_X86

    monkeypatch.setattr(probe, "gather", gather)
    monkeypatch.setattr(probe, "binfmt_entries", lambda: {"aarch64": True})
    return runs


def test_facts_of_an_unchanged_setup_are_reused(setup: dict[str, str], probes: list) -> None:
    first = probe.gather_cached(None, setup)
    assert probe.gather_cached(None, setup) == first
    assert probe.kept_facts(None, setup) == first
    assert probes == [None]


def test_binfmt_is_read_afresh(
    setup: dict[str, str], probes: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe.gather_cached(None, setup)
    monkeypatch.setattr(probe, "binfmt_entries", lambda: {"aarch64": False})
    kept = probe.kept_facts(None, setup)
    assert kept is not None and kept.binfmt == {"aarch64": False}


@pytest.mark.parametrize(
    "change",
    [
        "restart the daemon",
        "switch builder",
        "create a builder",
        "replace the docker CLI",
        "install a buildx plugin",
        "name another builder",
        "edit config.json",
    ],
)
def test_each_part_of_the_setup_is_compared(
    setup: dict[str, str], probes: list, tmp_path: Path, change: str
) -> None:
    probe.gather_cached(None, setup)
    config = Path(setup["DOCKER_CONFIG"])
    builder = None
    if change == "restart the daemon":  # dockerd makes its socket anew
        socket = tmp_path / "docker.sock"
        socket.unlink()
        (tmp_path / "other").write_text("")
        socket.write_text("")
    elif change == "switch builder":
        (config / "buildx" / "current").write_text('{"Key":"x","Name":"remote"}')
    elif change == "create a builder":
        (config / "buildx" / "instances" / "remote").write_text('{"Driver":"docker-container"}')
    elif change == "replace the docker CLI":
        (Path(setup["PATH"]) / "docker").write_text("#!/bin/sh\n# a newer one\n")
    elif change == "install a buildx plugin":
        (config / "cli-plugins").mkdir()
        (config / "cli-plugins" / "docker-buildx").write_text("")
    elif change == "name another builder":
        builder = "remote"
    elif change == "edit config.json":
        (config / "config.json").write_text('{"cliPluginsExtraDirs": ["/opt/plugins"]}')
    assert probe.kept_facts(builder, setup) is None
    probe.gather_cached(builder, setup)
    assert len(probes) == 2


@pytest.mark.parametrize(
    "environ",
    [
        {"DOCKER_HOST": "tcp://10.0.0.2:2376"},
        {"DOCKER_HOST": "ssh://builder"},
        {"DOCKER_CONTEXT": "remote"},
    ],
)
def test_remote_daemons_are_always_probed(
    setup: dict[str, str], probes: list, environ: dict[str, str]
) -> None:
    setup = {**setup, **environ}
    probe.gather_cached(None, setup)
    probe.gather_cached(None, setup)
    assert len(probes) == 2


def test_a_context_chosen_in_config_json_is_always_probed(
    setup: dict[str, str], probes: list
) -> None:
    (Path(setup["DOCKER_CONFIG"]) / "config.json").write_text('{"currentContext": "remote"}')
    probe.gather_cached(None, setup)
    probe.gather_cached(None, setup)
    assert len(probes) == 2


def test_only_the_docker_drivers_facts_are_kept(
    setup: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    for facts in (
        replace(HEALTHY_X86, driver="docker-container"),
        replace(HEALTHY_X86, builder_error="no builder"),
    ):
        monkeypatch.setattr(probe, "gather", lambda builder=None, f=facts: runs.append(f) or f)
        probe.gather_cached(None, setup)
        assert probe.kept_facts(None, setup) is None


def test_a_damaged_record_is_a_miss(setup: dict[str, str], probes: list, tmp_path: Path) -> None:
    probe.gather_cached(None, setup)
    [record] = (tmp_path / "cache" / "buildgraph" / "facts").iterdir()
    data = json.loads(record.read_text())
    data["facts"]["unknown_field"] = 1
    record.write_text(json.dumps(data))
    assert probe.kept_facts(None, setup) is None
    record.write_text("{")
    assert probe.kept_facts(None, setup) is None


def test_two_setups_in_turn_keep_their_own_facts(setup: dict[str, str], probes: list) -> None:
    other = {**setup, "BUILDX_BUILDER": "default"}
    for environ in (setup, other, setup, other):
        probe.gather_cached(None, environ)
    assert len(probes) == 2


def kept_record(tmp_path: Path) -> Path:
    [record] = (tmp_path / "cache" / "buildgraph" / "facts").iterdir()
    return record


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("builder_platforms", "linux/amd64"),  # a string is no list of platforms
        ("builder_platforms", [1]),
        ("driver", 3),
        ("containerd_store", "yes"),
        ("machine", None),
    ],
)
def test_a_record_of_another_shape_is_a_miss(
    setup: dict[str, str], probes: list, tmp_path: Path, field: str, value: object
) -> None:
    probe.gather_cached(None, setup)
    record = kept_record(tmp_path)
    data = json.loads(record.read_text())
    data["facts"][field] = value
    record.write_text(json.dumps(data))
    assert probe.kept_facts(None, setup) is None


def test_a_record_others_could_write_is_not_trusted(
    setup: dict[str, str], probes: list, tmp_path: Path
) -> None:
    probe.gather_cached(None, setup)
    record = kept_record(tmp_path)
    assert probe.kept_facts(None, setup) is not None
    record.chmod(0o666)
    assert probe.kept_facts(None, setup) is None
    record.chmod(0o600)
    record.parent.chmod(0o777)
    assert probe.kept_facts(None, setup) is None


def test_a_record_that_is_a_link_is_not_trusted(
    setup: dict[str, str], probes: list, tmp_path: Path
) -> None:
    probe.gather_cached(None, setup)
    record = kept_record(tmp_path)
    kept = tmp_path / "kept.json"
    record.rename(kept)
    record.symlink_to(kept)
    assert probe.kept_facts(None, setup) is None


def test_the_facts_folders_are_the_users_alone(
    setup: dict[str, str], probes: list, tmp_path: Path
) -> None:
    probe.gather_cached(None, setup)
    record = kept_record(tmp_path)
    modes = [stat.S_IMODE(p.stat().st_mode) for p in (record.parent.parent, record.parent)]
    assert modes == [0o700, 0o700] and stat.S_IMODE(record.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("answer", "silence"),
    [
        (Captured(0, "Name: default\nDriver: docker\n\nNodes:\nStatus: running\n", ""), None),
        (Captured(0, "Name: b\nDriver: docker-container\nNodes:\nStatus: inactive\n", ""), None),
        (
            Captured(
                0,
                "Name: default\nDriver:\nError: Cannot connect to the Docker daemon at "
                "unix:///run/x.sock. Is the docker daemon running?\n",
                "",
            ),
            "Cannot connect to the Docker daemon at unix:///run/x.sock. "
            "Is the docker daemon running?",
        ),
        (Captured(0, "Name: b\nNodes:\nStatus: stopped\n", ""), "the builder's status is stopped"),
        (Captured(1, "", 'ERROR: no builder "b" found\n'), 'ERROR: no builder "b" found'),
        (
            Captured(1, "", "timed out", ran=False),
            "`docker buildx inspect` did not answer within 10 s",
        ),
    ],
)
def test_what_keeps_a_builder_from_answering(answer: Captured, silence: str | None) -> None:
    assert silence_in(answer) == silence
