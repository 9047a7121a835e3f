"""`buildgraph graph`: the DAG of the plan as Graphviz dot or Mermaid text, or drawn by
Graphviz as SVG or PNG (buildgraph.runner.graphviz)."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import add_project_options, parse_vars
from buildgraph.errors import EXIT_OK, ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("graph", help="the DAG as Graphviz dot, Mermaid, SVG or PNG")
    add_project_options(parser)
    parser.add_argument("--format", choices=["dot", "mermaid", "svg", "png"], default="dot")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="file to write; - or none: stdout (./- is a file)"
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing file buildgraph did not write"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.atomic_write import write_atomic_bytes
    from buildgraph.plan.load import load, plan
    from buildgraph.render.dot import render_dot
    from buildgraph.render.ownership import check_may_overwrite, output_error, output_file

    output = output_file(args.output)
    if output is not None:
        check_may_overwrite(output, args.force)
    result = plan(
        load(args.file, parse_vars(args.var), names=args.names, overrides=args.set), args.names
    )
    if args.format == "mermaid":
        from buildgraph.render.mermaid import render_mermaid

        data: str | bytes = render_mermaid(result)
    elif args.format == "dot":
        data = render_dot(result)
    else:
        from buildgraph.runner.graphviz import picture_of

        data = picture_of(render_dot(result), args.format)
        if args.format == "svg":
            data = data.decode("utf-8", errors="replace")
    if output is None and isinstance(data, str):
        sys.stdout.write(data)
        return EXIT_OK
    if output is None:
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:
            raise ConfigError.one("standard output takes no picture here", hint="give -o FILE")
        binary.write(data)
        binary.flush()
        return EXIT_OK
    try:
        write_atomic_bytes(output, data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as error:
        raise output_error(output, error) from None
    return EXIT_OK
