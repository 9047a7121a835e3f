"""CI at scale: `buildgraph build --push` against a hand-written `docker buildx bake --push`
with registry cache, on the same generated monorepo, every run on a fresh runner.

    .venv/bin/python benchmarks/ci.py [--images 44,200] [--runs 1]

Needs the engine (.ci/provision-engine.sh: dockerd, buildx, QEMU, docker-registry and the
staged busybox). Each size is a monorepo of B bases and S services on each (44 = 4 x 10,
200 = 8 x 24), every image for linux/amd64 and linux/arm64:

- `bases/bK`: `FROM scratch`, busybox copied in and installed (a `RUN` under QEMU for
  arm64), then its own `src/` of 20 files;
- `services/svcK-J`: `FROM <the base's tag>`, its own `src/` of 20 files, a `RUN` that
  reads them.

The bake file is what a person writes for the same images: one target per image, the
dependency as a named context (`contexts = { "<base tag>" = "target:baseK" }`), and
`cache-from`/`cache-to` `type=registry` (`<repo>:buildcache`, `mode=max`) on every
target. buildgraph's project file says `[project] cache = "registry"`, which renders
the same cache attributes; its edges are inferred from the Dockerfiles' `FROM`.

Scenarios, in this order, each tool in turn and each run on a fresh runner (the engine's
build cache pruned, the images of this benchmark removed from its store, buildgraph's user
cache a new empty folder: nothing is left from the run before but the registry):

- `cold`: an empty registry (a namespace of its own per tool);
- `no-op`: nothing changed;
- `service`: one file of one service changed;
- `base`: one file of one base changed.

The registry is the engine kit's `docker-registry`, started here on a free port of
127.0.0.1 with its access log on (in-memory storage, like the kit's), behind a counting
TCP relay on another free port: every image reference names the relay. Reported per run:
wall time (start to exit), registry requests (access log lines), MB sent to the registry
(bytes through the relay towards it: blobs, manifests and request headers), manifests
written (PUT requests on `/manifests/`), and what buildgraph built and reused (from its
JSON events). The last column is bake's time over buildgraph's in the same scenario.

This prunes the whole build cache of the engine's builder (as a fresh CI runner has none):
run it on a machine whose cache you can lose.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILDGRAPH = ROOT / ".venv" / "bin" / "buildgraph"
BUSYBOX = Path(os.environ.get("BUILDGRAPH_BUSYBOX_SRC", "/opt/buildgraph-engine/busybox"))
PLATFORMS = ("linux/amd64", "linux/arm64")
FILES_PER_IMAGE = 20
SHAPES = {44: (4, 10), 200: (8, 24)}  # images -> (bases, services on each)
SCENARIOS = ("cold", "no-op", "service", "base")
TOOLS = ("bake", "buildgraph")
RUN_TIMEOUT = 1800.0
_REQUEST = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[0-9.]+" (\d{3})')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Registry:
    """The kit's docker-registry on a free port of 127.0.0.1, its access log in a file."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.log = folder / "access.log"
        config = folder / "registry.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: false\n"
            f"storage:\n  inmemory: {{}}\nhttp:\n  addr: 127.0.0.1:{self.port}\n"
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                ["docker-registry", "serve", str(config)],
                stdout=out,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for_port(self.port, self.process)

    def requests(self) -> list[tuple[str, str, int]]:
        """Every request so far: method, path, status."""
        text = self.log.read_text(errors="replace")
        return [(m[1], m[2], int(m[3])) for m in _REQUEST.finditer(text)]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"ci.py: the registry exited ({process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"ci.py: nothing listens on 127.0.0.1:{port}")


class CountingRelay:
    """A TCP relay 127.0.0.1:port -> the registry, counting the bytes sent towards it."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.sent = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        started = threading.Event()
        threading.Thread(target=self._serve, args=(started,), daemon=True).start()
        started.wait()

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", self.port)
        )
        started.set()
        self._loop.run_forever()  # a daemon thread: it ends with the benchmark

    async def _connection(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            up_in, up_out = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_out.close()
            return
        await asyncio.gather(
            self._pipe(client_in, up_out, count=True), self._pipe(up_in, client_out)
        )

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, count: bool = False
    ) -> None:
        try:
            while chunk := await source.read(1 << 16):
                if count:
                    with self._lock:
                        self.sent += len(chunk)
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    def bytes_sent(self) -> int:
        with self._lock:
            return self.sent


# ------------------------------------------------------------------------- the monorepo


def write_monorepo(folder: Path, prefix: str, bases: int, services: int) -> None:
    """The files both tools build: contexts, buildgraph.toml, docker-bake.hcl. `prefix`:
    where the images go (`127.0.0.1:PORT/namespace`)."""
    toml = [
        f'[project]\nname = "mono"\ncache = "registry"\nplatforms = {json.dumps(list(PLATFORMS))}\n'
    ]
    hcl = [
        "# What a person writes for these images: one target each, the base as a named\n"
        "# context, registry cache on every target.\n"
        f'variable "REGISTRY" {{\n  default = "{prefix}"\n}}\n',
        f'target "_image" {{\n  platforms = {json.dumps(list(PLATFORMS))}\n}}\n',
    ]
    names = []
    for b in range(bases):
        base = f"base{b}"
        context = folder / "bases" / f"b{b}"
        _context(
            context,
            "FROM scratch\nARG TARGETARCH\n"
            "COPY rootfs/linux/${TARGETARCH}/bin/busybox /bin/busybox\n"
            'RUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "COPY src/ /base/\n",
        )
        for arch in ("amd64", "arm64"):
            target = context / "rootfs" / "linux" / arch / "bin" / "busybox"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(BUSYBOX / "linux" / arch / "bin" / "busybox", target)
        toml.append(f'[target.{base}]\ncontext = "bases/b{b}"\ntags = ["{prefix}/{base}:dev"]\n')
        hcl.append(_bake_target(base, f"bases/b{b}", {}))
        names.append(base)
        for s in range(services):
            name = f"svc{b}-{s}"
            _context(
                folder / "services" / name,
                f"FROM {prefix}/{base}:dev\nCOPY src/ /app/\nRUN cat /app/* | wc -c > /app.size\n",
            )
            toml.append(
                f'[target.{name}]\ncontext = "services/{name}"\ntags = ["{prefix}/{name}:dev"]\n'
            )
            hcl.append(
                _bake_target(
                    name, f"services/{name}", {f"${{REGISTRY}}/{base}:dev": f"target:{base}"}
                )
            )
            names.append(name)
    hcl.append(f'group "default" {{\n  targets = {json.dumps(names)}\n}}\n')
    (folder / "buildgraph.toml").write_text("\n".join(toml))
    (folder / "docker-bake.hcl").write_text("\n".join(hcl))


def _bake_target(name: str, context: str, contexts: dict[str, str]) -> str:
    lines = [
        f'target "{name}" {{',
        '  inherits = ["_image"]',
        f'  context = "{context}"',
        f'  tags = ["${{REGISTRY}}/{name}:dev"]',
        f'  cache-from = ["type=registry,ref=${{REGISTRY}}/{name}:buildcache"]',
        f'  cache-to = ["type=registry,ref=${{REGISTRY}}/{name}:buildcache,mode=max"]',
    ]
    if contexts:
        pairs = ", ".join(f'"{ref}" = "{value}"' for ref, value in contexts.items())
        lines.append(f"  contexts = {{ {pairs} }}")
    return "\n".join([*lines, "}\n"])


def _context(folder: Path, dockerfile: str) -> None:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for n in range(FILES_PER_IMAGE):
        (folder / "src" / f"f{n}.txt").write_text(os.urandom(1024).hex())


def change_one_file(folder: Path, relative: str) -> None:
    with (folder / relative).open("a") as out:
        out.write(f"\nchanged {uuid.uuid4().hex}\n")


# ----------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class Figures:
    seconds: float
    requests: int
    sent: int
    manifests: int
    built: int | None = None
    reused: int | None = None


def fresh_runner(prefix: str) -> Path:
    """The engine's build cache emptied and this benchmark's images gone from its store;
    a new, empty user cache for buildgraph (returned)."""
    subprocess.run(["docker", "buildx", "prune", "-af"], capture_output=True, check=True)
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    mine = [ref for ref in listed if ref.startswith(prefix.rsplit("/", 1)[0])]
    if mine:
        subprocess.run(["docker", "image", "rm", "-f", *mine], capture_output=True)
    return Path(tempfile.mkdtemp(prefix="bg-ci-cache-"))


def run_tool(tool: str, folder: Path, cache: Path) -> tuple[float, list[dict[str, object]]]:
    environ = {k: v for k, v in os.environ.items() if k != "REGISTRY"}
    environ["XDG_CACHE_HOME"] = str(cache)
    if tool == "bake":
        argv = ["docker", "buildx", "bake", "--push", "--progress", "quiet"]
        argv += ["-f", "docker-bake.hcl"]
    else:
        argv = [str(BUILDGRAPH), "build", "--push", "--format", "json"]
    start = time.perf_counter()
    done = subprocess.run(
        argv, cwd=folder, env=environ, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ci.py: {tool} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return seconds, events


def measure(
    tool: str, folder: Path, prefix: str, registry: Registry, relay: CountingRelay
) -> Figures:
    cache = fresh_runner(prefix)
    try:
        before, sent = len(registry.requests()), relay.bytes_sent()
        seconds, events = run_tool(tool, folder, cache)
        time.sleep(0.2)  # the access log is written as each response completes
        requests = registry.requests()[before:]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    manifests = sum(1 for m, path, _ in requests if m == "PUT" and "/manifests/" in path)
    figures = Figures(seconds, len(requests), relay.bytes_sent() - sent, manifests)
    if tool == "buildgraph":
        statuses = [e.get("status") for e in events if e.get("event") == "finished"]
        figures = replace(figures, built=statuses.count("done"), reused=statuses.count("reused"))
    return figures


def benchmark(images: int, runs: int) -> list[tuple[str, dict[str, Figures]]]:
    bases, services = SHAPES[images]
    rows: list[tuple[str, dict[str, Figures]]] = []
    with tempfile.TemporaryDirectory(prefix="bg-ci-") as scratch:
        root = Path(scratch)
        registry = Registry(root)
        try:
            relay = CountingRelay(registry.port)
            namespace = f"bench{uuid.uuid4().hex[:6]}"
            folders, prefixes = {}, {}
            for tool in TOOLS:
                prefixes[tool] = f"127.0.0.1:{relay.port}/{namespace}-{tool}"
                folders[tool] = root / tool
                write_monorepo(folders[tool], prefixes[tool], bases, services)
            # Files changed within 2 s of a run are hashed anew on every run (buildgraph's
            # racily-clean rule); a checkout on a runner is older than that.
            time.sleep(2.1)
            for scenario in SCENARIOS:
                for tool in TOOLS:
                    if scenario == "service":
                        change_one_file(folders[tool], "services/svc0-0/src/f0.txt")
                    if scenario == "base":
                        change_one_file(folders[tool], "bases/b0/src/f0.txt")
                if scenario in ("service", "base"):
                    time.sleep(2.1)
                found: dict[str, Figures] = {}
                for tool in TOOLS:
                    # Only the first run of `cold` is cold: later ones find the registry full.
                    repeat = 1 if scenario == "cold" else runs
                    tries = [
                        measure(tool, folders[tool], prefixes[tool], registry, relay)
                        for _ in range(repeat)
                    ]
                    found[tool] = min(tries, key=lambda f: f.seconds)
                    print(f"  {images} images, {scenario}, {tool}: {found[tool]}", file=sys.stderr)
                rows.append((scenario, found))
        finally:
            registry.stop()
    return rows


def table(images: int, rows: Sequence[tuple[str, dict[str, Figures]]]) -> str:
    bases, services = SHAPES[images]
    head = (
        f"\n{images} images ({bases} bases x {services} services, {len(PLATFORMS)} platforms)\n\n"
        "| scenario | tool | wall s | registry requests | MB sent | manifests written "
        "| built / reused | bake / buildgraph |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |\n"
    )
    lines = []
    for scenario, found in rows:
        ratio = found["bake"].seconds / found["buildgraph"].seconds
        for tool in TOOLS:
            f = found[tool]
            share = f"{f.built} / {f.reused}" if f.built is not None else f"{images} / -"
            lines.append(
                f"| {scenario} | {tool} | {f.seconds:.1f} | {f.requests} | {f.sent / 1e6:.1f} "
                f"| {f.manifests} | {share} | {f'{ratio:.1f}x' if tool == 'buildgraph' else ''} |"
            )
    return head + "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--images", default="44,200", help="sizes, of " + ", ".join(map(str, SHAPES))
    )
    parser.add_argument("--runs", type=int, default=1, help="warm scenarios: fastest of R runs")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.images.split(",") if s]
    unknown = [s for s in sizes if s not in SHAPES]
    if unknown:
        parser.error(f"--images: {unknown} not among {sorted(SHAPES)}")
    if not BUILDGRAPH.exists() or shutil.which("docker-registry") is None:
        parser.error(
            "needs the venv (bash scripts/test.sh) and the engine (.ci/provision-engine.sh)"
        )
    version = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True)
    print(f"docker buildx: {version.stdout.strip()}")
    for images in sizes:
        print(table(images, benchmark(images, args.runs)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
