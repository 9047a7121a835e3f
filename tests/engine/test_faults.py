"""Faults of the engine and the registry during a build, on real ones made for the test:
a second, disposable dockerd stopped (or killed) mid-build, and a second registry taken
down before its push. buildgraph must say whose fault it is, leave nothing running, record
nothing as built, and the next run, once they are back, must build."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import engine_part_missing, stage_busybox
from tests.engine.test_build import events, namespace, summary

pytestmark = pytest.mark.engine

DOCKERD = Path("/opt/buildgraph-engine/bin/dockerd")  # .ci/provision-engine.sh unpacks it
CONTAINERD_SOCK = "/run/containerd/containerd.sock"
REGISTRY_PORT = 5001  # the engine's own registry is on 5000


BRIDGE = "bgfaults0"  # the second dockerd's own bridge (15 characters at most)
BRIDGE_ADDRESS = "10.213.7.1/24"


class SecondEngine:
    """A dockerd of its own beside the provisioned one: own socket, data, containerd
    namespace and bridge. Never `--bridge none`: a dockerd started so deletes the host's
    docker0, the first dockerd's bridge, and every RUN step of that one fails after."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode:
            for command in (
                ["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"],
            ):
                subprocess.run(command, check=True, capture_output=True)
        (self.root / "daemon.json").write_text('{"features":{"containerd-snapshotter":true}}')
        log = (self.root / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(DOCKERD),
                "--config-file",
                str(self.root / "daemon.json"),
                "--host",
                self.host,
                "--data-root",
                "/var/lib/buildgraph-faults-docker",
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "docker.pid"),
                "--containerd",
                CONTAINERD_SOCK,
                "--containerd-namespace",
                "buildgraph-faults",
                "--containerd-plugins-namespace",
                "buildgraph-faults-plugins",
                "--bridge",
                BRIDGE,
                "--iptables=false",
                "--ip6tables=false",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PATH": f"{DOCKERD.parent}:{os.environ['PATH']}"},
        )
        log.close()
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.root / "dockerd.log").read_text(errors="replace")[-1500:]
                pytest.fail(f"the second dockerd did not come up:\n{tail}")
            time.sleep(0.2)

    def answers(self) -> bool:
        done = subprocess.run(
            ["docker", "-H", self.host, "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
        )
        return done.returncode == 0

    def stop(self, sent: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sent)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def second_engine(engine: str) -> Iterator[SecondEngine]:
    if not DOCKERD.exists() or os.geteuid() != 0:
        engine_part_missing(f"a second dockerd needs {DOCKERD} and root")
    # A socket's path must stay short (108 bytes): not under pytest's tmp_path.
    root = Path("/run/buildgraph-faults")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    second = SecondEngine(root)
    second.start()
    yield second
    second.stop()
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True)
    # The first dockerd's bridge is still there: its RUN steps still have a network.
    assert subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0


def project(tmp_path: Path, tag: str, sleep: int) -> Path:
    """One target on a busybox base whose last step sleeps `sleep` seconds, cache-busted
    by NS; its RUN steps need no network."""
    folder = tmp_path / "faults"
    (folder / "img").mkdir(parents=True)
    stage_busybox(folder / "img" / "rootfs")
    (folder / "img" / "Dockerfile").write_text(
        "FROM scratch\nARG TARGETARCH\n"
        "COPY rootfs/linux/${TARGETARCH}/bin/busybox /bin/busybox\n"
        'RUN --network=none ["/bin/busybox", "--install", "-s", "/bin"]\n'
        f'ARG NS\nRUN --network=none echo "$NS" > /ns && sleep {sleep}\n'
    )
    (folder / "buildgraph.toml").write_text(
        '[variables]\nNS = "x"\n'
        "[target.img]\n"
        'context = "img"\nplatforms = ["linux/amd64"]\nargs = { NS = "{{ NS }}" }\n'
        f'tags = ["{tag}"]\n'
    )
    return folder


def start_build(folder: Path, ns: str, *extra: str, docker_host: str | None = None) -> Any:
    env = {**os.environ, "NO_COLOR": "1"}
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buildgraph",
            "build",
            "--var",
            f"NS={ns}",
            "--format",
            "json",
            *extra,
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_the_sleep(folder: Path, process: Any, deadline_s: float = 120) -> None:
    """Until BuildKit has started the sleeping step (the bake's rawjson stream says so)."""
    raw = folder / ".buildgraph" / "logs" / "bake-1.rawjson.log"
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the build ended before its sleeping step"
        if raw.exists() and "sleep " in raw.read_text(errors="replace"):
            time.sleep(1)  # into the step, not at its edge
            return
        time.sleep(0.1)
    pytest.fail("the sleeping step never started")


def processes_in(folder: Path) -> list[str]:
    """Processes whose working folder is `folder` (buildgraph's, and what it started)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if Path(os.readlink(proc / "cwd")) == folder:
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_the_daemon_going_away_mid_build_exits_3_and_the_next_run_builds(
    second_engine: SecondEngine, tmp_path: Path, sent: signal.Signals
) -> None:
    ns = namespace()
    folder = project(tmp_path, f"localhost:5000/{ns}/img:dev", sleep=30)
    try:
        build = start_build(folder, ns, docker_host=second_engine.host)
        wait_for_the_sleep(folder, build)
        second_engine.stop(sent)
        out, err = build.communicate(timeout=60)
    finally:
        if second_engine.process is not None and second_engine.process.poll() is not None:
            second_engine.start()
    assert build.returncode == 3, err
    assert "the builder stopped answering during the build" in err
    assert "Traceback" not in err
    assert summary(out)["img"]["status"] != "done"
    assert processes_in(folder) == []

    again = start_build(folder, ns, docker_host=second_engine.host)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    assert summary(out)["img"]["status"] == "done"


class SecondRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{REGISTRY_PORT}\n"
        )
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{REGISTRY_PORT}/v2/", timeout=2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the second registry did not come up")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_the_registry_going_away_before_the_push_fails_the_target_and_records_nothing(
    engine: str, second_registry: SecondRegistry, tmp_path: Path
) -> None:
    ns = namespace()
    tag = f"localhost:{REGISTRY_PORT}/{ns}/img:dev"
    folder = project(tmp_path, tag, sleep=4)
    build = start_build(folder, ns, "--push")
    wait_for_the_sleep(folder, build)
    second_registry.stop()
    out, err = build.communicate(timeout=120)
    assert build.returncode == 1, err
    assert summary(out)["img"]["status"] == "failed"
    notes = [e["detail"] for e in events(out) if e["event"] == "note"]
    assert any(
        f"registry localhost:{REGISTRY_PORT} does not answer" in n and "img not pushed" in n
        for n in notes
    ), notes
    assert processes_in(folder) == []

    second_registry.start()
    inspect = ["docker", "buildx", "imagetools", "inspect", tag]
    assert subprocess.run(inspect, capture_output=True).returncode != 0  # never pushed
    again = start_build(folder, ns, "--push")
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    assert summary(out)["img"]["digest"]
    pushed = subprocess.run([*inspect, "--raw"], capture_output=True, text=True, check=True)
    assert json.loads(pushed.stdout)["mediaType"]
