"""The `buildgraph` command: parse flags, call the pipeline, print, exit with the right code."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from buildgraph import gc_policy
from buildgraph.errors import EXIT_INTERRUPTED, EXIT_OK, BuildgraphError, ConfigError

Handler = Callable[[argparse.Namespace], int]


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from importlib.metadata import version

        print(f"buildgraph {version('buildgraph')}")
        parser.exit()


def _common(parser: argparse.ArgumentParser, names: bool = True) -> None:
    parser.add_argument(
        "-f", "--file", type=Path, help="project file (default: nearest buildgraph.toml)"
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable (repeatable); wins over the environment",
    )
    if names:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help="targets or groups (default: the `default` group)",
        )


def _builder_options(parser: argparse.ArgumentParser) -> None:
    """What `build` and `watch` share: where results go and how builds run."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--push", action="store_true", help="push every tagged image")
    where.add_argument("--load", action="store_true", help="load every image into docker")
    parser.add_argument(
        "--via",
        choices=["bake", "commands"],
        default="bake",
        help="one bake run per stage (default), or one build per target",
    )
    parser.add_argument("-j", "--jobs", type=int, default=4, help="parallel builds (commands)")
    parser.add_argument(
        "--progress", choices=["auto", "plain", "tty"], help="show buildx's own progress output"
    )
    parser.add_argument("--builder", help="buildx builder to use (default: the current one)")
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="json: one event per line"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="buildgraph",
        description="Declare the container images of a monorepo once; build them in order.",
    )
    parser.add_argument("--version", action=VersionAction)
    # -f and --var are accepted before the command too (buildgraph -f x.toml plan).
    parser.add_argument("-f", "--file", type=Path, dest="global_file", help=argparse.SUPPRESS)
    parser.add_argument(
        "--var", action="append", default=[], dest="global_var", help=argparse.SUPPRESS
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser("plan", help="dry run: the build waves, what and why")
    _common(plan)
    plan.add_argument("--format", choices=["text", "json"], default="text")
    plan.set_defaults(handler=_plan)

    render = commands.add_parser("render", help="write a bake file or a shell script")
    _common(render)
    render.add_argument(
        "--format",
        choices=["bake", "json", "hcl", "sh"],
        default="bake",
        help="bake (JSON, also 'json'), hcl, or sh",
    )
    render.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    render.add_argument(
        "--force",
        action="store_true",
        help="replace an existing file that buildgraph did not write",
    )
    render.set_defaults(handler=_render)

    validate = commands.add_parser("validate", help="check the project file and exit")
    _common(validate, names=False)
    validate.add_argument("--format", choices=["text", "json"], default="text")
    validate.set_defaults(handler=_validate)

    build = commands.add_parser("build", help="build the plan with docker buildx")
    _common(build)
    _builder_options(build)
    build.add_argument(
        "--keep-going",
        action="store_true",
        help="after a failure, still build what does not depend on it",
    )
    build.add_argument(
        "--split-platforms",
        action="store_true",
        help="one build per platform ([project.builders]), joined by digest",
    )
    build.set_defaults(handler=_build)

    watch = commands.add_parser("watch", help="build, then rebuild what changes")
    _common(watch)
    _builder_options(watch)
    watch.add_argument(
        "--debounce",
        type=int,
        default=50,
        metavar="MS",
        help="longest wait to group changes (default 50 ms)",
    )
    watch.add_argument(
        "--no-build-first",
        action="store_true",
        help="start watching without building everything first",
    )
    watch.set_defaults(handler=_watch)

    doctor = commands.add_parser("doctor", help="check the machine against what the plan needs")
    _common(doctor)
    doctor_where = doctor.add_mutually_exclusive_group()
    doctor_where.add_argument("--push", action="store_true", help="check for a --push build")
    doctor_where.add_argument("--load", action="store_true", help="check for a --load build")
    doctor.add_argument("--builder")
    doctor.add_argument("--format", choices=["text", "json"], default="text")
    doctor.set_defaults(handler=_doctor)

    affected = commands.add_parser("affected", help="targets whose inputs changed since a ref")
    _common(affected)
    affected.add_argument("--since", required=True, metavar="REF", help="git ref to compare with")
    affected.add_argument("--format", choices=["text", "json"], default="text")
    affected.set_defaults(handler=_affected)

    graph = commands.add_parser("graph", help="the DAG as Graphviz dot or Mermaid")
    _common(graph)
    graph.add_argument("--format", choices=["dot", "mermaid"], default="dot")
    graph.set_defaults(handler=_graph)

    schema = commands.add_parser("schema", help="print the JSON Schema of buildgraph.toml")
    schema.set_defaults(handler=_schema)
    return parser


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """The values of repeated --var NAME=VALUE flags; the last of one name wins."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError.one(f"--var {pair!r} is not NAME=VALUE", hint="e.g. --var TAG=1.2.3")
        values[name] = value
    return values


def _loaded(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from buildgraph.plan.load import load

    return load(args.file, parse_vars(args.var))


def _plan(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import plan
    from buildgraph.report.style import Style

    loaded = _loaded(args)
    result = plan(loaded, args.names)
    if args.format == "json":
        from buildgraph.render.plan_json import render_plan_json

        sys.stdout.write(render_plan_json(result))
    else:
        from buildgraph.render.plan_text import render_plan_text

        style = Style.for_stream(sys.stdout)
        text = render_plan_text(result, style, Path.cwd(), loaded.graph.dockerfiles)
        sys.stdout.write(text)
    return EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from buildgraph.files import check_may_overwrite, write_atomic
    from buildgraph.plan.load import plan
    from buildgraph.render.formats import render_file
    from buildgraph.render.notes import render_notes

    output: Path | None = args.output.resolve() if args.output else None
    if output is not None:
        check_may_overwrite(output, args.force)
    loaded = _loaded(args)
    result = plan(loaded, args.names)
    base = output.parent if output else Path.cwd()
    text, entitlements = render_file(result, args.format, base)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text, executable=args.format == "sh")
    for note in render_notes(result, args.format, output, entitlements):
        print(note, file=sys.stderr)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import plan

    loaded = _loaded(args)
    result = plan(loaded, list(loaded.project.targets))  # every target, not only the default
    facts = {
        "file": str(loaded.project.file),
        "valid": True,
        "targets": len(loaded.project.targets),
        "groups": len(loaded.project.groups),
        "edges": len(loaded.graph.edges),
        "waves": len(result.waves),
    }
    if args.format == "json":
        print(json.dumps(facts))
    else:
        print(
            f"{facts['file']}: valid: {facts['targets']} targets, {facts['groups']} groups, "
            f"{facts['edges']} dependencies, {facts['waves']} waves"
        )
    return EXIT_OK


def _build(args: argparse.Namespace) -> int:
    from buildgraph.build.command import BuildRequest, run_build

    request = BuildRequest(
        names=tuple(args.names),
        push=args.push,
        load=args.load,
        via=args.via,
        jobs=args.jobs,
        keep_going=args.keep_going,
        progress=args.progress,
        builder=args.builder,
        json_events=args.format == "json",
        split_platforms=args.split_platforms,
    )
    return run_build(args.file, parse_vars(args.var), request)


def _watch(args: argparse.Namespace) -> int:
    from buildgraph.build.command import BuildRequest, output_mode
    from buildgraph.changes.watch import WatchRequest, watch
    from buildgraph.report.events import human_emitter, json_emitter
    from buildgraph.runner.execute import BuildOptions

    mode = output_mode(BuildRequest(push=args.push, load=args.load))
    options = BuildOptions(args.via, args.jobs, True, args.progress, args.builder)
    request = WatchRequest(
        args.file,
        parse_vars(args.var),
        tuple(args.names),
        mode,
        options,
        debounce_ms=args.debounce,
        build_first=not args.no_build_first,
    )
    return watch(request, json_emitter() if args.format == "json" else human_emitter())


def _doctor(args: argparse.Namespace) -> int:
    from buildgraph.build.command import BuildRequest, output_mode
    from buildgraph.errors import EXIT_ENVIRONMENT
    from buildgraph.plan.load import plan
    from buildgraph.preflight.doctor import checks, emulation_lint, push_registries
    from buildgraph.render.doctor_report import render_doctor
    from buildgraph.report.style import Style
    from buildgraph.runner.probe import gather, registry_problems

    loaded = _loaded(args)
    the_plan = plan(loaded, args.names, output_mode(BuildRequest(push=args.push, load=args.load)))
    facts = gather(args.builder)
    found = checks(
        the_plan, facts, loaded.graph.dockerfiles, registry_problems(push_registries(the_plan))
    )
    lint = emulation_lint(the_plan, facts, loaded.graph.dockerfiles)
    sys.stdout.write(render_doctor(found, lint, args.format, Style.for_stream(sys.stdout)))
    return EXIT_ENVIRONMENT if any(not c.ok and c.blocking for c in found) else EXIT_OK


def _affected(args: argparse.Namespace) -> int:
    from buildgraph.changes.affected import affected_targets
    from buildgraph.changes.input_index import InputIndex
    from buildgraph.plan.load import plan
    from buildgraph.runner.git import changed_since

    loaded = _loaded(args)
    names = args.names or list(loaded.project.targets)
    result = plan(loaded, names)
    index = InputIndex.of(loaded.project, [p.name for p in result.targets])
    found = affected_targets(result, index, changed_since(args.since, loaded.project.root))
    if args.format == "json":
        print(
            json.dumps(
                {
                    "since": args.since,
                    "targets": [{"name": a.name, "reason": a.reason} for a in found],
                }
            )
        )
    else:
        for item in found:
            print(f"{item.name}\t{item.reason}")
    return EXIT_OK


def _graph(args: argparse.Namespace) -> int:
    from buildgraph.plan.load import plan

    result = plan(_loaded(args), args.names)
    if args.format == "mermaid":
        from buildgraph.render.mermaid import render_mermaid

        sys.stdout.write(render_mermaid(result))
    else:
        from buildgraph.render.dot import render_dot

        sys.stdout.write(render_dot(result))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from buildgraph.projectfile.schema import schema_json

    sys.stdout.write(schema_json())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    gc_policy.pause_while_planning()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad flags, as the contract wants
        return int(exc.code or 0)
    handler: Handler = args.handler
    if getattr(args, "file", None) is None and hasattr(args, "file"):
        args.file = args.global_file
    if hasattr(args, "var"):
        args.var = [*args.global_var, *args.var]
    try:
        return handler(args)
    except BuildgraphError as exc:
        label = "error" if isinstance(exc, ConfigError) else "environment"
        for line in str(exc).splitlines() or [label]:
            print(f"buildgraph: {line}" if not line.startswith("  ") else line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("buildgraph: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def run() -> NoReturn:
    """The `buildgraph` command (console script, `python -m buildgraph`): main, then exit."""
    code = main()
    gc_policy.spare_the_last_collections()
    sys.exit(code)
