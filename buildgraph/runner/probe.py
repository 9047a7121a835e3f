"""Asking docker, buildx and the kernel what the builder can do."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path

from buildgraph.locations import cache_entry, prune_entries, read_private, write_private_entry
from buildgraph.preflight.facts import Facts
from buildgraph.runner.process import Captured, run_captured

BINFMT = Path("/proc/sys/fs/binfmt_misc")
TIMEOUT = 20
DOCKER_SOCKET = "/var/run/docker.sock"

# Where the docker CLI looks for plugins, after $DOCKER_CONFIG/cli-plugins and the
# config's cliPluginsExtraDirs.
SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _run(argv: list[str]) -> Captured:
    return run_captured(argv, timeout=TIMEOUT)


def binfmt_entries(root: Path = BINFMT) -> dict[str, bool]:
    """qemu name -> whether its binfmt_misc entry is enabled. The builder's platform list
    is fixed when the daemon starts; only this file tells whether emulation works now."""
    entries: dict[str, bool] = {}
    try:
        names = [p for p in root.iterdir() if p.name.startswith("qemu-")]
    except OSError:
        return entries
    for path in names:
        try:
            first = path.read_text().splitlines()[0].strip()
        except (OSError, IndexError):
            continue
        entries[path.name.removeprefix("qemu-")] = first == "enabled"
    return entries


def gather(builder: str | None = None) -> Facts:
    """Facts about docker, buildx, the builder and QEMU. The three docker calls run at
    once: the probe precedes every build, so its time is every build's overhead."""
    from concurrent.futures import ThreadPoolExecutor

    docker = shutil.which("docker")
    if docker is None:
        return Facts(binfmt=binfmt_entries())
    inspect = [docker, "buildx", "inspect", *(["--builder", builder] if builder else [])]
    with ThreadPoolExecutor(max_workers=3) as pool:
        version_call = pool.submit(_run, [docker, "buildx", "version"])
        inspect_call = pool.submit(_run, inspect)
        info_call = pool.submit(_run, [docker, "info", "--format", "{{json .DriverStatus}}"])
        versioned = version_call.result()
        inspected = inspect_call.result()
        info = info_call.result()
    if versioned.code != 0:
        message = (versioned.stderr or versioned.stdout).strip().splitlines()
        return Facts(
            docker=docker, buildx_error=message[-1] if message else None, binfmt=binfmt_entries()
        )
    version = re.search(r"v?(\d+\.\d+\.\d+)", versioned.stdout)
    name = driver = None
    platforms: tuple[str, ...] = ()
    if inspected.code == 0:
        fields = dict(
            re.findall(r"^(Name|Driver|Platforms|Status):\s*(.*)$", inspected.stdout, re.M)
        )
        name, driver = fields.get("Name"), fields.get("Driver")
        platforms = tuple(p.strip() for p in fields.get("Platforms", "").split(",") if p.strip())
        if fields.get("Status", "running") not in ("running", "inactive"):
            driver = None
    return Facts(
        docker=docker,
        buildx_version=version.group(1) if version else "unknown",
        builder=name,
        driver=driver,
        builder_platforms=platforms,
        builder_error=None
        if inspected.code == 0
        else (inspected.stderr or inspected.stdout).strip()[-300:],
        containerd_store=_containerd_store(info) if driver == "docker" else None,
        binfmt=binfmt_entries(),
    )


ANSWER_TIMEOUT = 10


def builder_silence(builder: str | None = None) -> str | None:
    """Why the builder does not answer now (its daemon stopped, its node is down), or None
    when it answers. Asked after a build failed: the failure may be the engine's."""
    docker = shutil.which("docker")
    if docker is None:
        return "docker is no longer on PATH"
    argv = [docker, "buildx", "inspect", *(["--builder", builder] if builder else [])]
    return silence_in(run_captured(argv, timeout=ANSWER_TIMEOUT))


def silence_in(done: Captured) -> str | None:
    """What `docker buildx inspect`'s answer says keeps the builder from building, if
    anything."""
    if not done.ran:
        return f"`docker buildx inspect` did not answer within {ANSWER_TIMEOUT} s"
    if done.code != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return lines[-1].strip()[:300] if lines else "`docker buildx inspect` failed"
    # buildx lists a builder it cannot reach with an Error line and exits 0.
    error = re.search(r"^Error:\s*(.+)$", done.stdout, re.M)
    if error:
        return error.group(1).strip()[:300]
    statuses = re.findall(r"^Status:\s*(\S+)", done.stdout, re.M)
    if statuses and not any(s in ("running", "inactive") for s in statuses):
        return f"the builder's status is {statuses[0]}"
    return None


def _containerd_store(info: Captured) -> bool | None:
    """Whether `docker info` says the daemon keeps images in containerd (multi-platform)."""
    if info.code != 0:
        return None
    try:
        status = json.loads(info.stdout or "null") or []
    except ValueError:
        return None
    return any("io.containerd.snapshotter" in str(value) for _, value in status)


def registry_problems(hosts: list[str], timeout: float = 3.0) -> dict[str, str | None]:
    """Host -> None when its registry API answers (200, or 401 asking for a login)."""
    import urllib.error
    import urllib.request

    answers: dict[str, str | None] = {}
    for host in hosts:
        local = host.startswith(("localhost", "127."))
        api = "registry-1.docker.io" if host == "docker.io" else host
        url = f"{'http' if local else 'https'}://{api}/v2/"
        try:
            urllib.request.urlopen(url, timeout=timeout).close()
            answers[host] = None
        except urllib.error.HTTPError as exc:
            answers[host] = None if exc.code == 401 else f"{url} answered {exc.code}"
        except (OSError, ValueError) as exc:
            answers[host] = f"{url} does not answer: {getattr(exc, 'reason', exc)}"
    return answers


def gather_cached(builder: str | None = None, environ: Mapping[str, str] = os.environ) -> Facts:
    """gather(), or what it found last time while the docker setup is unchanged.

    Only the `docker` driver's facts are kept: they are the local daemon's (its platforms
    are fixed when it starts, its image store by its configuration), and a daemon that
    starts again makes a new socket. Which builder and plugin the CLI picks is in files
    whose contents and identities are compared too. binfmt is read afresh every time: it
    changes under a running daemon."""
    signature = setup_signature(builder, environ)
    facts = _kept_for(signature)
    if facts is not None:
        return facts
    facts = gather(builder)
    if signature is not None and facts.driver == "docker" and facts.builder_error is None:
        record = {"signature": signature, "facts": asdict(facts)}
        # Not written (a folder not the user's): the next build probes again.
        if write_private_entry(_facts_file(signature), json.dumps(record).encode()):
            prune_entries("facts")
    return facts


def kept_facts(builder: str | None = None, environ: Mapping[str, str] = os.environ) -> Facts | None:
    """What an earlier probe found, if the docker setup it depends on is unchanged."""
    return _kept_for(setup_signature(builder, environ))


def _kept_for(signature: str | None) -> Facts | None:
    if signature is None:
        return None
    data = read_private(_facts_file(signature))  # None unless it is the user's alone
    if data is None:
        return None
    try:
        record = json.loads(data)
    except ValueError:
        return None
    if type(record) is not dict or record.keys() != {"signature", "facts"}:
        return None
    if record["signature"] != signature:
        return None
    facts = _facts_of(record["facts"])
    return None if facts is None else replace(facts, binfmt=binfmt_entries())


# Each field of Facts kept, and the JSON types its value may have.
_OPTIONAL_TEXT = (str, type(None))
_KEPT_FIELDS = {
    "docker": _OPTIONAL_TEXT,
    "buildx_version": _OPTIONAL_TEXT,
    "buildx_error": _OPTIONAL_TEXT,
    "builder": _OPTIONAL_TEXT,
    "driver": _OPTIONAL_TEXT,
    "builder_platforms": (list,),
    "builder_error": _OPTIONAL_TEXT,
    "containerd_store": (bool, type(None)),
    "binfmt": (dict,),
    "machine": (str,),
}


def _facts_of(fields: object) -> Facts | None:
    """The Facts a record holds, or None unless it has exactly Facts' fields, each of its
    type (a list of strings for the platforms)."""
    if type(fields) is not dict or fields.keys() != _KEPT_FIELDS.keys():
        return None
    if any(type(fields[name]) not in kinds for name, kinds in _KEPT_FIELDS.items()):
        return None
    platforms = fields["builder_platforms"]
    if any(type(platform) is not str for platform in platforms):
        return None
    return Facts(**{**fields, "builder_platforms": tuple(platforms), "binfmt": {}})


def _facts_file(signature: str) -> Path:
    # One file per setup: two setups in turn (a shell with DOCKER_HOST set, one without)
    # do not evict each other.
    return cache_entry("facts", signature, ".json")


def setup_signature(builder: str | None, environ: Mapping[str, str]) -> str | None:
    """Everything the facts of a local daemon's builder depend on, or None when the daemon
    is not reached through a local socket (another host or context: always probed)."""
    host = environ.get("DOCKER_HOST", "")
    if (host and not host.startswith("unix://")) or environ.get("DOCKER_CONTEXT", "default") != (
        "default"
    ):
        return None
    config_dir = Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    config_text = _text(config_dir / "config.json")
    try:
        config = json.loads(config_text or "{}")
    except ValueError:
        return None
    if not isinstance(config, dict) or config.get("currentContext", "default") != "default":
        return None
    socket = _identity(host.removeprefix("unix://") or DOCKER_SOCKET)
    if socket is None:
        return None
    buildx_dir = Path(environ.get("BUILDX_CONFIG") or config_dir / "buildx")
    plugin_dirs = [*config.get("cliPluginsExtraDirs", []), config_dir / "cli-plugins"]
    plugins = [_identity(Path(d) / "docker-buildx") for d in [*plugin_dirs, *SYSTEM_PLUGIN_DIRS]]
    instances = buildx_dir / "instances"
    parts = (
        builder,
        environ.get("BUILDX_BUILDER"),
        host,
        str(config_dir),
        config_text,
        _text(buildx_dir / "current"),
        sorted((p.name, _text(p)) for p in instances.iterdir()) if instances.is_dir() else None,
        _identity(shutil.which("docker", path=environ.get("PATH"))),
        plugins,
        socket,
    )
    return repr(parts)


def _text(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _identity(path: str | Path | None) -> tuple[int, int, int, int] | None:
    """Which file is there: a replaced or rewritten one (or a new socket) differs."""
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
