"""Overhead of `buildgraph build` over the same raw `docker buildx bake` run, on a warm cache,
and `--via commands -j 4` against bake, on the bundled example. Needs the engine.

    .venv/bin/python benchmarks/build_overhead.py [--runs 15] [--commands-runs 3] [--push]

A warm bake of the example varies by more than the 5% being measured (dockerd and
containerd share the machine's two cores with it, and drift over minutes), so each
buildgraph run is paired with a raw bake run next to it, in alternating order, and the
figure is the median of the differences within pairs: drift cancels, noise averages out.

- raw: `docker buildx bake` on the very bake file buildgraph renders, as a person would
  run it by hand;
- reused plan: `buildgraph build` (the console script, as a user runs it) with nothing
  changed since the last build: it reuses its plan and builder facts (plancache);
- cold plan: the same after `touch buildgraph.toml` (its ctime moves, so the recorded plan
  is not trusted and the project is planned from scratch).

The first run of each command warms BuildKit's cache and is not counted. Python keeps its
bytecode, as on a user's machine (this machine's environment says not to write it, which
would make every run compile buildgraph again).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "monorepo"
STATE = EXAMPLE / ".buildgraph"
BUILDGRAPH = Path(sys.executable).parent / "buildgraph"  # the venv's console script
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def seconds(argv: list[str], cwd: Path, before: Callable[[], None] | None = None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    return time.perf_counter() - start


def touch_project() -> None:
    os.utime(EXAMPLE / "buildgraph.toml")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15, help="pairs per buildgraph command")
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
    for index in range(args.runs):
        for name, before in (("reused", None), ("cold", touch_project)):
            ours = (lambda b=before: seconds(build, EXAMPLE, b), "ours")
            theirs = (lambda: seconds(raw, STATE), "raw")
            first, second = (ours, theirs) if index % 2 == 0 else (theirs, ours)
            taken = {first[1]: first[0](), second[1]: second[0]()}
            runs["raw"].append(taken["raw"])
            runs[name].append(taken["ours"])
            pairs[name].append(taken["ours"] - taken["raw"])
        time.sleep(2.1)  # settle after the touch, so the next reused run finds a plan
        seconds(build, EXAMPLE)
    via_commands = [seconds(commands, EXAMPLE) for _ in range(args.commands_runs)]

    base = statistics.median(runs["raw"])
    outputs = "push" if args.push else "no output flag"
    print(f"warm cache, {outputs}; {args.runs} pairs per buildgraph command")
    print("| command | median (s) | added, median of pairs (ms) | vs raw bake |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| docker buildx bake (raw) | {base:.2f} | | |")
    for name, label in (("reused", "reused plan"), ("cold", "cold plan")):
        added = statistics.median(pairs[name])
        print(
            f"| buildgraph build ({label}) | {statistics.median(runs[name]):.2f} "
            f"| {1000 * added:+.0f} | {100 * added / base:+.1f}% |"
        )
    median = statistics.median(via_commands)
    print(
        f"| buildgraph build --via commands -j 4 ({args.commands_runs} runs) | {median:.2f} "
        f"| | {100 * (median / base - 1):+.1f}% |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
