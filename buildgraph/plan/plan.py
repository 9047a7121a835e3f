"""The plan: which targets are built, in which waves and bake runs, and what becomes of each.

Pure and linear in the number of targets and edges: renderers and the runner only read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.graph.selection import Selection, default_names, select
from buildgraph.model.entries import ENTRY_KEYS, entry_error, entry_fields
from buildgraph.model.image_refs import normalize_ref
from buildgraph.model.project import TARGET_LINK, Project, Target

if TYPE_CHECKING:
    from buildgraph.graph.dag import BuildGraph


class OutputMode(Enum):
    DEFAULT = "default"  # each target's own `output`, else the builder's default
    PUSH = "push"
    LOAD = "load"

    @classmethod
    def of(cls, push: bool, load: bool) -> OutputMode:
        """The mode `--push` / `--load` ask for (argparse makes them exclusive)."""
        if push:
            return cls.PUSH
        return cls.LOAD if load else cls.DEFAULT


@dataclass(frozen=True, slots=True)
class PlannedTarget:
    target: Target
    wave: int  # 1-based: every dependency is in an earlier wave
    bake_run: int  # 1-based: dependencies bake cannot order are in earlier bake runs
    requested: bool
    needs: tuple[str, ...]  # direct dependencies
    needed_by: tuple[str, ...]  # direct dependents in the plan
    links: Mapping[str, str]  # named context -> dependency, written or wired by buildgraph
    wired: Mapping[str, str]  # the subset of links buildgraph adds for Dockerfile references
    output: str  # what happens to the result, in words
    outputs: tuple[Any, ...] = ()  # the output entries a build uses; () = the builder's default

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def reason(self) -> str:
        if self.requested:
            return "requested"
        return "needed by " + ", ".join(self.needed_by)


@dataclass(frozen=True, slots=True)
class Plan:
    project: Project
    names: tuple[str, ...]  # what the user asked for (targets or groups)
    targets: tuple[PlannedTarget, ...]  # in build order
    mode: OutputMode

    @property
    def waves(self) -> tuple[tuple[PlannedTarget, ...], ...]:
        return _grouped(self.targets, lambda p: p.wave)

    @property
    def bake_runs(self) -> tuple[tuple[PlannedTarget, ...], ...]:
        return _grouped(self.targets, lambda p: p.bake_run)

    def __getitem__(self, name: str) -> PlannedTarget:
        for planned in self.targets:
            if planned.name == name:
                return planned
        raise KeyError(name)


def _grouped(items: Sequence[PlannedTarget], key: Any) -> tuple[tuple[PlannedTarget, ...], ...]:
    buckets: dict[int, list[PlannedTarget]] = {}
    for item in items:
        buckets.setdefault(key(item), []).append(item)
    return tuple(tuple(buckets[k]) for k in sorted(buckets))


def make_plan(
    graph: BuildGraph, names: Iterable[str] = (), mode: OutputMode = OutputMode.DEFAULT
) -> Plan:
    """The plan for `names` (default: the `default` group, else every target)."""
    project = graph.project
    asked = tuple(names) or tuple(default_names(project))
    selection = select(graph, asked)
    requested = set(selection.requested)
    wave: dict[str, int] = {}
    bake_run: dict[str, int] = {}
    planned: list[PlannedTarget] = []
    problems: list[Problem] = []
    pushers: dict[str, str] = {}  # normalized reference -> the first target pushing it
    for name in selection.targets:  # topological order: dependencies come first
        target = project.targets[name]
        needs = graph.needs[name]
        if needs:
            edges = [graph.edges[(d, name)] for d in needs]
            wave[name] = 1 + max(wave[d] for d in needs)
            bake_run[name] = max(
                bake_run[e.dependency] if e.linked else bake_run[e.dependency] + 1 for e in edges
            )
            wired = {ref: e.dependency for e in edges for ref in e.refs}
        else:
            wave[name] = bake_run[name] = 1
            wired = {}
        links = {**_written_links(target), **wired} if target.contexts else wired
        if links:
            problems.extend(_platform_problems(project, target, links))
        if not ENTRY_KEYS.isdisjoint(target.attrs):
            unreadable = _entry_problems(project, target)
            if unreadable:  # nothing below could describe its entries
                problems.extend(unreadable)
                continue
        if mode is OutputMode.PUSH and not target.tags and not target.outputs and name in requested:
            problems.append(
                Problem(
                    "--push given, but the target has no tags to push to",
                    file=project.file,
                    target=target.declared_as,
                    key="tags",
                    hint='add tags = ["registry/name:tag"], or build it without --push',
                )
            )
        if name in requested or _read_back_by(graph, name, selection):
            outputs, output = outputs_for(target, mode), describe_output(target, mode)
        else:
            outputs, output = FOR_DEPENDENTS_ONLY, DESCRIBE_FOR_DEPENDENTS_ONLY
        if outputs:
            problems.extend(_push_conflicts(project, target, outputs, pushers))
        planned.append(
            PlannedTarget(
                target=target,
                wave=wave[name],
                bake_run=bake_run[name],
                requested=name in requested,
                needs=needs,
                needed_by=selection.needed_by[name],
                links=_read_only(links),
                wired=_read_only(wired),
                output=output,
                outputs=outputs,
            )
        )
    if problems:
        raise ConfigError(*problems)
    planned.sort(key=lambda p: p.wave)  # stable: keeps topological order within a wave
    return Plan(project, asked, tuple(planned), mode)


# A target nobody asked for is built for its dependents and exported nowhere, as bake
# builds a target it reaches only through `target:` links (buildx 0.16+ prints it so).
FOR_DEPENDENTS_ONLY = ("type=cacheonly",)
DESCRIBE_FOR_DEPENDENTS_ONLY = (
    "build cache only: not asked for, so built only for the targets that need it "
    "(as bake builds a dependency)"
)


def _read_back_by(graph: BuildGraph, name: str, selection: Selection) -> tuple[str, ...]:
    """The dependents in the selection that need `name` through an edge bake cannot see
    (`depends_on` with no `target:` link): they run in a later bake run (or build), and
    can read its result only from where it is exported, so it is exported though nobody
    asked for it."""
    return tuple(d for d in selection.needed_by[name] if not graph.edges[(name, d)].linked)


def read_back_note(name: str, dependents: Sequence[str]) -> str:
    """Why `name`, which nobody asked for, is exported: said by plan and render."""
    one = len(dependents) == 1
    return (
        f"{name} is exported though not asked for: {', '.join(dependents)} "
        f"need{'s' if one else ''} it through depends_on, which bake cannot see (no "
        f"target: link), so {'it reads' if one else 'they read'} it back from the registry "
        "or image store"
    )


def exports_nothing(outputs: Sequence[Any]) -> bool:
    """Whether a build with these output entries leaves nothing but build cache."""
    return bool(outputs) and all(entry_fields(e).get("type") == "cacheonly" for e in outputs)


def exported_unasked(plan: Plan) -> dict[str, tuple[str, ...]]:
    """The targets exported though not asked for, each with the dependents that read it
    back (see `_read_back_by`; here told by the dependents' links, which are the edges
    bake sees)."""
    by_name = {p.name: p for p in plan.targets}
    found = {}
    for planned in plan.targets:
        if planned.requested or exports_nothing(planned.outputs):
            continue
        found[planned.name] = tuple(
            d for d in planned.needed_by if planned.name not in by_name[d].links.values()
        )
    return found


_NO_LINKS: Mapping[str, str] = MappingProxyType({})  # read-only: one serves every target


def _read_only(links: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(links) if links else _NO_LINKS


def _written_links(target: Target) -> dict[str, str]:
    return {
        key: value[len(TARGET_LINK) :]
        for key, value in target.contexts.items()
        if value.startswith(TARGET_LINK)
    }


def _push_conflicts(
    project: Project, target: Target, outputs: Iterable[Any], pushers: dict[str, str]
) -> list[Problem]:
    """The references this target pushes that an earlier target of the plan pushes too:
    the registry would keep whichever finished last. Tags alone are no conflict: bake
    builds both, and only a push makes the loser's image vanish (a Dockerfile naming such
    a tag is refused by the graph)."""
    problems = []
    for ref in dict.fromkeys(normalize_ref(ref) for ref in _pushed_refs(target, outputs)):
        first = pushers.setdefault(ref, target.name)
        if first != target.name:
            problems.append(
                Problem(
                    f"targets {first!r} and {target.name!r} both push {ref!r}: the registry "
                    "would keep whichever finished last",
                    file=project.file,
                    target=target.declared_as,
                    key="tags",
                    hint="give each target its own tags (in a matrix, put the matrix values "
                    "in the tag)",
                )
            )
    return problems


def _pushed_refs(target: Target, outputs: Iterable[Any]) -> list[str]:
    """What an output pushes: its name= (comma-separated), else the target's tags."""
    refs: list[str] = []
    for entry in outputs:
        fields = entry_fields(entry)
        kind = fields.get("type")
        if kind == "registry" or (kind == "image" and fields.get("push") == "true"):
            names = [n.strip() for n in fields.get("name", "").split(",") if n.strip()]
            refs.extend(names or target.tags)
    return refs


def _entry_problems(project: Project, target: Target) -> list[Problem]:
    """The entries (output, cache-*, secret, ...) buildx could not read: said by key and
    position, never by their text, which may name a secret."""
    problems = []
    for key in sorted(ENTRY_KEYS.intersection(target.attrs)):
        for number, entry in enumerate(target.attrs[key], 1):
            error = entry_error(entry)
            if error is not None:
                problems.append(
                    Problem(
                        f"entry {number} of {key}: {error}",
                        file=project.file,
                        target=target.declared_as,
                        key=key,
                        hint=(
                            "remove the line break: each entry is one line, "
                            "as on buildx's command line"
                        ),
                    )
                )
    return problems


def _platform_problems(project: Project, target: Target, links: Mapping[str, str]) -> list[Problem]:
    """bake's rule: across a target: link with several platforms on both sides, the
    dependent's platforms must be a subset of its dependency's."""
    problems = []
    mine = target.platforms
    for context, dep_name in links.items():
        theirs = project.targets[dep_name].platforms
        if len(mine) > 1 and len(theirs) > 1 and not set(mine) <= set(theirs):
            missing = sorted(set(mine) - set(theirs))
            problems.append(
                Problem(
                    f"named context {context!r} uses target {dep_name!r}, built for "
                    f"{', '.join(theirs)}, but this target is built for {', '.join(mine)}",
                    file=project.file,
                    target=target.declared_as,
                    key="platforms",
                    hint=f"build {dep_name!r} for {', '.join(missing)} too, or drop "
                    f"{', '.join(missing)} from this target",
                )
            )
    return problems


def outputs_for(target: Target, mode: OutputMode) -> tuple[Any, ...]:
    """A target's own `output` wins over --push/--load, which apply to the others; a target
    with nothing to push (no tags) only feeds its dependents."""
    if target.outputs:
        return target.outputs
    if mode is OutputMode.PUSH:
        return ("type=registry",) if target.tags else ("type=cacheonly",)
    if mode is OutputMode.LOAD:
        return ("type=docker",)
    return ()


def describe_output(target: Target, mode: OutputMode) -> str:
    """What becomes of a target's result, said plainly: never a silent cache-only build."""
    if target.outputs:
        return "; ".join(_describe_entry(entry) for entry in target.outputs)
    if mode is OutputMode.PUSH:
        if not target.tags:
            return "build cache only: no tags to push (its dependents use it)"
        return "pushed to " + ", ".join(target.tags)
    if mode is OutputMode.LOAD:
        where = ", ".join(target.tags) or "an untagged image"
        return f"loaded into the local image store as {where}"
    return (
        "no output set: the docker driver stores the image locally; a docker-container "
        "builder keeps it only in its build cache (use --push or --load)"
    )


def _describe_entry(entry: Any) -> str:
    fields = entry_fields(entry)
    kind = fields.get("type", "?")
    dest = fields.get("dest")
    if kind == "registry" or (kind == "image" and fields.get("push") == "true"):
        return "pushed (output type=registry)"
    if kind in ("docker", "image"):
        return f"stored as an image (output type={kind})"
    if kind == "cacheonly":
        return "build cache only (output type=cacheonly)"
    if dest:
        return f"written to {dest} (output type={kind})"
    return f"output type={kind}"
