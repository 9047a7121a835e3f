"""`buildgraph ci github|gitlab`: write a CI configuration that builds the project in
shards (buildgraph.render.github_workflow, buildgraph.render.gitlab_ci)."""

from __future__ import annotations

# Stdlib and cli.arguments only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import add_project_options, parse_vars
from buildgraph.errors import EXIT_OK

SYSTEMS = {"github": "a GitHub Actions workflow", "gitlab": "a GitLab CI/CD pipeline"}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("ci", help="write a CI workflow that builds in shards")
    systems = parser.add_subparsers(dest="system", required=True, metavar="SYSTEM")
    for name, what in SYSTEMS.items():
        system = systems.add_parser(name, help=what)
        add_project_options(system, names=False)
        system.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="file to write; - or none: stdout (./- is a file)",
        )
        system.add_argument(
            "--shards",
            type=int,
            metavar="N",
            help="parallel jobs (default: one per independent family of targets, up to 4)",
        )
        system.add_argument(
            "--force",
            action="store_true",
            help="replace an existing file buildgraph did not write",
        )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.atomic_write import write_atomic
    from buildgraph.plan.load import load
    from buildgraph.projectfile.locate import working_directory
    from buildgraph.render.github_workflow import render_workflow, workflow_facts
    from buildgraph.render.gitlab_ci import render_pipeline
    from buildgraph.render.ownership import check_may_overwrite, output_error, output_file

    output = output_file(args.output)
    if output is not None:
        check_may_overwrite(output, args.force)
    loaded = load(args.file, parse_vars(args.var), overrides=args.set)
    render = render_pipeline if args.system == "gitlab" else render_workflow
    text = render(workflow_facts(loaded, args.shards, working_directory()))
    if output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        write_atomic(output, text)
    except OSError as error:
        raise output_error(output, error) from None
    return EXIT_OK
