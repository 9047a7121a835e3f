"""A bake or Compose definition, evaluated by the installed `docker buildx bake --print`.

bake is the reference for its own files: its HCL with every function, its variables, its
Compose reader, its overrides of one file by the next. buildgraph reads what bake prints,
so a definition means to buildgraph exactly what it means to bake.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from buildgraph.errors import ConfigError, EnvironmentProblem
from buildgraph.runner.process import Captured, run_captured

PRINT_TIMEOUT = 120  # seconds: a remote definition (a git context) may be fetched


def bake_print_argv(
    docker: str, files: Sequence[Path], names: Sequence[str], overrides: Sequence[str] = ()
) -> list[str]:
    """`docker buildx bake --print` of `names` (none: bake's default group) from `files`,
    with bake's `--set` `overrides` (each one argument: `--set=...`)."""
    flags = [flag for path in files for flag in ("-f", str(path))]
    sets = [f"--set={override}" for override in overrides]
    # Target names may start with '-' (bake's rule allows it): after `--`, never options.
    return [
        docker, "buildx", "bake", *flags, *sets, "--print", *(["--", *names] if names else [])
    ]  # fmt: skip


EVERY_TARGET = "*"  # a pattern bake matches target names with (buildx 0.13 has none)


def print_definitions(
    files: Sequence[Path],
    names: Sequence[str],
    variables: Mapping[str, str],
    folder: Path,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
) -> tuple[dict[str, Any], bool]:
    """What bake prints of `files`, run in `folder`: every target, and the groups `names`
    (none: bake's default group) name, as they are; and whether every target is there (a
    buildx that matches no pattern prints only those `names` build).

    Every target is wanted for the targets bake would not build for `names` but whose
    images the requested ones may use (`FROM` another target's tag): buildgraph builds
    those first, where bake would pull a stale one. One print does it, but for the default
    group: bake prints its members only when it is the one name asked for, so that one is
    printed beside a print of every target, both at once. Variables (`--var`) reach bake
    as environment variables, which every buildx reads, over the environment's."""
    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        raise EnvironmentProblem(
            "reading a bake or Compose file needs docker buildx, and docker is not on PATH"
        )
    env = {**environ, **variables}

    def print_of(names: Sequence[str]) -> Captured:
        argv = bake_print_argv(docker, files, names, overrides)
        return run_captured(argv, cwd=folder, timeout=PRINT_TIMEOUT, env=env)

    if names and DEFAULT_GROUP not in names:
        both = print_of([*names, EVERY_TARGET])
        if both.code == 0:
            return _without_default(_checked(both, files)), True
        # A buildx that matches no pattern, or a definition some other target or group
        # of which bake cannot build (a group naming a missing target: `*` matches groups
        # too): what was asked for alone, then.
        return _checked(print_of(names), files), False
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        every = pool.submit(print_of, [EVERY_TARGET])
        requested = _checked(print_of(names), files)
        everything = every.result()
    printed = _parsed(everything.stdout) if everything.code == 0 else None
    if printed is None:
        return requested, False
    return _merged(requested, _without_default(printed)), True


DEFAULT_GROUP = "default"


def _without_default(printed: dict[str, Any]) -> dict[str, Any]:
    """A print of several names without the `default` group bake makes of them."""
    groups = printed.get("group")
    if isinstance(groups, dict):
        groups.pop(DEFAULT_GROUP, None)
    return printed


def _merged(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """`first`'s targets and groups, then those of `second` it lacks."""
    merged: dict[str, Any] = {}
    for kind in ("group", "target"):
        a, b = first.get(kind), second.get(kind)
        merged[kind] = {**(b if isinstance(b, dict) else {}), **(a if isinstance(a, dict) else {})}
    return merged


def _parsed(stdout: str) -> dict[str, Any] | None:
    try:
        printed = json.loads(stdout)
    except ValueError:
        return None
    return printed if isinstance(printed, dict) else None


def _checked(done: Captured, files: Sequence[Path]) -> dict[str, Any]:
    """What bake printed, or the error it gave as one of buildgraph's."""
    if not done.ran:
        raise EnvironmentProblem(f"`docker buildx bake --print` did not run: {done.stderr}")
    if done.code != 0 and "is not a docker command" in done.stderr:
        raise EnvironmentProblem(
            "reading a bake or Compose file needs docker buildx, and this docker has no "
            "buildx plugin (`docker buildx version` says so)"
        )
    if done.code != 0:
        raise ConfigError.one(
            f"bake cannot read it: {_bake_error(done.stderr)}",
            file=files[0],
            hint="`docker buildx bake --print` with the same files and names says the same",
        )
    printed = _parsed(done.stdout)
    if printed is None:
        raise EnvironmentProblem(
            "`docker buildx bake --print` printed no definition: is docker buildx installed?"
        )
    return printed


def _bake_error(stderr: str) -> str:
    """bake's message: its ERROR lines (and what follows them), without its progress."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR")), None)
    kept = lines[start:] if start is not None else lines[-3:]
    text = " ".join(line.removeprefix("ERROR:").strip() for line in kept)
    return text[:1000] or "it exited with an error and said nothing"
