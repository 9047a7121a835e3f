"""Overhead of `buildgraph build` over the same raw `docker buildx bake` run, on a warm cache,
and `--via commands -j 4` against bake, on the bundled example. Needs the engine.

    .venv/bin/python benchmarks/build_overhead.py [--runs 30] [--cold-runs 10]
        [--commands-runs 3] [--push]

A warm bake of the example varies here by a second from one run to the next (dockerd and
containerd share the machine's two cores with it), more than the difference measured. So
two measures:

- bounds on what buildgraph adds, from its own segments only: a `docker` shim first on
  PATH records when `docker buildx bake` is exec'd and when it exits, and the JSON events
  say when the plan was fed to it (`started`, emitted just before). buildgraph adds at
  least (start to bake's exec) + (bake's exit to its own), if bake's own start-up fully
  overlaps the rest of buildgraph's work, and at most (start to feeding the plan) +
  (bake's exit to its own), as if it did not overlap at all. Bake's variance is not in
  either; the shim's `date` calls (about 2 ms each) are;
- whole commands, each buildgraph run paired with a raw bake run next to it in
  alternating order: the median of the differences, with a 95% interval (percentile
  bootstrap). On a quiet machine it agrees with the bounds; on a noisy one its interval
  says so.

Commands:

- raw: `docker buildx bake` on the very bake file buildgraph renders, as a person would
  run it by hand;
- reused plan: `buildgraph build` (the console script, as a user runs it) with nothing
  changed since the last build: it reuses its plan and builder facts
  (build/uptodate.py, runner/probe.py);
- cold plan: the same with an empty plan cache (a fresh XDG_CACHE_HOME holding only the
  builder facts already kept): the project is planned from scratch, as after an edit of
  the project file or a Dockerfile.

The first run of each command warms BuildKit's cache and is not counted. Python keeps its
bytecode, as on a user's machine (this machine's environment says not to write it, which
would make every run compile buildgraph again).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "monorepo"
STATE = EXAMPLE / ".buildgraph"
BUILDGRAPH = Path(sys.executable).parent / "buildgraph"  # the venv's console script
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
SHIM = """#!/bin/sh
if [ "$1 $2" = "buildx bake" ]; then
  date +%s%N >> "{marks}"
  "{docker}" "$@"; code=$?
  date +%s%N >> "{marks}"
  exit $code
fi
exec "{docker}" "$@"
"""


def seconds(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv,
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env or ENV,
    )
    return time.perf_counter() - start


def median_interval(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95% confidence interval of the median (percentile bootstrap, fixed seed)."""
    draw = random.Random(0)
    medians = sorted(
        statistics.median(draw.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def segments(
    build: list[str], shim_dir: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """Seconds from start to bake's exec, from start to the plan fed to it, and from bake's
    exit to buildgraph's, for one build of one bake run."""
    marks = shim_dir / "marks"
    marks.unlink(missing_ok=True)
    env = {**(env or ENV), "PATH": f"{shim_dir}{os.pathsep}{ENV['PATH']}"}
    start = time.time_ns()
    done = subprocess.run(
        [*build, "--format", "json"], cwd=EXAMPLE, check=True, capture_output=True, env=env
    )
    end = time.time_ns()
    exec_ns, exit_ns = (int(line) for line in marks.read_text().split())
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith(b"{")]
    fed_ns = max(int(e["time"] * 1e9) for e in events if e["event"] == "started")
    return (exec_ns - start) / 1e9, (fed_ns - start) / 1e9, (end - exit_ns) / 1e9


def cold_plan_env(scratch: Path) -> dict[str, str]:
    """An environment whose plan cache is empty; the builder facts kept so far are copied."""
    home = Path(tempfile.mkdtemp(dir=scratch))
    kept = Path(ENV.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "buildgraph" / "facts"
    if kept.is_dir():
        shutil.copytree(kept, home / "buildgraph" / "facts")
    return {**ENV, "XDG_CACHE_HOME": str(home)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30, help="pairs with a reused plan")
    parser.add_argument("--cold-runs", type=int, default=10, help="pairs with a cold plan")
    parser.add_argument("--commands-runs", type=int, default=3, help="runs of --via commands")
    parser.add_argument("--push", action="store_true", help="push to the local registry")
    args = parser.parse_args()
    mode = ["--push"] if args.push else []
    STATE.mkdir(exist_ok=True)
    raw_file = STATE / "bench-raw.json"
    subprocess.run(
        [str(BUILDGRAPH), "render", "-o", str(raw_file)],
        cwd=EXAMPLE,
        check=True,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    raw = ["docker", "buildx", "bake", "-f", raw_file.name, "--progress", "plain", *mode]
    build = [str(BUILDGRAPH), "build", *mode]
    commands = [*build, "--via", "commands", "-j", "4"]
    for argv, cwd in ((raw, STATE), (build, EXAMPLE), (commands, EXAMPLE)):
        seconds(argv, cwd)  # warm BuildKit's cache, record the plan and the builder facts
    time.sleep(2.1)  # the project's files settle (a plan is recorded only from settled files)
    seconds(build, EXAMPLE)

    runs: dict[str, list[float]] = {"raw": [], "reused": [], "cold": []}
    pairs: dict[str, list[float]] = {"reused": [], "cold": []}

    def pair(name: str, index: int, env: dict[str, str] | None = None) -> None:
        ours = (lambda: seconds(build, EXAMPLE, env), "ours")
        theirs = (lambda: seconds(raw, STATE), "raw")
        first, second = (ours, theirs) if index % 2 == 0 else (theirs, ours)
        taken = {first[1]: first[0](), second[1]: second[0]()}
        runs["raw"].append(taken["raw"])
        runs[name].append(taken["ours"])
        pairs[name].append(taken["ours"] - taken["raw"])

    with tempfile.TemporaryDirectory() as folder:
        shim_dir = Path(folder)
        docker = shutil.which("docker", path=ENV["PATH"])
        (shim_dir / "docker").write_text(SHIM.format(marks=shim_dir / "marks", docker=docker))
        (shim_dir / "docker").chmod(0o755)
        seconds(build, EXAMPLE)  # the shim's docker is another setup: probe it once
        time.sleep(2.1)
        seconds(build, EXAMPLE)
        measured = {
            "reused": [segments(build, shim_dir) for _ in range(args.runs)],
            "cold": [],
        }
        for _ in range(args.cold_runs):
            measured["cold"].append(segments(build, shim_dir, cold_plan_env(shim_dir)))
        for index in range(args.runs):
            pair("reused", index)
        for index in range(args.cold_runs):
            pair("cold", index, cold_plan_env(shim_dir))
    via_commands = [seconds(commands, EXAMPLE) for _ in range(args.commands_runs)]

    base = statistics.median(runs["raw"])
    outputs = "push" if args.push else "no output flag"
    print(f"warm cache, {outputs}; raw bake median {base:.2f} s")
    print()
    print("what buildgraph adds, from its own segments (medians, ms):")
    print(
        "| plan | runs | to bake's exec | to the plan fed | after bake's exit | added at least "
        "| added at most |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("reused", "cold"):
        rows = measured[name]
        if not rows:
            continue
        to_exec, to_feed, after = (statistics.median(column) for column in zip(*rows, strict=True))
        low = statistics.median(a + c for a, _, c in rows)
        high = statistics.median(b + c for _, b, c in rows)
        print(
            f"| {name} | {len(rows)} | {1000 * to_exec:.0f} | {1000 * to_feed:.0f} "
            f"| {1000 * after:.0f} | {1000 * low:.0f} ({100 * low / base:.1f}%) "
            f"| {1000 * high:.0f} ({100 * high / base:.1f}%) |"
        )
    print()
    print(f"whole commands; pairs: {args.runs} reused plan, {args.cold_runs} cold plan")
    print("| command | median (s) | added: median of pairs (ms) [95% CI] | vs raw bake |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| docker buildx bake (raw) | {base:.2f} | | |")
    for name, label in (("reused", "reused plan"), ("cold", "cold plan")):
        if not pairs[name]:
            continue
        added = statistics.median(pairs[name])
        low, high = median_interval(pairs[name])
        print(
            f"| buildgraph build ({label}) | {statistics.median(runs[name]):.2f} "
            f"| {1000 * added:+.0f} [{1000 * low:+.0f}, {1000 * high:+.0f}] "
            f"| {100 * added / base:+.1f}% [{100 * low / base:+.1f}, {100 * high / base:+.1f}] |"
        )
    if via_commands:
        median = statistics.median(via_commands)
        print(
            f"| buildgraph build --via commands -j 4 ({args.commands_runs} runs) | {median:.2f} "
            f"| | {100 * (median / base - 1):+.1f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
