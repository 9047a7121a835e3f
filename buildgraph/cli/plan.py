"""`buildgraph plan`: the dry run, the build waves, what and why."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import (
    TEXT_OR_JSON,
    add_project_options,
    add_selection_options,
    parse_shard_argument,
    parse_vars,
)
from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("plan", help="dry run: the build waves, what and why")
    add_project_options(parser)
    add_selection_options(parser)
    parser.add_argument("--format", choices=TEXT_OR_JSON, default="text")
    parser.add_argument(
        "--push",
        action="store_true",
        help="plan as build --push, and ask the registry which fingerprints it holds",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import load, selected_plan
    from buildgraph.plan.plan import OutputMode
    from buildgraph.report.style import Style

    shard = parse_shard_argument(args.shard)
    loaded = load(args.file, parse_vars(args.var), names=args.names, overrides=args.set)
    mode = OutputMode.of(args.push, False)
    selected = selected_plan(loaded, args.names, mode, since=args.since, shard=shard)
    narrowed = args.since is not None or shard is not None
    from buildgraph.changes.fingerprints import target_fingerprints

    # Always: an unchanged re-run costs an lstat per context file (benchmarks/README.md).
    fingerprints = target_fingerprints(selected.plan)
    registry = None
    if args.push:
        from buildgraph.build.command import registry_states

        registry = registry_states(selected.plan, fingerprints)
    if args.format == "json":
        import json

        from buildgraph.render.plan_json import plan_document
        from buildgraph.render.selection_notes import selection_facts

        document = plan_document(selected.plan, fingerprints, registry)
        if narrowed:
            document["selection"] = selection_facts(selected)
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        from buildgraph.projectfile.locate import working_directory
        from buildgraph.render.plan_text import render_plan_text
        from buildgraph.render.selection_notes import selection_lines

        style = Style.for_stream(sys.stdout)
        for line in selection_lines(selected):
            sys.stdout.write(style(line, "bold") + "\n")
        result = selected.plan
        text = render_plan_text(
            result,
            style,
            working_directory(),
            loaded.graph.dockerfiles,
            fingerprints=fingerprints,
            registry=registry,
        )
        sys.stdout.write(text)
    return EXIT_OK
