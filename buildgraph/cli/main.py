"""The `buildgraph` command: the top-level parser, each command's module registering its
own, and `main` dispatching to the command's `run` and turning errors into exit codes."""

from __future__ import annotations

# Stdlib, errors and gc_policy only; why: docs/architecture.md, "Imports inside functions".
import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from buildgraph import gc_policy
from buildgraph.cli import (
    affected,
    build,
    ci,
    doctor,
    graph,
    import_project,
    join,
    plan,
    render,
    schema,
    validate,
    watch,
)
from buildgraph.errors import EXIT_INTERRUPTED, EXIT_OK, BuildgraphError, ConfigError

# In the order `buildgraph --help` lists them.
COMMANDS = (
    plan,
    render,
    validate,
    build,
    join,
    watch,
    doctor,
    affected,
    graph,
    schema,
    import_project,
    ci,
)

Run = Callable[[argparse.Namespace], int]


class VersionAction(argparse.Action):
    """`--version`: the installed package's version, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> NoReturn:
        from importlib.metadata import version

        print(f"buildgraph {version('buildgraph')}")
        parser.exit()


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, except that its errors show no argument's text after a '='
    (`buildgraph validate TOKEN=ghp_...`: a secret typed where a flag or a command
    belonged must not be printed back). Subcommands' parsers are of this class too."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            from buildgraph.cli.arguments import redact_argument

            shown = " ".join(redact_argument(extra) for extra in extras)
            self.error(f"unrecognized arguments: {shown}")
        return parsed

    def error(self, message: str) -> NoReturn:
        # argparse quotes the argument it refuses: 'TOKEN=ghp_...' (invalid choice).
        import re

        super().error(re.sub(r"'([^'=\s]*)=[^']*'", r"'\1=<hidden>'", message))


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="buildgraph",
        description="Declare the container images of a monorepo once; build them in order.",
    )
    parser.add_argument("--version", action=VersionAction)
    # -f and --var are accepted before the command too (buildgraph -f x.toml plan).
    parser.add_argument(
        "-f", "--file", type=Path, action="append", dest="global_file", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--var", action="append", default=[], dest="global_var", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--set", action="append", default=[], dest="global_set", help=argparse.SUPPRESS
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def printable(text: str) -> str:
    """A message as the terminal may receive it: control characters (an escape sequence in
    a path or a value: ESC, CR, C1), line and bidi controls written as \\uNNNN; line
    breaks kept, as they separate a message's lines."""
    import re

    return re.sub(
        r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]",
        lambda match: f"\\u{ord(match.group()):04x}",
        text,
    )


def main(argv: Sequence[str] | None = None) -> int:
    # Here, not in run(): in-process callers (tests, benchmarks' --profile) plan as the
    # command does.
    gc_policy.pause_while_planning()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad flags, as the contract wants
        return int(exc.code or 0)
    command: Run = args.run
    if getattr(args, "file", None) is None and hasattr(args, "file"):
        args.file = args.global_file
    if hasattr(args, "var"):
        args.var = [*args.global_var, *args.var]
    if hasattr(args, "set"):
        args.set = [*args.global_set, *args.set]
    previous = _stop_on_sigterm()
    try:
        return command(args)
    except BuildgraphError as exc:
        label = "error" if isinstance(exc, ConfigError) else "environment"
        for line in printable(str(exc)).split("\n") if str(exc) else [label]:
            print(f"buildgraph: {line}" if not line.startswith("  ") else line, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("buildgraph: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """SIGTERM (what `kill`, CI runners and container stops send) stops a command as
    Ctrl-C does: every build started is stopped, exit 130. Python's default would end the
    process at once and leave the bake it started, in a session of its own, running.
    Returns the handler it replaced, or None off the main thread (where none can be set)."""
    try:
        return signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:
        return None


def run() -> NoReturn:
    """The `buildgraph` command (console script, `python -m buildgraph`): main, then exit.
    main starts by pausing the collector (gc_policy.pause_while_planning)."""
    code = main()
    gc_policy.spare_the_last_collections()
    _forget_handled_interrupts()
    sys.exit(code)


def _forget_handled_interrupts() -> None:
    """Exit with main's code after a Ctrl-C or SIGTERM it handled (130), not by SIGINT.

    CPython (3.8 to 3.13) ends a `python -m` process by SIGINT, whatever its exit code, once
    a KeyboardInterrupt has ended an `exec` or `eval` of a string, even one caught since;
    and planning runs many (every `@dataclass` of a module imported on first use), so a
    signal may land in one. Each such `exec` starts by clearing that mark: an empty one
    does. (The console script exits another way, which never looks at the mark.)"""
    exec("")
