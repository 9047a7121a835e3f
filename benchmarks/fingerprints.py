"""Fingerprints of every target: cold (empty hash cache) and an unchanged re-run (warm),
beside anchors over the same files in the same run.

    .venv/bin/python benchmarks/fingerprints.py [--runs 5] [--files 20]

Projects: the example (examples/monorepo); a 44-image monorepo like issue 14's (4 bases,
10 services on each, every image its own context of `--files` files of 2 KiB); and the
1,000-target project of benchmarks/generate.py, its four shared contexts given `--files`
files each. The hash cache lives in a temporary XDG_CACHE_HOME, so cold is cold. Files
are written, then left 2.1 s to settle: a file changed within 2 s of a run is hashed but
never kept (the racily-clean rule), which would make every run cold.

Anchors, over the files the contexts hold (one process each): `git hash-object
--stdin-paths`, `sha256sum`, and `tar c | sha256sum`. Figures are the best of `--runs`
(warm, anchors) in milliseconds; planning itself (load + plan) is shown for scale.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.generate import generate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "monorepo" / "buildgraph.toml"


def monorepo44(folder: Path, files: int) -> Path:
    """4 bases, 10 services on each (FROM the base's tag: inferred edges), own contexts."""
    lines = ['[project]\nname = "mono"\nplatforms = ["linux/amd64", "linux/arm64"]\n']
    for b in range(4):
        _context(folder / f"bases/b{b}", "FROM scratch\nCOPY . /\n", files)
        lines += [f'[target.base{b}]\ncontext = "bases/b{b}"\ntags = ["acme/base{b}:dev"]\n']
        for s in range(10):
            name = f"svc{b}-{s}"
            _context(folder / f"services/{name}", f"FROM acme/base{b}:dev\nCOPY . /app/\n", files)
            lines += [
                f'[target.{name}]\ncontext = "services/{name}"\n'
                f'tags = ["acme/{name}:dev"]\nargs = {{ SERVICE = "{name}" }}\n'
            ]
    (folder / "buildgraph.toml").write_text("\n".join(lines))
    return folder / "buildgraph.toml"


def _context(folder: Path, dockerfile: str, files: int) -> None:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / ".dockerignore").write_text("*.log\n")
    for n in range(files):
        (folder / "src" / f"f{n}.py").write_bytes(os.urandom(1024).hex().encode())


def generated1000(folder: Path, files: int) -> Path:
    generate(1000, folder)
    for context in ("base", "svc", "app", "job"):
        for n in range(files):
            path = folder / "ctx" / context / "src" / f"f{n}.py"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(1024).hex().encode())
    return folder / "buildgraph.toml"


def _best(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _context_files(plan: object) -> list[str]:
    from buildgraph.dockerfiles.dockerignore import IgnoreRules, included_files

    project = plan.project  # type: ignore[attr-defined]
    found: set[str] = set()
    for planned in plan.targets:  # type: ignore[attr-defined]
        context = project.context_dir(planned.target)
        if context is not None:
            rules = IgnoreRules.for_context(context, project.dockerfile_path(planned.target))
            found.update(str(context / f) for f in included_files(context, rules))
    return sorted(p for p in found if os.path.isfile(p) and not os.path.islink(p))


def _anchors(files: list[str], runs: int) -> dict[str, float]:
    paths = "\n".join(files).encode()

    def git() -> None:
        subprocess.run(["git", "hash-object", "--stdin-paths"], input=paths, capture_output=True)

    def sha256sum() -> None:
        subprocess.run(["xargs", "-d", "\n", "sha256sum"], input=paths, capture_output=True)

    def tar() -> None:
        subprocess.run(
            "tar -c -P --files-from=- | sha256sum", shell=True, input=paths, capture_output=True
        )

    return {
        "git hash-object": _best(runs, git),
        "sha256sum": _best(runs, sha256sum),
        "tar c \\| sha256sum": _best(runs, tar),
    }


def measure(name: str, project: Path, runs: int) -> dict[str, object]:
    from buildgraph.changes.fingerprints import target_fingerprints
    from buildgraph.plan.load import load, plan

    planning = _best(1, lambda: plan(load(project, {}, environ={}), ()))
    the_plan = plan(load(project, {}, environ={}), ())
    files = _context_files(the_plan)
    cold = _best(1, lambda: target_fingerprints(the_plan))
    warm = _best(runs, lambda: target_fingerprints(the_plan))
    return {
        "project": name,
        "targets": len(the_plan.targets),
        "files": len(files),
        "plan": planning,
        "cold": cold,
        "warm": warm,
        **_anchors(files, runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=20, help="files per generated context")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache")
        projects = [
            ("examples/monorepo", EXAMPLE),
            ("44 images", monorepo44(root / "mono44", args.files)),
            ("1,000 targets", generated1000(root / "gen1000", args.files)),
        ]
        time.sleep(2.1)  # let every file settle: see the module's docstring
        rows = [measure(name, project, args.runs) for name, project in projects]
    head = ["project", "targets", "files", "plan", "cold", "warm"]
    head += ["git hash-object", "sha256sum", "tar c \\| sha256sum"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        cells = [f"{row[h]:.1f} ms" if isinstance(row[h], float) else str(row[h]) for h in head]
        print("| " + " | ".join(cells) + " |")
    print(f"\nload {os.getloadavg()[0]:.1f}; best of {args.runs} (cold, plan: one run)")


if __name__ == "__main__":
    main()
