"""`buildgraph build`: build the plan with docker buildx (buildgraph.build.command).

Nothing but the standard library and cli.arguments is imported until `run` calls
`run_build`: with `--via bake` that starts buildx before the planning modules load."""

from __future__ import annotations

# Stdlib and cli.arguments only; why: docs/architecture.md, "Imports inside functions".
import argparse

from buildgraph.cli.arguments import (
    add_builder_options,
    add_platform_share_options,
    add_project_options,
    add_selection_options,
    add_ui_options,
    parse_shard_argument,
    parse_vars,
    ui_request,
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("build", help="build the plan with docker buildx")
    add_project_options(parser)
    add_selection_options(parser)
    add_builder_options(parser)
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="after a failure, still build what does not depend on it",
    )
    parser.add_argument(
        "--split-platforms",
        action="store_true",
        help="one build per platform ([project.builders]), joined by digest",
    )
    parser.add_argument(
        "--rebuild",
        nargs="*",
        metavar="NAME",
        help="build even what the registry holds: every target, or these and their "
        "dependents (give names before it, or end its list with --)",
    )
    add_platform_share_options(parser)
    add_ui_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.build.command import BuildRequest, run_build

    shard = parse_shard_argument(args.shard)
    request = BuildRequest(
        names=tuple(args.names),
        push=args.push,
        load=args.load,
        via=args.via,
        jobs=args.jobs,
        keep_going=args.keep_going,
        progress=args.progress,
        builder=args.builder,
        json_events=args.format == "json",
        split_platforms=args.split_platforms,
        overrides=tuple(args.set),
        since=args.since,
        shard=shard,
        platforms=tuple(args.platform),
        digests_out=args.digests_out,
        rebuild=() if args.rebuild is None else (tuple(args.rebuild) or None),
        ui=ui_request(args),
    )
    return run_build(args.file, parse_vars(args.var), request)
