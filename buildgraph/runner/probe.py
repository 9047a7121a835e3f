"""Asking docker, buildx and the kernel what the builder can do."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from buildgraph.environment import Facts

BINFMT = Path("/proc/sys/fs/binfmt_misc")
TIMEOUT = 20


def _run(argv: list[str]) -> tuple[int, str, str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", str(exc)
    return done.returncode, done.stdout, done.stderr


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
    docker = shutil.which("docker")
    if docker is None:
        return Facts(binfmt=binfmt_entries())
    inspect = [docker, "buildx", "inspect", *(["--builder", builder] if builder else [])]
    with ThreadPoolExecutor(max_workers=3) as pool:
        version_call = pool.submit(_run, [docker, "buildx", "version"])
        inspect_call = pool.submit(_run, inspect)
        info_call = pool.submit(_run, [docker, "info", "--format", "{{json .DriverStatus}}"])
        code, out, err = version_call.result()
        inspected = inspect_call.result()
        info = info_call.result()
    if code != 0:
        message = (err or out).strip().splitlines()
        return Facts(
            docker=docker, buildx_error=message[-1] if message else None, binfmt=binfmt_entries()
        )
    version = re.search(r"v?(\d+\.\d+\.\d+)", out)
    code, out, err = inspected
    name = driver = None
    platforms: tuple[str, ...] = ()
    if code == 0:
        fields = dict(re.findall(r"^(Name|Driver|Platforms|Status):\s*(.*)$", out, re.M))
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
        builder_error=None if code == 0 else (err or out).strip()[-300:],
        containerd_store=_containerd_store(info) if driver == "docker" else None,
        binfmt=binfmt_entries(),
    )


def _containerd_store(info: tuple[int, str, str]) -> bool | None:
    """Whether `docker info` says the daemon keeps images in containerd (multi-platform)."""
    code, out, _ = info
    if code != 0:
        return None
    try:
        status = json.loads(out or "null") or []
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
