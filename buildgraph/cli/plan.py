"""`buildgraph plan`: the dry run, the build waves, what and why."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import TEXT_OR_JSON, add_project_options, parse_vars
from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("plan", help="dry run: the build waves, what and why")
    add_project_options(parser)
    parser.add_argument("--format", choices=TEXT_OR_JSON, default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import load, plan
    from buildgraph.report.style import Style

    loaded = load(args.file, parse_vars(args.var), names=args.names, overrides=args.set)
    result = plan(loaded, args.names)
    if args.format == "json":
        from buildgraph.render.plan_json import render_plan_json

        sys.stdout.write(render_plan_json(result))
    else:
        from buildgraph.projectfile.locate import working_directory
        from buildgraph.render.plan_text import render_plan_text

        style = Style.for_stream(sys.stdout)
        text = render_plan_text(result, style, working_directory(), loaded.graph.dockerfiles)
        sys.stdout.write(text)
    return EXIT_OK
