"""Overhead of `buildgraph build` over the same raw `docker buildx bake` run, on a warm cache,
and `--via commands -j 4` against bake, on the bundled example. Needs the engine.

    .venv/bin/python benchmarks/build_overhead.py [--runs 30] [--cold-runs 10]
        [--commands-runs 3] [--push]

A warm bake of the example varies by more than the 5% being measured (dockerd and
containerd share the machine's two cores with it, and drift over minutes), so each
buildgraph run is paired with a raw bake run next to it, in alternating order, and the
figure is the median of the differences within pairs, with a 95% confidence interval
(percentile bootstrap): drift cancels, and the interval says what the noise left.

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
import random
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


def median_interval(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95% confidence interval of the median (percentile bootstrap, fixed seed)."""
    draw = random.Random(0)
    medians = sorted(
        statistics.median(draw.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def touch_project() -> None:
    os.utime(EXAMPLE / "buildgraph.toml")


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

    def pair(name: str, index: int, before: Callable[[], None] | None = None) -> None:
        ours = (lambda: seconds(build, EXAMPLE, before), "ours")
        theirs = (lambda: seconds(raw, STATE), "raw")
        first, second = (ours, theirs) if index % 2 == 0 else (theirs, ours)
        taken = {first[1]: first[0](), second[1]: second[0]()}
        runs["raw"].append(taken["raw"])
        runs[name].append(taken["ours"])
        pairs[name].append(taken["ours"] - taken["raw"])

    for index in range(args.runs):
        pair("reused", index)
    for index in range(args.cold_runs):
        pair("cold", index, touch_project)
    via_commands = [seconds(commands, EXAMPLE) for _ in range(args.commands_runs)]

    base = statistics.median(runs["raw"])
    outputs = "push" if args.push else "no output flag"
    print(f"warm cache, {outputs}; pairs: {args.runs} reused plan, {args.cold_runs} cold plan")
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
    median = statistics.median(via_commands)
    print(
        f"| buildgraph build --via commands -j 4 ({args.commands_runs} runs) | {median:.2f} "
        f"| | {100 * (median / base - 1):+.1f}% |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
