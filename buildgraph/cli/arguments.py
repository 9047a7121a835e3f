"""The flags several commands share, and what they turn into: each command's module calls
these from its `add_parser`, and `parse_vars` from its `run`."""

from __future__ import annotations

# Stdlib and buildgraph.errors only; why: docs/architecture.md, "Imports inside functions".
import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from buildgraph.errors import ConfigError

if TYPE_CHECKING:
    from buildgraph.build.views import UiRequest
    from buildgraph.graph.shards import ShardSpec

TEXT_OR_JSON = ("text", "json")


def add_project_options(
    parser: argparse.ArgumentParser,
    names: bool = True,
    names_default: str = "the `default` group",
) -> None:
    """`-f/--file` and `--var`, and unless `names` is false the target or group names
    (`names_default` says what no name means)."""
    parser.add_argument(
        "-f",
        "--file",
        type=Path,
        action="append",
        help="buildgraph.toml, or bake/Compose files (repeatable: later ones override, as in "
        "bake; default: the nearest buildgraph.toml, else the files bake reads here)",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a variable (repeatable); wins over the environment",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="TARGET.KEY=VALUE",
        help="override a target's attribute, as bake's --set (repeatable; TARGET may be a "
        "pattern like '*'; KEY+=VALUE adds to a list)",
    )
    if names:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help=f"targets or groups (default: {names_default})",
        )


def add_builder_options(parser: argparse.ArgumentParser) -> None:
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
        "--format", choices=TEXT_OR_JSON, default="text", help="json: one event per line"
    )


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """`--since` and `--shard`, which narrow the targets `build`, `plan` and `render` take."""
    parser.add_argument(
        "--since",
        metavar="REF",
        help="only the targets whose inputs changed since this git ref, and their "
        "dependents (as `affected` lists them), among the names",
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="only share K of N of the selected targets (for N parallel CI jobs): "
        "dependent targets stay together, each is built by exactly one shard",
    )


def add_platform_share_options(parser: argparse.ArgumentParser) -> None:
    """`--platform` and `--digests-out`: a CI runner's share of the platforms, pushed by
    digest, and the file `buildgraph join` makes the tags from."""
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="PLATFORM",
        help="build only this platform of each target (repeatable; `local`: the targets "
        "declaring none), pushed by digest without tags: `buildgraph join` tags them",
    )
    parser.add_argument(
        "--digests-out",
        type=Path,
        metavar="FILE",
        help="with --platform: write the digests pushed (JSON), for `buildgraph join`",
    )


def add_ui_options(parser: argparse.ArgumentParser) -> None:
    """`--ui` and where its page is served, for `build` and `watch`."""
    parser.add_argument(
        "--ui",
        action="store_true",
        help="serve a live page of the graph on 127.0.0.1 (its address is printed on stderr)",
    )
    parser.add_argument(
        "--ui-port",
        type=_port,
        metavar="PORT",
        help="the page's port (default: a free one); implies --ui",
    )
    parser.add_argument(
        "--ui-host",
        metavar="ADDRESS",
        help="the address the page is served on (default 127.0.0.1); implies --ui",
    )
    parser.add_argument(
        "--ui-allow-remote",
        action="store_true",
        help="let --ui-host be an address other than loopback: anyone who can reach it and "
        "knows the page's address sees the build",
    )


def ui_request(args: argparse.Namespace) -> UiRequest | None:
    """The page asked for by `add_ui_options`' flags, or None."""
    if not (args.ui or args.ui_port is not None or args.ui_host is not None):
        return None
    from buildgraph.build.views import LOOPBACK, UiRequest

    return UiRequest(args.ui_host or LOOPBACK, args.ui_port or 0, args.ui_allow_remote)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is no port: give a number 0-65535")
    return int(text)


def parse_shard_argument(text: str | None) -> ShardSpec | None:
    """--shard's K/N, checked before anything is read (exit 2 with a hint)."""
    if text is None:
        return None
    from buildgraph.graph.shards import parse_shard

    return parse_shard(text)


def parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    """The values of repeated --var NAME=VALUE flags; the last of one name wins.

    A flag that is not NAME=VALUE is refused without being shown: `--var ghp_...` is a
    token typed where a name belonged, and an error message must not print it."""
    values: dict[str, str] = {}
    for number, pair in enumerate(pairs, start=1):
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError.one(
                f"--var number {number} has no '=': it must be NAME=VALUE "
                "(its text is not shown, as it may be a secret)",
                hint='e.g. --var TAG=1.2.3; a value from the environment: --var TOKEN="$TOKEN"',
            )
        if not name:
            raise ConfigError.one(
                f"--var number {number} has no name before '=': it must be NAME=VALUE "
                "(its value is not shown, as it may be a secret)",
                hint="e.g. --var TAG=1.2.3",
            )
        values[name] = value
    return values


def redact_argument(argument: str) -> str:
    """An argument as an error may show it: what follows its first '=' hidden, as a value
    (of --var above all) may be a secret."""
    head, sep, _ = argument.partition("=")
    return f"{head}=<hidden>" if sep else argument
