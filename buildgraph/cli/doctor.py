"""`buildgraph doctor`: the machine checked against what the plan needs
(buildgraph.preflight.doctor), printed for a person or as JSON."""

from __future__ import annotations

# Stdlib and cli.arguments only; why: docs/architecture.md, "Imports inside functions".
import argparse
import sys

from buildgraph.cli.arguments import TEXT_OR_JSON, add_project_options, parse_vars


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("doctor", help="check the machine against what the plan needs")
    add_project_options(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--push", action="store_true", help="check for a --push build")
    where.add_argument("--load", action="store_true", help="check for a --load build")
    parser.add_argument("--builder")
    parser.add_argument("--format", choices=TEXT_OR_JSON, default="text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import load, plan
    from buildgraph.plan.plan import OutputMode
    from buildgraph.preflight.doctor import checks, emulation_lint, exit_code, push_registries
    from buildgraph.render.doctor_report import render_doctor
    from buildgraph.report.style import Style
    from buildgraph.runner.probe import gather, registry_problems

    loaded = load(args.file, parse_vars(args.var), names=args.names, overrides=args.set)
    the_plan = plan(loaded, args.names, OutputMode.of(args.push, args.load))
    facts = gather(args.builder)
    found = checks(
        the_plan, facts, loaded.graph.dockerfiles, registry_problems(push_registries(the_plan))
    )
    lint = emulation_lint(the_plan, facts, loaded.graph.dockerfiles)
    sys.stdout.write(render_doctor(found, lint, args.format, Style.for_stream(sys.stdout)))
    return exit_code(found)
