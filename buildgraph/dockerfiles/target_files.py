"""Reading what the targets' files say: context directories and Dockerfiles.

The only module of the planning path that touches the disk; it returns plain data for the
pure graph code.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from buildgraph.dockerfiles.dockerfile import (
    DockerfileInfo,
    DockerfileSyntax,
    dockerfile_info,
    dockerfile_syntax,
)
from buildgraph.errors import ConfigError, Problem
from buildgraph.model.project import Project, Target, is_local_named_context


def read_dockerfiles(project: Project, names: list[str] | None = None) -> dict[str, DockerfileInfo]:
    """Each target's parsed Dockerfile (remote contexts have none).

    Every missing or unreadable context directory, Dockerfile or local named context is an
    error: a Dockerfile skipped would lose the edges its FROM lines draw."""
    problems: list[Problem] = []
    checked: dict[tuple[str, str, tuple[tuple[str, str], ...]], bool] = {}
    syntaxes = _Syntaxes(project)
    parsed: dict[tuple[DockerfileSyntax, tuple[tuple[str, str], ...]], DockerfileInfo] = {}
    infos: dict[str, DockerfileInfo] = {}
    for name in names if names is not None else list(project.targets):
        target = project.targets[name]
        inputs = (target.context, target.dockerfile, tuple(target.contexts.items()))
        if checked.get(inputs, False) is False:  # unseen, or reported for another target
            found = missing_inputs(project, target)
            checked[inputs] = not found
            problems.extend(found)
            if found:
                continue
        inline = target.dockerfile_inline
        if inline is not None:
            syntax: DockerfileSyntax | None = syntaxes.inline(inline)
        else:
            syntax, error = syntaxes.file(target)
            if error is not None:
                problems.append(_problem(project, target, "dockerfile", error, _READ_HINT))
                continue
        if syntax is not None:
            # Only the args the Dockerfile's info reads: the others share one parse.
            args = tuple((k, str(v)) for k, v in target.args.items() if k in syntax.arg_names)
            key = (syntax, args)
            info = parsed.get(key)
            if info is None:
                info = parsed[key] = dockerfile_info(syntax, dict(args))
            infos[name] = info
    if problems:
        raise ConfigError(*problems)
    return infos


_READ_HINT = "buildx must read the Dockerfile, and so must buildgraph, for the FROM lines"


class _Syntaxes:
    """Each Dockerfile read and split once, however many targets build it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._by_file: dict[tuple[str, str], tuple[DockerfileSyntax | None, str | None]] = {}
        self._by_text: dict[str, DockerfileSyntax] = {}

    def file(self, target: Target) -> tuple[DockerfileSyntax | None, str | None]:
        """The target's Dockerfile on disk (None if it has none), or why it cannot be read.
        Only a regular file is opened: a FIFO there would block the read forever."""
        key = (target.context, target.dockerfile)
        if key not in self._by_file:
            path = self.project.dockerfile_path(target)
            self._by_file[key] = (None, None) if path is None else self._read(target, path)
        return self._by_file[key]

    def _read(self, target: Target, path: Path) -> tuple[DockerfileSyntax | None, str | None]:
        kind = _kind(path)
        if kind != _FILE:
            return None, f"Dockerfile {_shown(target.dockerfile)} {kind} ({_shown(path)})"
        try:
            with open(path, "rb") as file:
                if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # swapped since the stat
                    return None, f"Dockerfile {_shown(target.dockerfile)} is not a regular file"
                data = file.read()
        except (OSError, ValueError) as exc:
            return None, f"Dockerfile {_shown(target.dockerfile)} cannot be read: {_reason(exc)}"
        # Bytes, not universal newlines: a lone CR is no line break for BuildKit.
        return self.inline(data.decode("utf-8", errors="replace")), None

    def inline(self, text: str) -> DockerfileSyntax:
        syntax = self._by_text.get(text)
        if syntax is None:
            syntax = self._by_text[text] = dockerfile_syntax(text)
        return syntax


_FILE = "is a regular file"
_DIRECTORY = "is a directory"


def _kind(path: Path) -> str:
    """What is at path, said as the end of a sentence: _FILE, _DIRECTORY, or what is
    wrong (missing, another kind of file, a path the system refuses)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except (OSError, ValueError) as exc:  # no access, a NUL byte, a name too long, a loop
        return f"cannot be read: {_reason(exc)}"
    if stat.S_ISREG(mode):
        return _FILE
    if stat.S_ISDIR(mode):
        return _DIRECTORY
    return "is not a regular file (a FIFO, socket or device)"


def _shown(path: Path | str) -> str:
    """A path for a message: quoted, control characters escaped, at most 200 characters."""
    text = str(path)
    return repr(text if len(text) <= 200 else text[:200] + "...")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValueError):
        return "the path holds a NUL byte" if "null" in str(exc) else str(exc)
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _problem(project: Project, target: Target, key: str, message: str, hint: str) -> Problem:
    line = _line(project, target, key)
    return Problem(message, project.file, target.declared_as, key, line, hint)


def missing_inputs(project: Project, target: Target) -> list[Problem]:
    """The context directory, Dockerfile and local named contexts that do not exist or
    cannot be read."""
    problems: list[Problem] = []

    def missing(message: str, key: str, hint: str) -> None:
        problems.append(_problem(project, target, key, message, hint))

    context = project.context_dir(target)
    if context is not None:
        kind = _kind(context)
        if kind != _DIRECTORY:
            missing(
                f"context directory {_shown(target.context)} "
                f"{'is not a directory' if kind == _FILE else kind} ({_shown(context)})",
                "context",
                "paths are relative to the directory of buildgraph.toml",
            )
            return problems
    dockerfile = project.dockerfile_path(target)
    if dockerfile is not None:
        kind = _kind(dockerfile)
        if kind == "does not exist":
            missing(
                f"Dockerfile {_shown(target.dockerfile)} not found in context "
                f"{_shown(target.context)} ({_shown(dockerfile)})",
                "dockerfile",
                "`dockerfile` is relative to the context, as in bake; "
                "or write the Dockerfile inline with dockerfile-inline",
            )
        elif kind != _FILE:
            missing(
                f"Dockerfile {_shown(target.dockerfile)} {kind} ({_shown(dockerfile)})",
                "dockerfile",
                _READ_HINT,
            )
    for context_name, value in target.contexts.items():
        if not is_local_named_context(value):
            continue
        kind = _kind(project.local_path(value))
        if kind not in (_FILE, _DIRECTORY) and not kind.startswith("is not"):
            said = "does not exist" if kind == "does not exist" else kind
            missing(
                f"named context {context_name!r} points at {_shown(value)}, which {said}",
                "contexts",
                "local named contexts are relative to the directory of buildgraph.toml",
            )
    return problems


def _line(project: Project, target: Target, key: str) -> int | None:
    from buildgraph.projectfile.lines import locate_line

    if project.from_bake:  # bake's files are not TOML: its print tells no lines
        return None
    try:
        text = project.file.read_text(encoding="utf-8")
    except OSError:
        return None
    return locate_line(text, ["target", target.declared_as, key])
