"""`buildgraph watch`: build, then rebuild what changes (buildgraph.changes.watch)."""

from __future__ import annotations

# Stdlib and cli.arguments only; why: docs/architecture.md, "Imports inside functions".
import argparse

from buildgraph.cli.arguments import (
    add_builder_options,
    add_project_options,
    add_ui_options,
    parse_vars,
    ui_request,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("watch", help="build, then rebuild what changes")
    add_project_options(parser)
    add_builder_options(parser)
    parser.add_argument(
        "--debounce",
        type=int,
        default=50,
        metavar="MS",
        help="longest wait to group changes (default 50 ms)",
    )
    parser.add_argument(
        "--no-build-first",
        action="store_true",
        help="start watching without building everything first",
    )
    add_ui_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.build.views import ViewRequest
    from buildgraph.changes.watch import WatchRequest, watch
    from buildgraph.plan.plan import OutputMode
    from buildgraph.runner.options import BuildOptions

    mode = OutputMode.of(args.push, args.load)
    options = BuildOptions(args.via, args.jobs, progress=args.progress, builder=args.builder)
    request = WatchRequest(
        args.file,
        parse_vars(args.var),
        tuple(args.names),
        mode,
        options,
        debounce_ms=args.debounce,
        build_first=not args.no_build_first,
        overrides=tuple(args.set),
    )
    views = ViewRequest(args.format == "json", args.progress, ui_request(args))
    return watch(request, views)
