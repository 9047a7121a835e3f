"""Watch latency: from a file write to the build process starting, p50 and p95, with 10,
100 and 1,000 watched contexts. Needs the engine (each change builds a tiny image).

    .venv/bin/python benchmarks/watch_latency.py [--contexts 10,100,1000] [--samples 20]

The write time is taken just before the write; "build started" is the `started` event
`buildgraph watch --format json` prints immediately before it starts `docker buildx build`.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out" / "watch"


def generate(contexts: int, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    lines = ['[project]\nplatforms = ["linux/amd64"]\n']
    for i in range(contexts):
        context = folder / "ctx" / f"c{i}"
        context.mkdir(parents=True)
        (context / "Dockerfile").write_text("FROM scratch\nCOPY data.txt /data.txt\n")
        (context / "data.txt").write_text("0\n")
        lines.append(f'[target.t{i}]\ncontext = "ctx/c{i}"\noutput = ["type=cacheonly"]\n')
    (folder / "buildgraph.toml").write_text("\n".join(lines))


def read_events(stream: Any, sink: queue.Queue[dict[str, Any]]) -> None:
    for line in stream:
        if line.startswith("{"):
            sink.put(json.loads(line))


def wait_for(
    events: queue.Queue[dict[str, Any]], kind: str, timeout: float = 600
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(0.1, deadline - time.monotonic()))
        if event["event"] == kind:
            return event


def measure(contexts: int, samples: int) -> list[float]:
    folder = OUT / str(contexts)
    generate(contexts, folder)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "buildgraph",
            "watch",
            "--format",
            "json",
            "--via",
            "commands",
            "-j",
            "2",
            "--no-build-first",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=read_events, args=(process.stdout, events), daemon=True).start()
    latencies = []
    try:
        wait_for(events, "note", timeout=300)  # "watching N path(s)": ready
        for sample in range(samples):
            target = sample % contexts
            data = folder / "ctx" / f"c{target}" / "data.txt"
            time.sleep(0.3)  # let the watcher settle
            written = time.time()
            data.write_text(f"{sample + 1}\n")
            started = wait_for(events, "started")
            latencies.append((started["time"] - written) * 1000)
            wait_for(events, "batch")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=120)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contexts", default="10,100,1000")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    print("| watched contexts | p50 (ms) | p95 (ms) | samples |")
    print("| ---: | ---: | ---: | ---: |")
    for count in (int(c) for c in args.contexts.split(",")):
        values = measure(count, args.samples)
        print(
            f"| {count:,} | {statistics.median(values):.0f} | {percentile(values, 0.95):.0f} "
            f"| {len(values)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
