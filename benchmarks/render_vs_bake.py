"""`buildgraph render --format bake` against `docker buildx bake --print` on the same
definition, at growing sizes. One run each, wall clock, whole commands (Python start-up
included). Usage:

    .venv/bin/python benchmarks/render_vs_bake.py [--sizes 1000,3000,10000] [--no-check]
    .venv/bin/python benchmarks/render_vs_bake.py --profile 3000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

OUT = Path(__file__).parent / "out"
BAKE_TIMEOUT = 300.0


def timed(argv: list[str], cwd: Path, stdout: Path, timeout: float | None = None) -> float | None:
    """Seconds the command took, or None when it ran past `timeout`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    with stdout.open("w") as sink:
        try:
            subprocess.run(argv, cwd=cwd, stdout=sink, stderr=subprocess.DEVNULL, check=True,
                           timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return None
    return time.perf_counter() - start


def buildgraph_argv() -> list[str]:
    return [sys.executable, "-m", "buildgraph", "render", "--format", "bake", "-o", "out.json"]


def printed_targets(folder: Path, file: str) -> dict[str, Any]:
    result = subprocess.run(["docker", "buildx", "bake", "-f", file, "--print"], cwd=folder,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["target"]  # type: ignore[no-any-return]


def check_equivalent(folder: Path) -> list[str]:
    """Differences between bake's view of our rendering and of the hand-written HCL.

    Both files sit in the same folder, so paths compare as written."""
    ours = printed_targets(folder, "out.json")
    theirs = printed_targets(folder, "docker-bake.hcl")
    problems = [f"only in buildgraph's: {n}" for n in sorted(set(ours) - set(theirs))]
    problems += [f"only in the HCL: {n}" for n in sorted(set(theirs) - set(ours))]
    for name in sorted(set(ours) & set(theirs)):
        if ours[name] != theirs[name]:
            problems.append(f"{name}: buildgraph {ours[name]} != bake {theirs[name]}")
    return problems


def run(sizes: list[int], check: bool) -> int:
    rows = []
    previous: tuple[int, float] | None = None
    failed = False
    for size in sizes:
        folder = OUT / str(size)
        shutil.rmtree(folder, ignore_errors=True)
        count = generate(size, folder)
        # A first run warms the bytecode cache of buildgraph's modules, as on any install.
        timed(buildgraph_argv(), folder, folder / "render.log")
        ours = timed(buildgraph_argv(), folder, folder / "render.log")
        assert ours is not None
        bake = timed(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"], folder,
                     folder / "bake-print.json", BAKE_TIMEOUT)
        growth = ""
        if previous is not None:
            growth = f"{ours / previous[1]:.2f}x time for {count / previous[0]:.2f}x targets"
        previous = (count, ours)
        ratio = f"{bake / ours:.1f}x" if bake else "-"
        bake_text = f"{bake:.2f}" if bake else f"> {BAKE_TIMEOUT:.0f} (stopped)"
        rows.append(f"| {count:,} | {ours:.2f} | {bake_text} | {ratio} | {growth} |")
        if check and count <= 1000:
            problems = check_equivalent(folder)
            status = "equivalent" if not problems else f"{len(problems)} differences"
            print(f"{count} targets: bake --print of both files: {status}", file=sys.stderr)
            for problem in problems[:10]:
                print(f"  {problem}", file=sys.stderr)
            failed |= bool(problems)
    print("| targets | buildgraph render (s) | bake --print (s) | bake / buildgraph | growth |")
    print("| ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))
    return 1 if failed else 0


def profile(size: int) -> None:
    import cProfile
    import pstats

    folder = OUT / f"profile-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    generate(size, folder)
    os.chdir(folder)
    from buildgraph.cli import main

    profiler = cProfile.Profile()
    profiler.runcall(main, ["render", "--format", "bake", "-o", "out.json"])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--no-check", action="store_true", help="skip the equivalence check")
    parser.add_argument("--profile", type=int, metavar="N", help="profile render at N targets")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return 0
    return run([int(s) for s in args.sizes.split(",")], not args.no_check)


if __name__ == "__main__":
    raise SystemExit(main())
