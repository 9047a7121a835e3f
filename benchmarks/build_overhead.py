"""Overhead of `buildgraph build` over the same raw `docker buildx bake` run, on a warm cache,
and `--via commands -j 4` against bake, on the bundled example. Needs the engine.

    .venv/bin/python benchmarks/build_overhead.py [--runs 15] [--push]

Two measures, because a warm bake of the example varies by more than the 5% being
measured (dockerd and containerd share the machine's two cores with it):

- whole commands, interleaved, medians: `buildgraph build` (the console script, as a user
  runs it) against `docker buildx bake` on the very bake file buildgraph renders;
- the time buildgraph adds around its bake run, exactly: from its start to the exec of
  `docker buildx bake`, and from bake's exit to its own. A `docker` shim first on PATH
  records both instants (the shim's own two `date` calls, about 2 ms, are counted in).

The first build of each command is not counted: it warms BuildKit's cache, and
buildgraph's plan and builder facts (`buildgraph build` reuses both while nothing they
depend on changes; the first figure after an edit of the project or a Dockerfile is the
"cold plan" one, printed too).
"""

from __future__ import annotations

import argparse
import os
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
# As on a user's machine, Python keeps the bytecode it compiles (this machine's
# environment says not to, which would make every run compile buildgraph again).
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


def seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    return time.perf_counter() - start


def added_seconds(argv: list[str], cwd: Path, shim_dir: Path) -> tuple[float, float]:
    """Seconds before bake starts and after it ends, for one run of a one-bake-run build."""
    marks = shim_dir / "marks"
    marks.unlink(missing_ok=True)
    env = {**ENV, "PATH": f"{shim_dir}{os.pathsep}{ENV['PATH']}"}
    start = time.time_ns()
    subprocess.run(
        argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    end = time.time_ns()
    bake_start, bake_end = (int(line) for line in marks.read_text().split())
    return (bake_start - start) / 1e9, (end - bake_end) / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--push", action="store_true", help="push to the local registry")
    args = parser.parse_args()
    mode = ["--push"] if args.push else []
    docker = shutil.which("docker")
    if docker is None:
        print("no docker CLI on PATH", file=sys.stderr)
        return 1
    STATE.mkdir(exist_ok=True)
    # The raw run: the very bake file buildgraph renders, given to bake by hand.
    raw = STATE / "bench-raw.json"
    subprocess.run(
        [str(BUILDGRAPH), "render", "-o", str(raw)],
        cwd=EXAMPLE,
        check=True,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    build = [str(BUILDGRAPH), "build", *mode]
    commands = {
        "docker buildx bake (raw)": (
            ["docker", "buildx", "bake", "-f", raw.name, "--progress", "plain", *mode],
            STATE,
        ),
        "buildgraph build (via bake)": (build, EXAMPLE),
        "buildgraph build --via commands -j 4": (
            [*build, "--via", "commands", "-j", "4"],
            EXAMPLE,
        ),
    }
    with tempfile.TemporaryDirectory() as folder:
        shim_dir = Path(folder)
        (shim_dir / "docker").write_text(SHIM.format(marks=shim_dir / "marks", docker=docker))
        (shim_dir / "docker").chmod(0o755)
        # A cold plan: the project file looks just edited (its ctime moves), so the plan
        # recorded last is not trusted (see plancache) and this build plans from scratch.
        os.utime(EXAMPLE / "buildgraph.toml")
        time.sleep(0.01)
        cold = added_seconds(build, EXAMPLE, shim_dir)
        for argv, cwd in commands.values():  # warm the cache (and record the plan)
            seconds(argv, cwd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        added: list[tuple[float, float]] = []
        for _ in range(args.runs):  # interleaved, so drift hits every command alike
            for name, (argv, cwd) in commands.items():
                times[name].append(seconds(argv, cwd))
            added.append(added_seconds(build, EXAMPLE, shim_dir))
    base = statistics.median(times["docker buildx bake (raw)"])
    outputs = "push" if args.push else "no output flag"
    print(f"warm cache, {args.runs} runs each, interleaved, median seconds ({outputs}):")
    print("| command | median (s) | vs raw bake |")
    print("| --- | ---: | ---: |")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {100 * (median / base - 1):+.1f}% |")
    before = statistics.median(a for a, _ in added)
    after = statistics.median(b for _, b in added)
    total = statistics.median(a + b for a, b in added)
    print()
    print("time `buildgraph build` adds around its bake run (median of the runs):")
    print("| plan | before bake (ms) | after bake (ms) | added (ms) | vs raw bake |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| reused | {1000 * before:.0f} | {1000 * after:.0f} | {1000 * total:.0f} "
        f"| {100 * total / base:+.1f}% |"
    )
    print(
        f"| cold (one run, after touching buildgraph.toml) | {1000 * cold[0]:.0f} "
        f"| {1000 * cold[1]:.0f} | {1000 * sum(cold):.0f} | {100 * sum(cold) / base:+.1f}% |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
