"""`buildgraph render`: the plan as a bake file (JSON or HCL) or a shell script."""

from __future__ import annotations

# Stdlib, cli.arguments, errors and the format names only; why: docs/architecture.md,
# "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import (
    add_project_options,
    add_selection_options,
    parse_shard_argument,
    parse_vars,
)
from buildgraph.errors import EXIT_OK
from buildgraph.render import FORMATS


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("render", help="write a bake file or a shell script")
    add_project_options(parser)
    add_selection_options(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default="bake", help="bake (JSON, also 'json'), hcl, or sh"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="file to write; - or none: stdout (./- is a file)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing file that buildgraph did not write",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.atomic_write import write_atomic
    from buildgraph.plan.load import load, plan
    from buildgraph.projectfile.locate import working_directory
    from buildgraph.render.formats import render_file
    from buildgraph.render.notes import render_notes
    from buildgraph.render.ownership import (
        check_may_overwrite,
        not_utf8_error,
        output_error,
        output_file,
    )

    shard = parse_shard_argument(args.shard)
    output = output_file(args.output)
    if output is not None:
        check_may_overwrite(output, args.force)
    loaded = load(args.file, parse_vars(args.var), names=args.names, overrides=args.set)
    result = plan(loaded, args.names, since=args.since, shard=shard)
    cwd = working_directory()
    base = output.parent if output else cwd
    text, entitlements = render_file(result, args.format, base)
    try:
        if output is None:
            text.encode("utf-8")  # as a file would be: not half a document, then an error
            sys.stdout.write(text)
        else:
            write_atomic(output, text, executable=args.format == "sh")
    except OSError as error:
        if output is None:
            raise
        raise output_error(output, error) from None
    except UnicodeEncodeError as error:
        raise not_utf8_error(output, text, error) from None
    for note in render_notes(result, args.format, output, entitlements, cwd):
        print(note, file=sys.stderr)
    return EXIT_OK
