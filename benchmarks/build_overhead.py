"""Overhead of `buildgraph build` over the same raw `docker buildx bake` run, on a warm
cache, and `--via commands -j 4` against bake, on the bundled example. Needs the engine.

    .venv/bin/python benchmarks/build_overhead.py [--runs 5] [--push]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "monorepo"
STATE = EXAMPLE / ".buildgraph"


def seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--push", action="store_true", help="push to the local registry")
    args = parser.parse_args()
    mode = ["--push"] if args.push else []
    buildgraph = [sys.executable, "-m", "buildgraph"]
    STATE.mkdir(exist_ok=True)
    # The raw run: the very bake file buildgraph renders, given to bake by hand.
    raw = STATE / "bench-raw.json"
    subprocess.run(
        [*buildgraph, "render", "-o", str(raw)], cwd=EXAMPLE, check=True, stderr=subprocess.DEVNULL
    )
    commands = {
        "docker buildx bake (raw)": (
            ["docker", "buildx", "bake", "-f", raw.name, "--progress", "plain", *mode],
            STATE,
        ),
        "buildgraph build (via bake)": ([*buildgraph, "build", *mode], EXAMPLE),
        "buildgraph build --via commands -j 4": (
            [*buildgraph, "build", "--via", "commands", "-j", "4", *mode],
            EXAMPLE,
        ),
    }
    for argv, cwd in commands.values():  # warm the cache
        seconds(argv, cwd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):  # interleaved, so drift hits every command alike
        for name, (argv, cwd) in commands.items():
            times[name].append(seconds(argv, cwd))
    base = statistics.median(times["docker buildx bake (raw)"])
    outputs = "push" if args.push else "no output flag"
    print(f"warm cache, {args.runs} runs each, median seconds ({outputs}):")
    print("| command | median (s) | vs raw bake |")
    print("| --- | ---: | ---: |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {100 * (median / base - 1):+.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
