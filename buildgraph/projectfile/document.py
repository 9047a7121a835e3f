"""Reading buildgraph.toml: TOML syntax, then the JSON Schema (`schema_errors`).

What comes out is the document as plain data plus where it came from; meaning (inheritance,
matrices, templates) is `resolve`'s job.

The file is read defensively, since `-f` may name anything: only a regular file is read
(never a FIFO, a device such as /dev/zero, or a directory), and at most `MAX_FILE_BYTES` of
it. A UTF-8 byte-order mark at its start is accepted and dropped, as editors on Windows
write one.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import tomli

from buildgraph.errors import ConfigError, Problem
from buildgraph.projectfile.lines import locate_line
from buildgraph.projectfile.locate import project_file_path
from buildgraph.projectfile.schema_errors import schema_problems

# 16 MiB: fifty times a project of 3,000 targets; a larger file is a mistake, not a project.
MAX_FILE_BYTES = 16 * 1024 * 1024
BYTE_ORDER_MARK = "\ufeff"
# Problems reported at most: a file of ten thousand bad tables gets a screenful, at once.
MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed, schema-valid project file."""

    path: Path  # absolute
    text: str
    data: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path.parent

    def line_of(self, *keys: str) -> int | None:
        return locate_line(self.text, keys)


def load_document(path: Path | None, cwd: Path | None = None) -> Document:
    """Read, parse and schema-check the project file (found upwards from cwd when None)."""
    file = project_file_path(path, cwd)
    return parse_document(read_project_text(file), file)


def read_project_text(file: Path) -> str:
    """The text of the project file: a regular file of at most MAX_FILE_BYTES, UTF-8."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError.one(
            "project file not found", file=file, hint="check the path given to -f"
        ) from None
    except IsADirectoryError:
        raise _not_a_file(file, "a directory") from None
    except (OSError, ValueError) as exc:
        raise ConfigError.one(f"cannot read the project file: {_reason(exc)}", file=file) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_a_file(file, _kind(mode))
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError.one(f"cannot read the project file: {_reason(exc)}", file=file) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError.one(
            f"the project file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
            file=file,
            hint="check the path given to -f: a project file is a few hundred kilobytes",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ConfigError.one(
                "the project file is UTF-16 text (it starts with a UTF-16 byte-order mark)",
                file=file,
                hint="save it as UTF-8",
            ) from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError.one(
            f"the project file is not UTF-8 text (byte {exc.start + 1} cannot be decoded)",
            file=file,
            line=line,
            hint="save it as UTF-8",
        ) from None


def _not_a_file(file: Path, kind: str) -> ConfigError:
    hint = (
        f"-f names the file itself: -f {file / 'buildgraph.toml'}"
        if kind == "a directory"
        else "name a buildgraph.toml with -f"
    )
    return ConfigError.one(f"the project file is {kind}, not a regular file", file=file, hint=hint)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without the path: the problem names the file already
    return str(exc)


class _FloatWatch:
    """tomli's parse_float: floats as tomli makes them, noting whether one was nan or inf
    (TOML allows them; JSON and bake do not), so only then is the document searched."""

    __slots__ = ("non_finite",)

    def __init__(self) -> None:
        self.non_finite = False

    def __call__(self, text: str) -> float:
        if text[-3:] in ("nan", "inf"):
            self.non_finite = True
        return float(text)


def parse_document(text: str, file: Path) -> Document:
    if text.startswith(BYTE_ORDER_MARK):
        text = text[1:]
    floats = _FloatWatch()
    # tomli rather than the standard library's tomllib, the same parser: its wheels are
    # compiled with mypyc and parse large project files about three times faster.
    try:
        data = tomli.loads(text, parse_float=floats)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(_syntax_problem(exc, text, file)) from None
    except RecursionError as exc:  # tomli's own limits on nesting, or Python's
        raise ConfigError.one(
            f"TOML values nested too deeply: {exc}",
            file=file,
            hint="a project file needs a few levels of tables and lists, not hundreds",
        ) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ConfigError.one(
            f"TOML value out of range: {str(exc).split(';')[0]}",
            file=file,
            hint="numbers in a project file are small; quote long digit strings",
        ) from None
    problems = list(islice(schema_problems(data, text, file, floats.non_finite), MAX_PROBLEMS))
    if problems:
        if len(problems) == MAX_PROBLEMS:
            problems.append(
                Problem(
                    f"stopped after {MAX_PROBLEMS} problems; there may be more",
                    file=file,
                    hint="fix these and run validate again",
                )
            )
        raise ConfigError(*problems)
    return Document(file, text, data)


def _syntax_problem(exc: Exception, text: str, file: Path) -> Problem:
    other = _other_format(text, file)
    if other is not None:
        return other
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    line = int(match.group(1)) if match else None
    if "(at end of document)" in message:
        line = text.count("\n") + (0 if text.endswith("\n") else 1)
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    return Problem(
        f"TOML syntax error: {message}",
        file=file,
        line=line,
        hint='strings need quotes, tables are [target.NAME], lists are ["a", "b"]',
    )


_COMPOSE_NAMES = frozenset(
    {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
)
_HCL_BLOCK = re.compile(
    r'^[ \t]*(target|group|variable|function)[ \t]+"[^"\n]*"[ \t]*\{', re.MULTILINE
)
_YAML_SERVICES = re.compile(r"^services[ \t]*:", re.MULTILINE)


def _other_format(text: str, file: Path) -> Problem | None:
    """A file that is not TOML but one of the files bake reads, named as what it is.

    Only asked once the TOML parser has refused the file: a valid TOML file is read
    whatever its name."""
    name = file.name.lower()
    head = text[:65536]
    what: str | None = None
    if name in _COMPOSE_NAMES or (name.endswith((".yaml", ".yml")) and _YAML_SERVICES.search(head)):
        what = "a Compose file (YAML)"
    elif name.endswith(".hcl") or _HCL_BLOCK.search(head):
        what = "a bake file (HCL)"
    elif name.endswith(".json") or (head.lstrip().startswith("{") and '"target"' in head):
        what = "a bake file (JSON)"
    if what is None:
        return None
    return Problem(
        f"this is {what}, not a buildgraph project file: buildgraph reads buildgraph.toml",
        file=file,
        hint="write the targets as [target.NAME] tables in a buildgraph.toml (`buildgraph "
        "schema` prints its format); importing bake and Compose files is not supported yet",
    )
