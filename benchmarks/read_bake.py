"""What reading a bake file directly costs: `buildgraph plan -f docker-bake.hcl` against
`docker buildx bake --print` of the same file, and `buildgraph plan` of the equivalent
buildgraph.toml, side by side in one run (generate.py writes both files).

    .venv/bin/python benchmarks/read_bake.py [--sizes 100,1000,3000] [--runs 5]

The goal: reading a bake file adds at most the time of one `bake --print` to a command,
that is `plan -f docker-bake.hcl` <= `plan` of buildgraph.toml + `bake --print`. buildgraph
runs one print (the requested names, or the default group, and every target); the column
`prints` counts the bake processes each command ran, in one more run of it through a
`docker` of ours that logs them (not timed). Needs the buildx plugin; no daemon, nothing
is built.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

PYTHON = sys.executable


def seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def bake_prints(argv: list[str], cwd: Path) -> int:
    """How many `docker buildx bake` processes `argv` runs: a `docker` first on PATH logs
    each, then is the real one."""
    docker = shutil.which("docker")
    assert docker is not None, "needs the docker CLI"
    shim, log = cwd / "shim" / "docker", cwd / "bake-runs"
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\n[ "$2" = bake ] && echo >> "{log}"\nexec "{docker}" "$@"\n')
    shim.chmod(0o755)
    log.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    return len(log.read_text().splitlines()) if log.exists() else 0


def median_of(argv: list[str], cwd: Path, runs: int) -> float:
    seconds(argv, cwd)  # warm: bytecode, the page cache
    return statistics.median(seconds(argv, cwd) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,3000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| targets | bake --print | plan (toml) | plan -f docker-bake.hcl | prints "
          "| added over toml | goal: added <= one print |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            project = Path(folder)
            count = generate(size, project)
            bake = median_of(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"],
                             project, args.runs)  # fmt: skip
            toml = median_of([PYTHON, "-m", "buildgraph", "plan", "-f", "buildgraph.toml"],
                             project, args.runs)  # fmt: skip
            default = [PYTHON, "-m", "buildgraph", "plan", "-f", "docker-bake.hcl"]
            named = [*default, "all"]
            for label, argv in (("default group", default), ("named group", named)):
                taken = median_of(argv, project, args.runs)
                prints = bake_prints(argv, project)
                added = taken - toml
                verdict = "met" if added <= bake else "missed"
                print(f"| {count} | {bake:.3f} s | {toml:.3f} s | {label}: {taken:.3f} s "
                      f"| {prints} | {added:+.3f} s | {verdict} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
