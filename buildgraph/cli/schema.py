"""`buildgraph schema`: the JSON Schema of buildgraph.toml."""

from __future__ import annotations

# Stdlib and errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.errors import EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("schema", help="print the JSON Schema of buildgraph.toml")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.projectfile.schema import schema_json

    sys.stdout.write(schema_json())
    return EXIT_OK
