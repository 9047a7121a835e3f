"""`buildgraph import`: bake (HCL, JSON) and Compose files translated into a
buildgraph.toml, with a report of every decision."""

from __future__ import annotations

# Stdlib, cli.arguments, errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys
from pathlib import Path

from buildgraph.cli.arguments import TEXT_OR_JSON
from buildgraph.errors import EXIT_BAD_INPUT, EXIT_OK


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import", help="translate bake or Compose files into a buildgraph.toml"
    )
    parser.add_argument(
        "sources",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="bake (.hcl, .json) or Compose files, later ones overriding earlier ones as in "
        "bake (default: the files bake reads here)",
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("buildgraph.toml"), metavar="FILE",
        help="the file to write (default: buildgraph.toml); its report goes beside it",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument(
        "--allow-partial",
        action="store_true",
        help="write the file even when some constructs have no translation (they are "
        "left out and listed in the report)",
    )
    parser.add_argument(
        "--format", choices=TEXT_OR_JSON, default="text", help="json: the report on stdout"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.atomic_write import write_atomic
    from buildgraph.importing.importer import (
        bake_files_here,
        import_definition,
        refuse_existing_output,
    )
    from buildgraph.importing.report import REPORT_NAME, report_json, report_text, summary
    from buildgraph.projectfile.locate import working_directory
    from buildgraph.render.ownership import output_error

    cwd = working_directory()
    sources = tuple(cwd / s for s in args.sources) or bake_files_here(cwd)
    output = cwd / args.output
    refuse_existing_output(output, args.force)
    result = import_definition(sources, output, cwd)
    write = not result.partial or args.allow_partial
    report_file = output.parent / REPORT_NAME
    try:
        if write:
            write_atomic(output, result.text)
        write_atomic(report_file, report_text(result.decisions, sources, output))
    except OSError as error:
        raise output_error(output, error) from None
    if args.format == "json":
        print(report_json(result.decisions, sources, output, write))
    for decision in result.decisions:
        if decision.kind == "untranslatable":
            where = f" ({decision.where})" if decision.where else ""
            print(
                f"buildgraph: {decision.location(cwd)}: no translation of "
                f"{decision.construct}{where}: {decision.detail}",
                file=sys.stderr,
            )
    state = "wrote" if write else "did not write"
    print(f"buildgraph: {state} {args.output}: {summary(result.decisions)}; see {report_file.name}",
          file=sys.stderr)  # fmt: skip
    if result.partial and not args.allow_partial:
        print("  hint: --allow-partial writes it without what is listed", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
