"""`buildgraph join`: make each target's tags from the per-platform digests CI runners
pushed (buildgraph.build.join)."""

from __future__ import annotations

# Stdlib and cli.arguments only; why: docs/architecture.md, "Imports inside functions".
import argparse
from pathlib import Path

from buildgraph.cli.arguments import TEXT_OR_JSON


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "join", help="tag the digests `build --platform` pushed, per target"
    )
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="digests files of `build --platform P --digests-out FILE`, or folders of them",
    )
    parser.add_argument(
        "--format", choices=TEXT_OR_JSON, default="text", help="json: one event per line"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.build.join import run_join_command

    return run_join_command(args.paths, args.format == "json")
