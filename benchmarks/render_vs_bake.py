"""`buildgraph render --format bake` against `docker buildx bake --print` on the same
definition (see generate.py), at growing sizes. One timed run of each, wall clock, whole
commands as a user types them (Python start-up and imports included). Usage:

    .venv/bin/python benchmarks/render_vs_bake.py [--sizes 1000,3000,10000] [--check]
    .venv/bin/python benchmarks/render_vs_bake.py --profile 3000
    .venv/bin/python benchmarks/render_vs_bake.py --instructions 3000
    .venv/bin/python benchmarks/render_vs_bake.py --stages 3000

Projects are generated into benchmarks/out/<N>/ (gitignored). The equivalence check runs
`docker buildx bake --print` on buildgraph's out.json and on the hand-written
docker-bake.hcl and compares what bake resolved; it is on by default for N <= 1000,
`--check` forces it for every size, `--no-check` turns it off. Exit code: 0 when every
command succeeded and every check found the two equivalent, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
BUILDGRAPH = Path(sys.executable).parent / "buildgraph"  # the venv's console script
BAKE_PRINT = ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"]
CHECK_UP_TO = 1000

# The generated files' variables: an exported TAG (say) would override them in one tool
# and not necessarily the same way in the other. Both commands run without them.
ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in {"TAG", "REGISTRY", "VENDOR", "PYTHONDONTWRITEBYTECODE", "BUILDX_BAKE_FILE"}
}
ENV["NO_COLOR"] = "1"


class Failed(Exception):
    """A command exited non-zero."""


def timed(argv: list[str], cwd: Path, stdout: Path, timeout: float | None = None) -> float | None:
    """Wall-clock seconds of `argv` in `cwd`, stdout to `stdout` (stderr beside it, .err).

    None when it ran past `timeout`: then its whole process group is killed (`docker` runs
    the buildx plugin as a child process, which killing `docker` alone would leave behind).
    Raises Failed when it exits non-zero."""
    stderr = stdout.with_name(stdout.name + ".err")
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=out, stderr=err, env=ENV, start_new_session=True
        )
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return None
        elapsed = time.perf_counter() - start
    if code != 0:
        tail = stderr.read_text(errors="replace").strip().splitlines()[-15:]
        raise Failed(f"`{' '.join(argv)}` in {cwd} exited {code}:\n  " + "\n  ".join(tail))
    return elapsed


def render_argv(folder: Path) -> list[str]:
    return [
        str(BUILDGRAPH),
        "-f",
        str(folder / "buildgraph.toml"),
        "render",
        "--format",
        "bake",
        "-o",
        "out.json",
    ]


def best_of(
    repeat: int,
    argv: list[str],
    cwd: Path,
    stdout: Path,
    timeout: float | None = None,
    patience: float = 60.0,
) -> float | None:
    """The fastest of `repeat` runs (one run when a run takes longer than `patience`)."""
    best = timed(argv, cwd, stdout, timeout)
    for _ in range(repeat - 1):
        if best is None or best > patience:
            break
        best = min(best, timed(argv, cwd, stdout, timeout) or best)
    return best


def bake_print(folder: Path, file: str, timeout: float) -> dict[str, Any]:
    printed = folder / f"bake-print-of-{file}"
    if timed(["docker", "buildx", "bake", "-f", file, "--print"], folder, printed, timeout) is None:
        raise Failed(f"`docker buildx bake -f {file} --print` in {folder}: timeout")
    return json.loads(printed.read_text())  # type: ignore[no-any-return]


def expand(groups: dict[str, Any], name: str, seen: frozenset[str] = frozenset()) -> set[str]:
    """The concrete targets a group stands for, through groups of groups."""
    if name not in groups or name in seen:
        return {name}
    members: set[str] = set()
    for member in groups[name].get("targets", []):
        members |= expand(groups, member, seen | {name})
    return members


def differences(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """What differs between buildgraph's rendering and bake's resolution of the HCL.

    `ours` is what bake --print makes of out.json (its groups taken from out.json itself,
    since --print shows only the groups reachable from the one it builds), `theirs` what
    bake --print makes of docker-bake.hcl.

    Targets are compared exactly: same names, same attributes, same values, lists in the
    same order. No normalisation is needed: bake --print sorts map keys itself, buildgraph
    writes `tags`/`platforms` in file order as bake does, and the one thing bake leaves in
    random order (a matrix's expansion order) only shows in how names are listed, and
    target names are compared as a set.

    Groups are compared by meaning: for every group both sides have, the set of concrete
    targets it stands for (through groups of groups, order ignored because bake's matrix
    groups are in random order). Groups on one side only (buildgraph's stage groups) are
    notes, not failures."""
    problems: list[str] = []
    ot, tt = ours.get("target", {}), theirs.get("target", {})
    problems += [f"target only in buildgraph's: {n}" for n in sorted(set(ot) - set(tt))]
    problems += [f"target only in the HCL's: {n}" for n in sorted(set(tt) - set(ot))]
    for name in sorted(set(ot) & set(tt)):
        a, b = ot[name], tt[name]
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                problems.append(
                    f"{name}.{key}: buildgraph {json.dumps(a.get(key))} "
                    f"!= HCL {json.dumps(b.get(key))}"
                )
    og, tg = ours.get("group", {}), theirs.get("group", {})
    for name in sorted(set(og) & set(tg)):
        a, b = expand(og, name), expand(tg, name)
        if a != b:
            problems.append(
                f"group {name}: only buildgraph's has {sorted(a - b)[:5]}, "
                f"only the HCL's has {sorted(b - a)[:5]}"
            )
    return problems


def check(folder: Path, hcl_printed: Path | None, timeout: float) -> list[str]:
    ours = bake_print(folder, "out.json", timeout)
    ours["group"] = json.loads((folder / "out.json").read_text()).get("group", {})
    if hcl_printed is not None:
        theirs = json.loads(hcl_printed.read_text())
    else:
        theirs = bake_print(folder, "docker-bake.hcl", timeout)
    problems = differences(ours, theirs)
    og, tg = ours.get("group", {}), theirs.get("group", {})
    for side, only in (("buildgraph's", set(og) - set(tg)), ("the HCL's", set(tg) - set(og))):
        if only:
            print(
                f"  note: groups in {side} only (not compared): "
                f"{', '.join(sorted(only)[:6])}{' ...' if len(only) > 6 else ''}",
                file=sys.stderr,
            )
    shown = [g for g in sorted(set(og) & set(tg)) if og[g].get("targets") != tg[g].get("targets")]
    if shown:
        print(
            f"  note: groups written differently but standing for the same targets: "
            f"{', '.join(shown[:6])}{' ...' if len(shown) > 6 else ''}",
            file=sys.stderr,
        )
    return problems


def run(sizes: list[int], check_mode: str, bake_timeout: float, repeat: int) -> int:
    failed = False
    rows: list[list[str]] = []
    previous: tuple[int, float] | None = None
    # Untimed warm-ups, as on any machine where the tools have run before: Python's
    # bytecode cache of buildgraph's modules (others may have just edited them), and the
    # page cache of the 60 MB buildx binary.
    warm = OUT / "warmup"
    shutil.rmtree(warm, ignore_errors=True)
    generate(10, warm)
    for argv in (render_argv(warm), BAKE_PRINT):
        try:
            timed(argv, warm, warm / "warmup.log")
        except Failed as exc:
            print(f"warm-up failed: {exc}", file=sys.stderr)
    for size in sizes:
        folder = OUT / str(size)
        shutil.rmtree(folder, ignore_errors=True)
        count = generate(size, folder)
        row = [f"{count:,}"]
        print(f"{count} targets in {folder}", file=sys.stderr)
        ours: float | None = None
        try:
            ours = best_of(repeat, render_argv(folder), folder, folder / "render.log")
            rendered = len(json.loads((folder / "out.json").read_text())["target"])
            if rendered != count:
                failed = True
                print(
                    f"  buildgraph rendered {rendered} targets, expected {count}", file=sys.stderr
                )
        except Failed as exc:
            failed = True
            print(f"  buildgraph render FAILED: {exc}", file=sys.stderr)
        bake: float | None = None
        bake_text = ""
        try:
            bake = best_of(repeat, BAKE_PRINT, folder, folder / "bake-print.json", bake_timeout)
            bake_text = f"{bake:.2f}" if bake is not None else f"timeout (> {bake_timeout:g} s)"
        except Failed as exc:
            bake_text = "failed"
            print(f"  bake --print FAILED: {exc}", file=sys.stderr)
        row.append(f"{ours:.2f}" if ours is not None else "failed")
        row.append(bake_text)
        if ours is not None and bake is not None:
            row.append(f"{bake / ours:.1f}x")
        elif ours is not None and bake is None and bake_text.startswith("timeout"):
            row.append(f"> {bake_timeout / ours:.1f}x")
        else:
            row.append("-")
        row.append(f"{ours / count * 1e6:.0f}" if ours is not None else "-")
        if previous is not None and ours is not None:
            row.append(f"{ours / previous[1]:.2f}x time for {count / previous[0]:.2f}x targets")
        else:
            row.append("")
        previous = (count, ours) if ours is not None else None
        rows.append(row)
        print("  " + " | ".join(row), file=sys.stderr)

        wanted = check_mode == "all" or (check_mode == "auto" and count <= CHECK_UP_TO)
        if wanted and ours is not None:
            hcl = folder / "bake-print.json" if bake is not None else None
            try:
                problems = check(folder, hcl, bake_timeout)
            except Failed as exc:
                problems = [str(exc)]
            status = "equivalent" if not problems else f"{len(problems)} DIFFERENCES"
            print(
                f"  check, bake --print of out.json vs of docker-bake.hcl: {status}",
                file=sys.stderr,
            )
            for problem in problems[:20]:
                print(f"    {problem}", file=sys.stderr)
            if len(problems) > 20:
                print(f"    ... and {len(problems) - 20} more", file=sys.stderr)
            failed |= bool(problems)
    print(
        "| targets | buildgraph render (s) | bake --print (s) | bake / buildgraph "
        "| buildgraph µs/target | buildgraph growth |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 1 if failed else 0


def profile(size: int, sort: str, limit: int) -> int:
    """Render in-process under cProfile; print the top entries.

    buildgraph.cli.main is imported before profiling starts (what `import` costs is seen in the
    timed runs, and with `python -X importtime`); modules it imports lazily are profiled."""
    import cProfile
    import pstats

    folder = OUT / f"profile-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    count = generate(size, folder)
    for name in ("TAG", "REGISTRY", "VENDOR"):
        os.environ.pop(name, None)
    os.chdir(folder)
    from buildgraph.cli.main import main

    argv = ["-f", str(folder / "buildgraph.toml"), "render", "--format", "bake", "-o", "out.json"]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    try:
        code = profiler.runcall(main, argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    elapsed = time.perf_counter() - start
    print(
        f"render of {count} targets in-process under cProfile: {elapsed:.2f} s, exit {code}\n",
        file=sys.stderr,
    )
    pstats.Stats(profiler, stream=sys.stdout).sort_stats(sort).print_stats(limit)
    return 0 if code == 0 else 1


def instructions(size: int) -> int:
    """The whole render command's instruction count under valgrind's callgrind.

    Wall clock on a shared VM moves by a factor of two over a day; instructions do not: the
    same code, inputs and environment give the same count (PYTHONHASHSEED fixed), so this
    is the figure to compare changes by. The second of two runs is counted: the first
    writes out.json and Python's bytecode caches, so the counted run, like a user's
    repeated render, replaces an existing file."""
    if shutil.which("valgrind") is None:
        print("valgrind not found (Debian: apt-get install valgrind)", file=sys.stderr)
        return 1
    folder = OUT / f"instructions-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    count = generate(size, folder)
    env = {**ENV, "PYTHONHASHSEED": "0"}
    argv = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        *render_argv(folder),
    ]
    for _ in range(2):
        run = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr[-2000:], file=sys.stderr)
            return 1
    match = re.search(r"Collected : (\d+)", run.stderr)
    if match is None:
        print("callgrind printed no count:\n" + run.stderr[-2000:], file=sys.stderr)
        return 1
    total = int(match.group(1))
    print(f"render of {count} targets: {total / 1e9:.3f} G instructions")
    return 0


# One render, cut into the command's steps, each timed in-process; run in a fresh
# interpreter so imports are counted as the command pays them. gc off, as the CLI does.
STAGES_SCRIPT = r"""
import sys, time
clock = time.perf_counter
marks = [("", clock())]
import gc
gc.disable()
def mark(name):
    marks.append((name, clock()))
import os
from pathlib import Path
import jinja2
mark("import jinja2 (the templates' engine)")
import buildgraph.cli.main, buildgraph.plan.load, buildgraph.render.formats, buildgraph.render.notes
from buildgraph.projectfile.document import load_document
from buildgraph.resolve.project import resolve_project
from buildgraph.dockerfiles.target_files import read_dockerfiles
from buildgraph.graph.dag import build_graph
from buildgraph.plan.plan import make_plan
from buildgraph.render.formats import render_file
from buildgraph.atomic_write import write_atomic
from buildgraph.render.ownership import check_may_overwrite
mark("import buildgraph's modules")
folder = Path(sys.argv[1])
output = folder / "out.json"
check_may_overwrite(output, False)
mark("check an existing out.json is ours")
document = load_document(folder / "buildgraph.toml")
mark("read buildgraph.toml (tomli, schema check)")
project = resolve_project(document, {}, os.environ)
mark("resolve: inheritance, matrices, templates")
dockerfiles = read_dockerfiles(project)
mark("read and parse the Dockerfiles")
graph = build_graph(project, dockerfiles)
mark("the graph (edges, order, cycles)")
plan = make_plan(graph, [])
mark("the plan (selection, waves)")
text, _ = render_file(plan, "bake", folder)
mark("the bake JSON")
write_atomic(output, text)
mark("write out.json (atomic, fsync)")
import json
print(json.dumps([(name, t - marks[i][1]) for i, (name, t) in enumerate(marks[1:])]))
"""


def stages(size: int, repeat: int) -> int:
    """Where the time of one render goes: each step timed inside fresh interpreters, the
    fastest of `repeat` runs per step, beside the whole command's fastest."""
    folder = OUT / f"stages-{size}"
    shutil.rmtree(folder, ignore_errors=True)
    count = generate(size, folder)
    env = {**ENV, "PYTHONHASHSEED": "0"}
    whole = best_of(repeat, render_argv(folder), folder, folder / "render.out")  # writes out.json
    best: dict[str, float] = {}
    for _ in range(repeat):
        start = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-c", STAGES_SCRIPT, str(folder)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        total = time.perf_counter() - start
        parts: list[tuple[str, float]] = [tuple(part) for part in json.loads(run.stdout)]
        # Start-up is what the process took that the script's own clock did not see.
        parts.insert(0, ("interpreter start-up, site, exit", total - sum(s for _, s in parts)))
        for name, seconds in parts:
            best[name] = min(best.get(name, seconds), seconds)
    print(f"render of {count} targets, fastest of {repeat} per step (ms):\n")
    print("| step | ms |\n| --- | ---: |")
    for name, seconds in best.items():
        print(f"| {name} | {seconds * 1000:.0f} |")
    print(f"| sum of the fastest steps | {sum(best.values()) * 1000:.0f} |")
    whole_ms = (whole or 0) * 1000
    print(f"\nthe whole command (`buildgraph render`), fastest of {repeat}: {whole_ms:.0f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        default="1000,3000,10000",
        help="comma-separated target counts (default: %(default)s)",
    )
    checking = parser.add_mutually_exclusive_group()
    checking.add_argument(
        "--check",
        action="store_const",
        dest="check",
        const="all",
        help="check equivalence at every size (default: sizes <= 1000)",
    )
    checking.add_argument(
        "--no-check",
        action="store_const",
        dest="check",
        const="none",
        help="skip the equivalence check",
    )
    parser.add_argument(
        "--bake-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="stop bake --print after this long (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="R",
        help="time each command R times and keep the fastest (default: 1; "
        "bake is not repeated once a run takes over 60 s)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="profile buildgraph's render in-process at N targets instead",
    )
    parser.add_argument(
        "--sort", default="cumulative", help="pstats sort key for --profile (default: %(default)s)"
    )
    parser.add_argument(
        "--top", type=int, default=25, help="entries --profile prints (default: %(default)s)"
    )
    parser.add_argument(
        "--instructions",
        type=int,
        metavar="N",
        help="count the render command's instructions at N targets (valgrind) instead",
    )
    parser.add_argument(
        "--stages",
        type=int,
        metavar="N",
        help="time each step of the render at N targets (fastest of --repeat, min 5) instead",
    )
    args = parser.parse_args()
    if args.stages:
        return stages(args.stages, max(5, args.repeat))
    if args.instructions:
        return instructions(args.instructions)
    if args.profile:
        return profile(args.profile, args.sort, args.top)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    return run(sizes, args.check or "auto", args.bake_timeout, max(1, args.repeat))


if __name__ == "__main__":
    raise SystemExit(main())
