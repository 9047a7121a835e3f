"""`buildgraph build` against the real engine: multi-platform builds pushed to the local
registry, fresh dependencies, failures, interruption, and the preflight."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.engine

REGISTRY = "localhost:5000"
BINFMT_ARM64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")


def buildgraph(
    *args: str, cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildgraph", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def summary(stdout: str) -> dict[str, dict[str, Any]]:
    [last] = [e for e in events(stdout) if e["event"] == "summary"]
    return {t["name"]: t for t in last["data"]["targets"]}


def manifest_platforms(docker: str, ref: str) -> set[str]:
    raw = subprocess.run(
        [docker, "buildx", "imagetools", "inspect", "--raw", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    index = json.loads(raw)
    return {
        f"{m['platform']['os']}/{m['platform']['architecture']}"
        for m in index.get("manifests", [])
        if m.get("platform", {}).get("os") != "unknown"
    }


def pushed(docker: str, ref: str) -> bool:
    """Whether the registry has `ref`."""
    inspected = subprocess.run(
        [docker, "buildx", "imagetools", "inspect", "--raw", ref], capture_output=True
    )
    return inspected.returncode == 0


def run_in_image(docker: str, ref: str, platform: str, *command: str) -> str:
    return subprocess.run(
        [docker, "run", "--rm", "--pull", "always", "--platform", platform, ref, *command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def namespace() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_example_monorepo_builds_for_two_platforms_and_pushes(engine: str, via: str) -> None:
    tag = namespace()
    result = buildgraph(
        "build",
        "--push",
        "--via",
        via,
        "--var",
        f"TAG={tag}",
        "--format",
        "json",
        cwd=EXAMPLES / "monorepo",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    done = summary(result.stdout)
    assert {t["status"] for t in done.values()} == {"done"}
    assert len(done) == 9
    for image in ("worker", "web", f"api:{tag}-slim-release"):
        ref = f"{REGISTRY}/acme/{image}" + ("" if ":" in image else f":{tag}")
        assert manifest_platforms(engine, ref) == {"linux/amd64", "linux/arm64"}, ref
    assert manifest_platforms(engine, f"{REGISTRY}/acme/migrate:{tag}") == {"linux/amd64"}
    # base and runtime are only needed by what was asked for: built for it, never pushed
    # (bake builds a target it reaches through target: links cacheonly).
    for image in ("base", "runtime"):
        assert not pushed(engine, f"{REGISTRY}/acme/{image}:{tag}"), image
    api = f"{REGISTRY}/acme/api:{tag}-full-release"
    assert "arch=aarch64" in run_in_image(engine, api, "linux/arm64", "cat", "/app/build-info")
    assert "arch=x86_64" in run_in_image(engine, api, "linux/amd64", "cat", "/app/build-info")


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_dependents_build_on_the_fresh_base_never_a_stale_tag(
    engine: str, chain: Path, via: str
) -> None:
    ns = namespace()
    stale = buildgraph(
        "build", "base", "--push", "--var", f"NS={ns}", "--var", "MARK=stale", cwd=chain
    )
    assert stale.returncode == 0, stale.stderr
    # The stale base is now both in the registry and in the local image store.
    base = f"{REGISTRY}/{ns}/base:dev"
    assert run_in_image(engine, base, "linux/amd64", "cat", "/mark") == "stale"

    fresh = buildgraph(
        "build",
        "app",
        "--push",
        "--via",
        via,
        "--var",
        f"NS={ns}",
        "--var",
        "MARK=fresh",
        cwd=chain,
    )
    assert fresh.returncode == 0, fresh.stderr
    app = f"{REGISTRY}/{ns}/app:dev"
    for platform, arch in (("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")):
        assert run_in_image(engine, app, platform, "cat", "/app-mark") == "fresh"
        assert run_in_image(engine, app, platform, "cat", "/app-arch") == arch


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_a_failure_skips_dependents_and_keep_going_builds_the_rest(
    engine: str, chain: Path, via: str
) -> None:
    ns = namespace()
    result = buildgraph(
        "build",
        "after-broken",
        "independent",
        "--push",
        "--keep-going",
        "--via",
        via,
        "--var",
        f"NS={ns}",
        "--format",
        "json",
        cwd=chain,
    )
    assert result.returncode == 1
    status = {name: t["status"] for name, t in summary(result.stdout).items()}
    assert status["base"] == "done"
    assert status["broken"] == "failed"
    assert status["after-broken"] == "skipped"
    assert status["independent"] == "done"
    broken = summary(result.stdout)["broken"]
    assert broken["detail"]
    # Where it failed, as buildx's error report says: its Dockerfile's fourth line.
    assert (broken["failed_at"] or "").endswith("Dockerfile:4"), broken
    [finished] = [
        e for e in events(result.stdout) if e["event"] == "finished" and e["target"] == "broken"
    ]
    assert finished["data"]["failed_at"] == broken["failed_at"]
    # Each target's instruction steps: base's three for each of its two platforms (never
    # counted again under broken, which bake also reports them under); broken's one failed.
    steps = {name: t["steps"] for name, t in summary(result.stdout).items()}
    assert (steps["base"], steps["broken"], steps["independent"]) == (6, 0, 1), steps
    human = buildgraph("build", "after-broken", "--via", via, "--var", f"NS={ns}", cwd=chain)
    assert human.returncode == 1
    assert "failed" in human.stderr and "skipped" in human.stderr
    assert "  at Dockerfile:4" in human.stderr or "/Dockerfile:4" in human.stderr, human.stderr


def early_bakes_in(folder: Path) -> list[int]:
    """Processes of a `docker buildx bake -f -` (buildgraph's early bake) running in `folder`:
    other builds on the machine are not this test's."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if b"bake" in argv and b"-" in argv and Path(os.readlink(proc / "cwd")) == folder:
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue  # not a process, or gone since the listing
    return found


def processes_mentioning(text: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if text in line and "ps -eo" not in line]


@pytest.mark.parametrize(
    ("via", "sent"),
    [("bake", signal.SIGINT), ("commands", signal.SIGINT), ("bake", signal.SIGTERM)],
)
def test_ctrl_c_stops_every_build_and_leaves_no_process(
    engine: str, chain: Path, via: str, sent: signal.Signals
) -> None:
    """Ctrl-C, and SIGTERM (what `kill` and CI runners send) the same way."""
    ns = namespace()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buildgraph",
            "build",
            "slow",
            "--via",
            via,
            "--var",
            f"NS={ns}",
            "--format",
            "json",
        ],
        cwd=chain,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        event = json.loads(line)
        if event["event"] == "started" and event["target"] == "slow":
            break
        assert time.monotonic() < deadline
    time.sleep(3)  # let `RUN sleep 120` start
    process.send_signal(sent)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    statuses = {name: t["status"] for name, t in summary(rest).items()}
    assert statuses["slow"] == "cancelled"
    time.sleep(1)
    assert processes_mentioning(ns) == []


def test_load_of_two_platforms_works_with_the_containerd_store(engine: str, chain: Path) -> None:
    ns = namespace()
    result = buildgraph("build", "base", "--load", "--var", f"NS={ns}", cwd=chain)
    assert result.returncode == 0, result.stderr
    inspect = subprocess.run(
        [engine, "image", "inspect", f"{REGISTRY}/{ns}/base:dev"], capture_output=True, text=True
    )
    assert inspect.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch binfmt_misc entries")
def test_missing_qemu_is_refused_before_building(engine: str, chain: Path) -> None:
    if not BINFMT_ARM64.exists():
        pytest.fail("qemu-aarch64 is not registered: .ci/provision-engine.sh should have done it")
    ns = namespace()
    BINFMT_ARM64.write_text("0")
    try:
        result = buildgraph("build", "app", "--var", f"NS={ns}", cwd=chain)
    finally:
        BINFMT_ARM64.write_text("1")
    assert result.returncode == 3
    assert "linux/arm64 needs QEMU" in result.stderr
    assert "exec format error" in result.stderr and "qemu-user-static" in result.stderr
    assert "building" not in result.stderr  # refused before starting anything
    assert early_bakes_in(chain) == []  # the bake started early was stopped
    again = buildgraph("build", "app", "--var", f"NS={ns}", cwd=chain)
    assert again.returncode == 0, again.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch binfmt_misc entries")
def test_a_refusal_on_a_fresh_machine_does_not_wait_for_the_early_bake(
    engine: str, chain: Path, tmp_path: Path
) -> None:
    """No plan or facts kept (a new cache): planning and the probe take long enough for
    buildx to be reading its definition when the build is refused, and stopping it then
    cost 10 s of signal grace periods (buildx heeds no signal while it reads)."""
    if not BINFMT_ARM64.exists():
        pytest.fail("qemu-aarch64 is not registered: .ci/provision-engine.sh should have done it")
    fresh = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    BINFMT_ARM64.write_text("0")
    try:
        started = time.monotonic()
        result = buildgraph("build", "app", "--var", f"NS={namespace()}", cwd=chain, env=fresh)
        seconds = time.monotonic() - started
    finally:
        BINFMT_ARM64.write_text("1")
    assert result.returncode == 3, result.stderr
    assert early_bakes_in(chain) == []
    assert seconds < 4, seconds  # was 10.3 s


def test_split_platforms_gives_the_same_manifest_list(engine: str, chain: Path) -> None:
    ns = namespace()
    whole = buildgraph(
        "build", "app", "--push", "--var", f"NS={ns}", "--var", "TAG=whole", cwd=chain
    )
    assert whole.returncode == 0, whole.stderr
    split = buildgraph(
        "build",
        "app",
        "--push",
        "--split-platforms",
        "--var",
        f"NS={ns}",
        "--var",
        "TAG=split",
        "--format",
        "json",
        cwd=chain,
    )
    assert split.returncode == 0, split.stdout
    one = manifest_platforms(engine, f"{REGISTRY}/{ns}/app:whole")
    assert one == {"linux/amd64", "linux/arm64"}
    assert manifest_platforms(engine, f"{REGISTRY}/{ns}/app:split") == one
    # base, which only app needs, is pushed by neither (per-platform layouts when split).
    assert not pushed(engine, f"{REGISTRY}/{ns}/base:whole")
    assert not pushed(engine, f"{REGISTRY}/{ns}/base:split")
    app = f"{REGISTRY}/{ns}/app:split"
    # Each platform of app was built on the same platform of the base built in this run.
    assert run_in_image(engine, app, "linux/arm64", "cat", "/app-arch") == "aarch64"
    assert run_in_image(engine, app, "linux/amd64", "cat", "/app-mark") == "fresh"


def test_split_platforms_needs_push(engine: str, chain: Path) -> None:
    result = buildgraph("build", "app", "--split-platforms", cwd=chain)
    assert result.returncode == 2
    assert "needs --push" in result.stderr


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_progress_goes_to_stderr_and_stdout_stays_json(engine: str, chain: Path, via: str) -> None:
    result = buildgraph(
        "build",
        "independent",
        "--via",
        via,
        "--progress",
        "plain",
        "--var",
        f"NS={namespace()}",
        "--format",
        "json",
        cwd=chain,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines and all(json.loads(line)["event"] for line in lines)
    assert "DONE" in result.stderr  # buildx's own plain progress


def test_rendered_shell_script_builds_on_the_fresh_base(engine: str, chain: Path) -> None:
    ns = namespace()
    stale = buildgraph(
        "build", "base", "--load", "--var", f"NS={ns}", "--var", "MARK=stale", cwd=chain
    )
    assert stale.returncode == 0, stale.stderr
    script = chain / "build.sh"
    rendered = buildgraph(
        "render", "app", "--format", "sh", "--var", f"NS={ns}", "-o", str(script), cwd=chain
    )
    assert rendered.returncode == 0, rendered.stderr
    ran = subprocess.run(["sh", str(script)], cwd="/", capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    mark = subprocess.run(
        [engine, "run", "--rm", f"{REGISTRY}/{ns}/app:dev", "cat", "/app-mark"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert mark == "fresh"


def test_an_unchanged_project_reuses_its_plan_and_an_edit_replans(engine: str, chain: Path) -> None:
    ns = namespace()
    time.sleep(2.1)  # files younger than that are not trusted to be unchanged (plancache)
    argv = ("build", "independent", "--push", "--format", "json", "--var", f"NS={ns}")
    first = buildgraph(*argv, cwd=chain)
    assert first.returncode == 0, first.stderr
    second = buildgraph(*argv, cwd=chain)
    assert second.returncode == 0, second.stderr
    notes = [e.get("detail", "") for e in events(second.stdout) if e["event"] == "note"]
    assert any(n.startswith("plan reused") for n in notes)
    assert not any("plan reused" in e.get("detail", "") for e in events(first.stdout))

    # A new FROM line is a new dependency: the plan is made again, the base built first.
    (chain / "independent" / "Dockerfile").write_text(
        f"FROM localhost:5000/{ns}/base:dev\nCOPY hello.txt /hello.txt\n"
    )
    third = buildgraph(*argv, cwd=chain)
    assert third.returncode == 0, third.stderr
    assert not any("plan reused" in e.get("detail", "") for e in events(third.stdout))
    assert [e["target"] for e in events(third.stdout) if e["event"] == "queued"] == [
        "base",
        "independent",
    ]
    independent = f"{REGISTRY}/{ns}/independent:dev"
    assert run_in_image(engine, independent, "linux/amd64", "cat", "/mark") == "fresh"


def test_bad_input_stops_the_bake_started_early(engine: str, chain: Path) -> None:
    result = buildgraph("build", "no-such-target", cwd=chain)
    assert result.returncode == 2 and "no target or group named" in result.stderr
    assert early_bakes_in(chain) == []


def test_a_plan_of_two_bake_runs_builds_them_in_order(engine: str, chain: Path) -> None:
    ns = namespace()
    with (chain / "buildgraph.toml").open("a") as toml:
        toml.write(
            "\n[target.later]\n"
            'context = "independent"\n'
            'platforms = ["linux/amd64"]\n'
            'depends_on = ["independent"]\n'
            'tags = ["localhost:5000/{{ NS }}/later:{{ TAG }}"]\n'
        )
    result = buildgraph("build", "later", "--format", "json", "--var", f"NS={ns}", cwd=chain)
    assert result.returncode == 0, result.stderr
    order = [(e["event"], e["target"]) for e in events(result.stdout) if "target" in e]
    assert order.index(("finished", "independent")) < order.index(("started", "later"))
    assert {t["status"] for t in summary(result.stdout).values()} == {"done"}
    assert (chain / ".buildgraph" / "logs" / "bake-2.log").exists()
    assert early_bakes_in(chain) == []


def test_each_target_of_a_bake_run_reports_its_own_seconds(engine: str, chain: Path) -> None:
    """One bake run builds a 3-second target and a quick one side by side: each is timed
    by BuildKit's own step times, not the run's."""
    ns = namespace()
    (chain / "nap").mkdir()
    (chain / "nap" / "Dockerfile").write_text(
        "ARG NS=bgtest\nARG TAG=dev\nFROM localhost:5000/${NS}/base:${TAG}\n"
        'ARG NS\nRUN echo "$NS" > /ns && sleep 3\n'
    )
    with (chain / "buildgraph.toml").open("a") as toml:
        toml.write(
            '\n[target.nap]\ninherits = ["_ns"]\ncontext = "nap"\n'
            'platforms = ["linux/amd64"]\n'
            'tags = ["localhost:5000/{{ NS }}/nap:{{ TAG }}"]\n'
        )
    result = buildgraph(
        "build", "nap", "independent", "--format", "json", "--var", f"NS={ns}", cwd=chain
    )
    assert result.returncode == 0, result.stderr
    targets = summary(result.stdout)
    assert {t["status"] for t in targets.values()} == {"done"}
    assert targets["nap"]["seconds"] >= 3.0
    assert targets["independent"]["seconds"] < targets["nap"]["seconds"] - 1.5
    assert targets["base"]["seconds"] <= targets["nap"]["seconds"]
    # The chain that took longest, by those seconds: the base, then the 3-second nap.
    [last] = [e for e in events(result.stdout) if e["event"] == "summary"]
    critical = last["data"]["critical_path"]
    assert critical["targets"] == ["base", "nap"]
    assert critical["seconds"] == pytest.approx(
        targets["base"]["seconds"] + targets["nap"]["seconds"], abs=0.01
    )
    readable = (chain / ".buildgraph" / "logs" / "bake-1.log").read_text()
    assert "[nap " in readable and "DONE" in readable and '"vertexes"' not in readable


@pytest.mark.parametrize("via", ["bake", "commands"])
def test_each_step_is_told_as_it_runs(engine: str, chain: Path, via: str) -> None:
    """The live views see a target's step start while it runs, its log lines, and its
    end: from bake's rawjson progress, and from buildx build's with --via commands."""
    from buildgraph.plan.load import load, plan
    from buildgraph.report.events import Event
    from buildgraph.runner.execute import run_plan
    from buildgraph.runner.options import BuildOptions

    ns = namespace()
    (chain / "nap").mkdir()
    (chain / "nap" / "Dockerfile").write_text(
        "ARG NS=bgtest\nARG TAG=dev\nFROM localhost:5000/${NS}/base:${TAG}\n"
        f'RUN echo "napping {ns}" && sleep 2\n'
    )
    with (chain / "buildgraph.toml").open("a") as toml:
        toml.write(
            '\n[target.nap]\ninherits = ["_ns"]\ncontext = "nap"\n'
            'platforms = ["linux/amd64"]\n'
            'tags = ["localhost:5000/{{ NS }}/nap:{{ TAG }}"]\n'
        )
    the_plan = plan(load(chain / "buildgraph.toml", {"NS": ns}), ["nap"])
    told: list[Event] = []
    results = run_plan(the_plan, BuildOptions(via), told.append)
    assert {r.name: r.status for r in results} == {"base": "done", "nap": "done"}
    steps = [e for e in told if e.event == "step" and e.target == "nap"]
    run = [e for e in steps if "RUN echo" in (e.detail or "")]
    # BuildKit may first report the step as a cache lookup, then run it.
    assert run[0].status == "running" and [e.status for e in run[-2:]] == ["running", "done"]
    assert run[-1].seconds is not None and run[-1].seconds >= 2.0
    # Told while it ran, not after: the step's start came two seconds before its end.
    assert run[-1].time - run[-2].time >= 1.5
    [finished] = [e for e in told if e.event == "finished" and e.target == "nap"]
    assert finished.time >= run[-1].time
    logged = [e.detail or "" for e in told if e.event == "log" and e.target == "nap"]
    assert any(f"napping {ns}" in line for line in logged)
    assert {e.target for e in told if e.event == "step"} == {"base", "nap"}
