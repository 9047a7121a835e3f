"""`buildgraph affected --since REF`: the targets whose inputs changed since a git ref,
and their dependents (buildgraph.changes.affected), one a line or as JSON."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse

from buildgraph.cli.arguments import TEXT_OR_JSON, add_project_options, parse_vars
from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("affected", help="targets whose inputs changed since a ref")
    add_project_options(parser, names_default="every target")
    parser.add_argument("--since", required=True, metavar="REF", help="git ref to compare with")
    parser.add_argument("--format", choices=TEXT_OR_JSON, default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.changes.affected import affected_document
    from buildgraph.plan.load import affected_since, load

    loaded = load(args.file, parse_vars(args.var), names=args.names, overrides=args.set)
    found = affected_since(loaded, args.names, args.since)
    if args.format == "json":
        import json

        print(json.dumps(affected_document(args.since, found)))
    else:
        for item in found:
            print(f"{item.name}\t{item.reason}")
    return EXIT_OK
