"""`buildgraph validate`: read, resolve and plan every target; say what was found."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse

from buildgraph.cli.arguments import TEXT_OR_JSON, add_project_options, parse_vars
from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("validate", help="check the project file and exit")
    add_project_options(parser, names=False)
    parser.add_argument("--format", choices=TEXT_OR_JSON, default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json

    from buildgraph.plan.load import load, validation_summary

    facts = validation_summary(load(args.file, parse_vars(args.var), overrides=args.set))
    if args.format == "json":
        print(json.dumps(facts))
    else:
        print(
            f"{facts['file']}: valid: {facts['targets']} targets, {facts['groups']} groups, "
            f"{facts['edges']} dependencies, {facts['waves']} waves"
        )
    return EXIT_OK
