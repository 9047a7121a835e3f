"""Which files feed which targets, for watch mode: an index from paths to targets.

A target's inputs are its context (minus what its .dockerignore excludes, matched as
BuildKit matches it), its Dockerfile wherever it is, its local named contexts, and the
`watch.paths` it declares; `watch.ignore` globs drop noise on top. Looking a changed path
up walks its parents through a dict of roots: the cost is the path's depth, not the number
of targets.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from buildgraph.dockerfiles.dockerignore import IgnoreRules
from buildgraph.model.project import Project, Target, is_local_path

CONTEXT = "context"
EXACT = "exact"  # a file or directory that feeds the target whatever .dockerignore says


@dataclass(frozen=True, slots=True)
class Root:
    target: str
    kind: str  # CONTEXT or EXACT
    path: Path
    rules: IgnoreRules | None = None  # for CONTEXT roots
    ignore: tuple[str, ...] = ()  # watch.ignore globs


def target_roots(project: Project, target: Target) -> list[Root]:
    """Every watched path of one target."""
    roots = []
    ignore = target.watch_ignore
    context = project.context_dir(target)
    dockerfile = project.dockerfile_path(target)
    if context is not None:
        rules = IgnoreRules.for_context(context, dockerfile)
        roots.append(Root(target.name, CONTEXT, context, rules, ignore))
    if dockerfile is not None:
        roots.append(Root(target.name, EXACT, dockerfile, None, ()))
        sibling = dockerfile.with_name(dockerfile.name + ".dockerignore")
        roots.append(Root(target.name, EXACT, sibling, None, ()))
    for value in target.contexts.values():
        if is_local_path(value):
            roots.append(Root(target.name, EXACT, project.local_path(value), None, ignore))
    for extra in target.watch_paths:
        roots.append(Root(target.name, EXACT, project.local_path(extra), None, ignore))
    return roots


def _ignored_by_globs(relative: PurePosixPath, globs: tuple[str, ...]) -> bool:
    text = relative.as_posix()
    return any(fnmatch.fnmatch(text, g) or relative.match(g) for g in globs)


class InputIndex:
    """Path -> the targets it is an input of."""

    def __init__(self, roots: Iterable[Root]) -> None:
        self._by_path: dict[Path, list[Root]] = {}
        for root in roots:
            root = replace(root, path=Path(_normal(root.path)))
            self._by_path.setdefault(root.path, []).append(root)

    @classmethod
    def of(cls, project: Project, names: Iterable[str]) -> InputIndex:
        return cls(r for n in names for r in target_roots(project, project.targets[n]))

    def targets_for(self, path: Path) -> set[str]:
        path = Path(_normal(path))
        found: set[str] = set()
        for ancestor in (path, *path.parents):
            for root in self._by_path.get(ancestor, ()):
                if root.target not in found and self._feeds(root, path):
                    found.add(root.target)
        return found

    @staticmethod
    def _feeds(root: Root, path: Path) -> bool:
        relative = PurePosixPath(path.relative_to(root.path).as_posix())
        if root.ignore and str(relative) != "." and _ignored_by_globs(relative, root.ignore):
            return False
        if root.kind == CONTEXT and root.rules is not None and str(relative) != ".":
            return not root.rules.excludes(relative.as_posix())
        return True

    def watch_paths(self) -> list[Path]:
        """The fewest existing paths that cover every root (nested ones dropped)."""
        paths = sorted(self._by_path, key=lambda p: len(p.parts))
        chosen: list[Path] = []
        covered: set[Path] = set()
        for path in paths:
            if any(parent in covered for parent in path.parents) or path in covered:
                continue
            target = path if _exists(path) else path.parent
            if _exists(target) and not any(p in covered for p in (target, *target.parents)):
                chosen.append(target)
                covered.add(target)
        return chosen


def _exists(path: Path) -> bool:
    """Whether something is at path; a path the system refuses (a name too long, no
    access, a NUL byte) holds nothing that can be watched, rather than an error."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _normal(path: Path) -> str:
    return os.path.normpath(os.path.abspath(path))
