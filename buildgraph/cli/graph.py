"""`buildgraph graph`: the DAG of the plan as Graphviz dot or Mermaid."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import add_project_options, parse_vars
from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("graph", help="the DAG as Graphviz dot or Mermaid")
    add_project_options(parser)
    parser.add_argument("--format", choices=["dot", "mermaid"], default="dot")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import load, plan

    result = plan(
        load(args.file, parse_vars(args.var), names=args.names, overrides=args.set), args.names
    )
    if args.format == "mermaid":
        from buildgraph.render.mermaid import render_mermaid

        sys.stdout.write(render_mermaid(result))
    else:
        from buildgraph.render.dot import render_dot

        sys.stdout.write(render_dot(result))
    return EXIT_OK
