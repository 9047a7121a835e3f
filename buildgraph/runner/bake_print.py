"""A bake or Compose definition, evaluated by the installed `docker buildx bake --print`.

bake is the reference for its own files: its HCL with every function, its variables, its
Compose reader, its overrides of one file by the next. buildgraph reads what bake prints,
so a definition means to buildgraph exactly what it means to bake.

One print serves a command: the names asked for and every target (`'*'`, buildx 0.26+).
bake prints the file's own `default` group only when it is the one name asked for: asked
for with others (and `'*'` is all of them), it prints a `default` group of every name
asked, the file's members among them (buildx's ReadTargets). So a file of ours is read
with the definition, a group that names the file's default group's members by reference
(`group.default.targets`, evaluated by bake's HCL like any other reference); bake prints
it as it prints any other group. A default group no HCL or JSON file declares is
Compose's (every service that builds), a matrix target's or a target's named `default`.
With Compose files alone it is every target; otherwise, when the names reach it, it is
printed alone: a second print. A buildx before 0.26 matches no pattern and prints the
names alone; once that is known (the version an earlier probe found, or an earlier
print's error, kept per docker setup), that is the one print.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from buildgraph.errors import ConfigError, EnvironmentProblem
from buildgraph.runner.process import Captured, run_captured

PRINT_TIMEOUT = 120  # seconds: a remote definition (a git context) may be fetched


class Run(Protocol):
    """How a print is run: `run_captured`, or a test's fake."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        timeout: float | None,
        env: Mapping[str, str] | None = None,
    ) -> Captured: ...


def bake_print_argv(
    docker: str,
    files: Sequence[Path],
    names: Sequence[str],
    overrides: Sequence[str] = (),
) -> list[str]:
    """`docker buildx bake --print` of `names` (none: bake's default group) from `files`,
    with bake's `--set` `overrides` (each one argument: `--set=...`)."""
    flags = [flag for path in files for flag in ("-f", str(path))]
    sets = [f"--set={override}" for override in overrides]
    # Target names may start with '-' (bake's rule allows it): after `--`, never options.
    return [
        docker, "buildx", "bake", *flags, *sets, "--print", *(["--", *names] if names else [])
    ]  # fmt: skip


EVERY_TARGET = "*"  # a pattern bake matches target and group names with (buildx 0.26+)
PATTERNS_SINCE = (0, 26, 0)  # the first buildx whose bake matches names with patterns
DEFAULT_GROUP = "default"
# The group our file adds, and what its description says of the file's default group.
DEFAULT_COPY = "buildgraph-default-of-the-files"
DECLARED, UNDECLARED = "declared", "undeclared"
DEFAULT_COPY_HCL = f"""\
group "{DEFAULT_COPY}" {{
  description = can(group.{DEFAULT_GROUP}.targets) ? "{DECLARED}" : "{UNDECLARED}"
  targets = try(group.{DEFAULT_GROUP}.targets, [])
}}
"""


def print_definitions(
    files: Sequence[Path],
    names: Sequence[str],
    variables: Mapping[str, str],
    folder: Path,
    environ: Mapping[str, str],
    overrides: Sequence[str] = (),
    *,
    run: Run = run_captured,
) -> tuple[dict[str, Any], bool]:
    """What bake prints of `files`, run in `folder`: every target, and the groups, the
    file's default group as it declares it; and whether every target is there (a buildx
    that matches no pattern prints only those `names`, none: the default group, build).

    Every target is wanted for the targets bake would not build for `names` but whose
    images the requested ones may use (`FROM` another target's tag): buildgraph builds
    those first, where bake would pull a stale one. Variables (`--var`) reach bake as
    environment variables, which every buildx reads, over the environment's. A buildx
    known to match no pattern (an earlier probe or print of the same docker setup found
    it) is asked for the names alone: one print there too."""
    docker = shutil.which("docker", path=environ.get("PATH"))
    if docker is None:
        raise EnvironmentProblem(
            "reading a bake or Compose file needs docker buildx, and docker is not on PATH"
        )
    env = {**environ, **variables}

    def print_of(names: Sequence[str], extra: Sequence[Path] = ()) -> Captured:
        argv = bake_print_argv(docker, [*files, *extra], names, overrides)
        return run(argv, cwd=folder, timeout=PRINT_TIMEOUT, env=env)

    if matches_no_pattern(environ):
        return _checked(print_of(names), files), False
    with default_copy_file() as copy:
        every = print_of([*names, EVERY_TARGET], [copy])
    if every.code != 0:
        # A buildx that matches no pattern, or a definition some other target or group
        # of which bake cannot build (a group naming a missing target: `*` matches groups
        # too): what was asked for alone, then.
        if NO_PATTERN_ERROR in every.stderr:
            remember_matching_no_pattern(environ)
        return _checked(print_of(names), files), False
    printed = _checked(every, files)
    groups = _table(printed.get("group"))
    declared = _declared_default(groups.pop(DEFAULT_COPY, None))
    printed_default = groups.pop(DEFAULT_GROUP, None)
    if declared is not None:
        groups[DEFAULT_GROUP] = _group(declared, printed_default)
    elif all(_is_compose(path) for path in files) and isinstance(printed_default, dict):
        # Compose files alone: the default group is every service that builds, each a
        # target; bake's printed default is every name asked, those and ours.
        members = [m for m in _members(printed_default) if m != DEFAULT_COPY]
        groups[DEFAULT_GROUP] = _group(members, printed_default)
    elif DEFAULT_GROUP in names_reached(groups, names or [DEFAULT_GROUP]):
        printed["group"] = groups
        return _merged(_checked(print_of([DEFAULT_GROUP]), files), printed), True
    printed["group"] = groups
    return printed, True


# What a buildx that matches no pattern says of `*` (it looks for a target of that name);
# a newer one always matches our group.
NO_PATTERN_ERROR = f"failed to find target {EVERY_TARGET}"
MEMO_FOLDER = "bake-patterns"


def matches_no_pattern(environ: Mapping[str, str]) -> bool:
    """Whether the buildx `environ` runs is known to match no pattern, without asking it:
    from the version an earlier probe found, or from an earlier print's error, while the
    docker setup (the docker CLI, its plugins, its configuration) is unchanged."""
    from buildgraph.runner.probe import kept_facts, setup_signature

    facts = kept_facts(None, environ)
    if facts is not None and facts.buildx_version not in (None, "unknown"):
        return not matches_patterns(facts.buildx_version)
    signature = setup_signature(None, environ)
    if signature is None:
        return False
    from buildgraph.locations import cache_entry, read_private

    data = read_private(cache_entry(MEMO_FOLDER, signature, ".json"))
    try:
        memo = json.loads(data) if data is not None else None
    except ValueError:
        return False
    return memo == {"signature": signature, "matches_patterns": False}


def remember_matching_no_pattern(environ: Mapping[str, str]) -> None:
    """Keep, in the user's cache, that the buildx of this docker setup matches no pattern:
    the next read of a definition prints once."""
    from buildgraph.locations import cache_entry, prune_entries, write_private_entry
    from buildgraph.runner.probe import setup_signature

    signature = setup_signature(None, environ)
    if signature is None:
        return
    record = json.dumps({"signature": signature, "matches_patterns": False}).encode()
    if write_private_entry(cache_entry(MEMO_FOLDER, signature, ".json"), record):
        prune_entries(MEMO_FOLDER)


def matches_patterns(version: str | None) -> bool:
    """Whether the buildx of `version` matches names with patterns: unknown, it may."""
    found = re.match(r"v?(\d+)\.(\d+)\.(\d+)", version or "")
    if found is None:
        return True
    major, minor, patch = (int(part) for part in found.groups())
    return (major, minor, patch) >= PATTERNS_SINCE


@contextmanager
def default_copy_file() -> Iterator[Path]:
    """Our file naming the default group's members, outside the project (a watch must not
    see it), for the time of one print."""
    with tempfile.TemporaryDirectory(prefix="buildgraph-bake-") as folder:
        path = Path(folder) / "default-of-the-files.hcl"  # .hcl: read as HCL, never Compose
        path.write_text(DEFAULT_COPY_HCL, encoding="utf-8")
        yield path


def names_reached(groups: Mapping[str, Any], names: Sequence[str]) -> set[str]:
    """`names` and every name the groups among them name, at any depth."""
    reached: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            group = groups.get(name)
            pending.extend(_members(group) if isinstance(group, dict) else ())
    return reached


def _declared_default(copy: Any) -> list[str] | None:
    """The members of the default group an HCL or JSON file declares, as our group copied
    them, or None when none declares one."""
    if not isinstance(copy, dict) or copy.get("description") != DECLARED:
        return None
    return _members(copy)


def _group(members: Sequence[str], printed: Any) -> dict[str, Any]:
    """The default group as bake prints it alone: its members once each, sorted (buildx
    0.20+), with the description the file gives it."""
    group: dict[str, Any] = {"targets": sorted(dict.fromkeys(members))}
    if isinstance(printed, dict) and isinstance(printed.get("description"), str):
        group["description"] = printed["description"]
    return group


def _members(group: Mapping[str, Any]) -> list[str]:
    members = group.get("targets")
    return [m for m in members if isinstance(m, str)] if isinstance(members, list) else []


def _is_compose(path: Path) -> bool:
    """Whether bake reads `path` as a Compose file whatever it holds (buildx 0.26+ decides
    by the extension first)."""
    return path.name.lower().endswith((".yml", ".yaml"))


def _table(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


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
