"""`--set PATTERN.KEY=VALUE` (and `+=`): bake's override syntax, on resolved targets.

The rules are bake's (buildx's `newOverrides` and `Target.AddOverrides`): PATTERN is a
target name or a glob over target names (`*`, `app-*`); list keys take one value per
`--set`, replacing the list, or adding to it with `+=`; map keys name their entry
(`args.NAME`, `labels.NAME`, `contexts.NAME`, `extra-hosts.NAME`); `args.NAME` with no
value takes NAME from the environment, or is skipped when it is unset; `push` and `load`
turn the image's push or load on or off. Overrides apply in the order given, after every
template is rendered, as bake applies them after evaluating its file. A bake or Compose
definition gets its `--set` flags from bake itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from types import MappingProxyType
from typing import Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.model.entries import entry_error, entry_fields, entry_text
from buildgraph.model.project import Project, freeze

# Key -> the attribute it sets, by kind (bake's own names; `platform` and `secrets` are
# bake's override spellings of `platforms` and `secret`).
_STRINGS = {
    "context": "context",
    "dockerfile": "dockerfile",
    "target": "target",
    "call": "call",
    "shm-size": "shm-size",
    "network": "network",
}
_MAPS = {"args": "args", "labels": "labels", "contexts": "contexts", "extra-hosts": "extra-hosts"}
_LISTS = {
    "tags": "tags",
    "platform": "platforms",
    "no-cache-filter": "no-cache-filter",
    "ulimits": "ulimits",
}
_ENTRIES = {
    "output": "output",
    "cache-from": "cache-from",
    "cache-to": "cache-to",
    "secrets": "secret",
    "ssh": "ssh",
    "policy": "policy",
}
_ALWAYS_APPENDED = {
    "entitlements": "entitlements",
    "annotations": "annotations",
    "attest": "attest",
}
_BOOLS = {"no-cache": "no-cache", "pull": "pull"}
_OUTPUT_SWITCHES = ("push", "load")
KEYS = sorted(
    [*_STRINGS, *_MAPS, *_LISTS, *_ENTRIES, *_ALWAYS_APPENDED, *_BOOLS, *_OUTPUT_SWITCHES]
)
# strconv.ParseBool's spellings.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_HINT = "e.g. --set 'app.tags=registry/app:1', --set '*.platform=linux/arm64', --set app.args.V=2"


@dataclass(frozen=True, slots=True)
class Override:
    """One `--set`: which targets, which key (and map entry), the value, whether `+=`."""

    number: int  # its place among the --set flags, for messages (its text may be a secret)
    pattern: str
    key: str
    entry: str | None
    value: str | None  # None: `args.NAME` given no value
    append: bool


def parse_overrides(texts: Sequence[str]) -> list[Override]:
    """The `--set` flags, each checked; ConfigError naming every bad one."""
    parsed, problems = [], []
    for number, text in enumerate(texts, start=1):
        try:
            parsed.append(_parse(number, text))
        except ValueError as exc:
            problems.append(Problem(f"--set number {number}: {exc}", hint=_HINT))
    if problems:
        raise ConfigError(*problems)
    return parsed


def _parse(number: int, text: str) -> Override:
    left, has_value, value = text.partition("=")
    append = left.endswith("+")
    parts = left.removesuffix("+").split(".", 2)
    if len(parts) < 2 or not parts[0]:
        raise ValueError("it must be TARGET.KEY=VALUE (TARGET may be a pattern like '*')")
    pattern, key, entry = parts[0], parts[1], parts[2] if len(parts) == 3 else None
    if key not in KEYS:
        raise ValueError(f"unknown key {key!r}; bake's are {', '.join(KEYS)}")
    if key in _MAPS and not entry:
        raise ValueError(f"{key} needs a name: {key}.NAME=VALUE")
    if key not in _MAPS and entry is not None:
        raise ValueError(f"{key} takes no name after it")
    if append and key not in (*_LISTS, *_ENTRIES, *_ALWAYS_APPENDED):
        raise ValueError(f"{key} does not take +=")
    if not has_value and key != "args":
        raise ValueError("it has no '=': it must be TARGET.KEY=VALUE")
    if key in (*_BOOLS, *_OUTPUT_SWITCHES) and value not in _TRUE | _FALSE:
        raise ValueError(f"{key} takes true or false")
    if key in _ENTRIES and entry_error(value):
        raise ValueError(f"{key}: an entry holds a line break")
    return Override(number, pattern, key, entry, value if has_value else None, append)


def apply_overrides(
    project: Project, overrides: Sequence[Override], environ: Mapping[str, str]
) -> Project:
    """`project` with each override applied to the targets its pattern matches."""
    if not overrides:
        return project
    attrs = {name: dict(target.attrs) for name, target in project.targets.items()}
    problems = []
    # As bake gathers them: per target and key, the values of every flag in order, and
    # whether the last one said `+=`.
    gathered: dict[tuple[str, str, str | None], list[Override]] = {}
    for override in overrides:
        names = matched(override.pattern, list(project.targets))
        if not names:
            problems.append(
                Problem(
                    f"--set number {override.number}: no target matches {override.pattern!r}",
                    file=project.file,
                    hint="a target name, or a pattern such as '*' or 'app-*'",
                )
            )
        for name in names:
            gathered.setdefault((name, override.key, override.entry), []).append(override)
    if problems:
        raise ConfigError(*problems)
    for (name, _, _), flags in gathered.items():
        _apply(attrs[name], flags, environ)
    targets = {
        name: replace(target, attrs=freeze(attrs[name])) for name, target in project.targets.items()
    }
    return replace(project, targets=MappingProxyType(targets))


def matched(pattern: str, names: list[str]) -> list[str]:
    """bake's expandTargets: the target of that name, else those the glob matches."""
    if pattern in names:
        return [pattern]
    return [name for name in names if fnmatchcase(name, pattern)]


def _apply(attrs: dict[str, Any], flags: list[Override], environ: Mapping[str, str]) -> None:
    """The `--set` flags of one key of one target."""
    last = flags[-1]
    key, value = last.key, last.value
    if key in _STRINGS:
        attrs[_STRINGS[key]] = value
    elif key in _MAPS:
        if value is None:  # args.NAME alone: from the environment, as bake does
            value = environ.get(last.entry or "")
            if value is None:
                return
        table = dict(attrs.get(_MAPS[key]) or {})
        table[last.entry] = value
        attrs[_MAPS[key]] = table
    elif key in _BOOLS:
        attrs[_BOOLS[key]] = value in _TRUE
    elif key in _OUTPUT_SWITCHES:
        attrs["output"] = _switched(list(attrs.get("output") or ()), key, value in _TRUE)
    else:
        name = {**_LISTS, **_ENTRIES, **_ALWAYS_APPENDED}[key]
        values: list[Any] = []
        for flag in flags:
            if key == "platform":  # bake splits platforms at the comma when it builds
                values.extend(p.strip() for p in (flag.value or "").split(",") if p.strip())
            else:
                values.append(flag.value)
        appended = last.append or key in _ALWAYS_APPENDED
        attrs[name] = [*(attrs.get(name) or ()), *values] if appended else values


def _switched(outputs: list[Any], key: str, on: bool) -> list[Any]:
    """bake's setPushOverride / setLoadOverride, on `output` entries, written as CSV text
    (which every buildx reads)."""
    return [entry_text(fields) for fields in _switched_fields(outputs, key, on)]


def _switched_fields(outputs: list[Any], key: str, on: bool) -> list[dict[str, str]]:
    fields = [entry_fields(entry) for entry in outputs]
    if key == "push":
        if not on:
            kept = [f for f in fields if f.get("type") != "registry"]
            return [{**f, "push": "false"} if f.get("type") == "image" else f for f in kept]
        pushed = [{**f, "push": "true"} if f.get("type") == "image" else f for f in fields]
        if all(f.get("type") == "docker" for f in fields):
            pushed.append({"type": "image", "push": "true"})
        return pushed
    if not on:
        return fields
    for f in fields:
        if f.get("type") == "docker" and not f.get("dest"):
            return fields  # already loads
        if f.get("type") not in ("docker", "image", "registry", "oci"):
            return fields  # an export of another kind: bake adds no load then
    return [*fields, {"type": "docker"}]
