"""Reading what the targets' files say: context directories and Dockerfiles.

The only module of the planning path that touches the disk; it returns plain data for the
pure graph code.
"""

from __future__ import annotations

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

    Every missing context directory, Dockerfile or local named context is an error."""
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
        inline = target.dockerfile_inline
        syntax = syntaxes.inline(inline) if inline is not None else syntaxes.file(target)
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


class _Syntaxes:
    """Each Dockerfile read and split once, however many targets build it."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._by_file: dict[tuple[str, str], DockerfileSyntax | None] = {}
        self._by_text: dict[str, DockerfileSyntax] = {}

    def file(self, target: Target) -> DockerfileSyntax | None:
        """The target's Dockerfile on disk; None if it has none or it cannot be read (which
        missing_inputs reports)."""
        key = (target.context, target.dockerfile)
        if key not in self._by_file:
            path = self.project.dockerfile_path(target)
            try:
                text = None if path is None else path.read_text("utf-8", errors="replace")
            except OSError:
                text = None
            self._by_file[key] = None if text is None else self.inline(text)
        return self._by_file[key]

    def inline(self, text: str) -> DockerfileSyntax:
        syntax = self._by_text.get(text)
        if syntax is None:
            syntax = self._by_text[text] = dockerfile_syntax(text)
        return syntax


def missing_inputs(project: Project, target: Target) -> list[Problem]:
    """The context directory, Dockerfile and local named contexts that do not exist."""
    problems: list[Problem] = []

    def missing(message: str, key: str, hint: str) -> None:
        problems.append(
            Problem(
                message, project.file, target.declared_as, key, _line(project, target, key), hint
            )
        )

    context = project.context_dir(target)
    if context is not None and not context.is_dir():
        missing(
            f"context directory {target.context!r} does not exist ({context})",
            "context",
            "paths are relative to the directory of buildgraph.toml",
        )
        return problems
    dockerfile = project.dockerfile_path(target)
    if dockerfile is not None and not dockerfile.is_file():
        missing(
            f"Dockerfile {target.dockerfile!r} not found in context {target.context!r} "
            f"({dockerfile})",
            "dockerfile",
            "`dockerfile` is relative to the context, as in bake; "
            "or write the Dockerfile inline with dockerfile-inline",
        )
    for context_name, value in target.contexts.items():
        if is_local_named_context(value) and not project.local_path(value).exists():
            missing(
                f"named context {context_name!r} points at {value!r}, which does not exist",
                "contexts",
                "local named contexts are relative to the directory of buildgraph.toml",
            )
    return problems


def _line(project: Project, target: Target, key: str) -> int | None:
    from buildgraph.projectfile.lines import locate_line

    try:
        text = project.file.read_text(encoding="utf-8")
    except OSError:
        return None
    return locate_line(text, ["target", target.declared_as, key])
