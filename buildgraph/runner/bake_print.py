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


def bake_print_argv(docker: str, files: Sequence[Path], names: Sequence[str]) -> list[str]:
    """`docker buildx bake --print` of `names` (none: bake's default group) from `files`."""
    flags = [flag for path in files for flag in ("-f", str(path))]
    # Target names may start with '-' (bake's rule allows it): after `--`, never options.
    return [docker, "buildx", "bake", *flags, "--print", *(["--", *names] if names else [])]


EVERY_TARGET = "*"  # a pattern bake matches target names with (not before buildx 0.2x)


def print_definitions(
    files: Sequence[Path],
    names: Sequence[str],
    variables: Mapping[str, str],
    folder: Path,
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What bake prints of `names` (none: its default group) from `files`, run in
    `folder`, and what it prints of every target, or None from a buildx that cannot say.

    The second shows the targets bake would not build for `names` but whose images the
    requested ones may use (`FROM` another target's tag): buildgraph builds those first,
    where bake would pull a stale one. Both run at once: together they take the time of
    one. Variables (`--var`) reach bake as environment variables, which every buildx
    reads, over the environment's."""
    from concurrent.futures import ThreadPoolExecutor

    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        raise EnvironmentProblem(
            "reading a bake or Compose file needs docker buildx, and docker is not on PATH"
        )
    env = {**environ, **variables}
    with ThreadPoolExecutor(max_workers=1) as pool:
        every = pool.submit(_printed, docker, files, [EVERY_TARGET], folder, env)
        requested = _checked(_printed(docker, files, names, folder, env), files)
        everything = every.result()
    return requested, (_parsed(everything.stdout) if everything.code == 0 else None)


def _printed(
    docker: str, files: Sequence[Path], names: Sequence[str], folder: Path, env: dict[str, str]
) -> Captured:
    argv = bake_print_argv(docker, files, names)
    return run_captured(argv, cwd=folder, timeout=PRINT_TIMEOUT, env=env)


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
