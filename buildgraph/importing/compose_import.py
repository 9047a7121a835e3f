"""Compose services' `build:` sections (and `x-bake`) as buildgraph targets, as bake
(buildx 0.29's bake/compose.go, through compose-go) makes targets of them.

Each service with `build:` is a target (`.` in its name is `_`), all of them the group
`default`. Several files merge as compose-go merges them (mappings key by key, lists
appended, `args`/`labels`/`additional_contexts` entry by entry, `!reset`/`!override`).
Compose's interpolation (`${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR?err}`,
`$$`) is not evaluated: each variable becomes a buildgraph variable read from the
environment as bake reads it (its default the `.env` value of bake's working folder, else
unset or empty as the file needs), each string a Jinja template. Paths are as written,
relative to bake's working folder, rebased when the output goes elsewhere. What has no
translation is reported with its file and line, never dropped silently."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.importing.bake_import import is_special_path
from buildgraph.importing.expressions import bake_printed, jinja_text, string_literal
from buildgraph.importing.report import (
    APPROXIMATE,
    DEFAULT,
    MERGED,
    REBASED,
    UNTRANSLATABLE,
    Decision,
)
from buildgraph.model.names import is_target_name

if TYPE_CHECKING:
    from buildgraph.importing.bake_import import Imported

# Interpolation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    op: str = ""  # "" (plain), ":-", "-", ":+", "+", ":?", "?"
    arg: tuple[Text | Variable, ...] = ()


Part = Text | Variable


class InterpolationError(ValueError):
    """A `${...}` compose-go refuses ("Invalid template")."""


_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
# compose-go's braced substitution, matched on the rest of the line (its `.` stops there).
_BRACED = re.compile(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?::?[-+?](.*))?\}")
_OPS = (":-", ":+", ":?", "-", "+", "?")


def interpolation(text: str) -> tuple[Part, ...]:
    """The parts of a Compose string as compose-go's template package reads it: `$$` is a
    `$`, `$NAME` and `${NAME...}` variables, a `$` before anything else itself."""
    parts: list[Part] = []
    buffer: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$":
            buffer.append(char)
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            buffer.append("$")
            i += 2
            continue
        named = _NAME.match(text, i + 1)
        if following != "{" and named is None:
            buffer.append("$")
            i += 1
            continue
        if buffer:
            parts.append(Text("".join(buffer)))
            buffer = []
        if named is not None:
            parts.append(Variable(named.group()))
            i = named.end()
            continue
        variable, i = _braced(text, i)
        parts.append(variable)
    if buffer:
        parts.append(Text("".join(buffer)))
    return tuple(parts)


def _braced(text: str, start: int) -> tuple[Variable, int]:
    """The `${...}` at `start` and the index after it (its first balanced `}`)."""
    line_end = text.find("\n", start)
    line = text[start : len(text) if line_end < 0 else line_end]
    match = _BRACED.match(line)
    if match is None:
        raise InterpolationError(f"invalid interpolation: {line[:40]!r}")
    end = _closing_brace(match.group())
    inside = match.group()[2 : end if end >= 0 else len(match.group()) - 1]
    name = _NAME.match(inside)
    assert name is not None  # the pattern matched a name there
    rest = inside[name.end() :]
    op = next((o for o in _OPS if rest.startswith(o)), "")
    if not op and rest:
        raise InterpolationError(f"invalid interpolation: {line[:40]!r}")
    arg = interpolation(rest[len(op) :]) if op else ()
    length = (end + 1) if end >= 0 else len(match.group())
    return Variable(name.group(), op, arg), start + length


def _closing_brace(text: str) -> int:
    """compose-go's getFirstBraceClosingIndex: a `{` skips the character after it."""
    depth = 0
    i = 0
    while i < len(text):
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        if text[i] == "{":
            depth += 1
            i += 1
        i += 1
    return -1


def variables_of(parts: tuple[Part, ...]) -> list[Variable]:
    """Every variable of the parts, nested ones too."""
    found: list[Variable] = []
    for part in parts:
        if isinstance(part, Variable):
            found.append(part)
            found.extend(variables_of(part.arg))
    return found


def variable_expression(variable: Variable, nullable: frozenset[str]) -> str:
    """A Jinja expression with the variable's value as compose-go substitutes it; a
    nullable variable is `none` while unset (the forms without `:` tell unset from
    empty), the others are "" then."""
    name, op = variable.name, variable.op
    null = name in nullable
    plain = f"({name} or '')" if null else name
    arg = wrapped(parts_expression(variable.arg, nullable))
    if op in ("", ":?", "?"):
        return plain
    if op == ":-":
        return f"({name} or {arg})"
    if op == "-":
        return f"({name} if {name} is not none else {arg})" if null else name
    if op == ":+":
        return f"({arg} if {name} else '')"
    return f"({arg} if {name} is not none else '')" if null else arg  # "+"


def parts_expression(parts: tuple[Part, ...], nullable: frozenset[str]) -> str:
    """One Jinja expression joining the parts (`~`)."""
    pieces = [
        string_literal(p.text) if isinstance(p, Text) else variable_expression(p, nullable)
        for p in parts
    ]
    if not pieces:
        return "''"
    return pieces[0] if len(pieces) == 1 else " ~ ".join(wrapped(p) for p in pieces)


def wrapped(expression: str) -> str:
    if _NAME.fullmatch(expression) or (expression.startswith("(") and _balanced(expression)):
        return expression
    if re.fullmatch(r"'(?:[^'\\]|\\.)*'", expression):
        return expression
    return f"({expression})"


def _balanced(expression: str) -> bool:
    """Whether the parenthesis opening `expression` closes at its end."""
    depth = 0
    quote = False
    escaped = False
    for index, char in enumerate(expression):
        if quote:
            escaped = not escaped and char == "\\"
            quote = char != "'" or escaped
            continue
        if char == "'":
            quote = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index == len(expression) - 1
    return False


def template_text(parts: tuple[Part, ...], nullable: frozenset[str]) -> str:
    """The parts as a buildgraph template: text as it is (escaped for Jinja), each
    variable a `{{ ... }}`."""
    out: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, Variable):
            inner = variable_expression(part, nullable)
            if inner.startswith("(") and _balanced(inner):
                inner = inner[1:-1]
            out.append("{{ " + inner + " }}")
            continue
        text = jinja_text(part.text)
        if text.endswith("{") and index + 1 < len(parts):
            text = text[:-1] + "{{ '{' }}"  # a `{` before `{{` would open it
        out.append(text)
    return "".join(out)


# YAML --------------------------------------------------------------------------------


class Located(str):
    """A YAML string that knows its line."""

    line: int

    def __new__(cls, text: str, line: int) -> Located:
        made = super().__new__(cls, text)
        made.line = line
        return made


class LocatedMap(dict[str, Any]):
    """A YAML mapping that knows its line and each key's."""

    line: int
    lines: dict[str, int]


@dataclass(frozen=True, slots=True)
class Reset:
    """Compose's `!reset`: the value removed."""

    line: int


@dataclass(frozen=True, slots=True)
class Override:
    """Compose's `!override`: the value replaces, never merges."""

    value: Any


def load_yaml(path: Path) -> Any:
    """A Compose file's data, strings and mappings knowing their lines, scalars read as
    compose-go's YAML (YAML 1.2's booleans: `yes` stays text)."""
    import yaml

    class Loader(yaml.SafeLoader):
        yaml_implicit_resolvers: dict[Any, Any] = {}

    def resolver(tag: str, pattern: str, first: str) -> None:
        Loader.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))

    resolver("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
    resolver(
        "tag:yaml.org,2002:int",
        r"^(?:[-+]?0b[0-1]+|[-+]?0o?[0-7]+|[-+]?(?:0|[1-9][0-9]*)|[-+]?0x[0-9a-fA-F]+)$",
        "-+0123456789",
    )
    resolver(
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    )
    resolver("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN\0")
    Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
    resolver("tag:yaml.org,2002:merge", r"^(?:<<)$", "<")

    def string(loader: Loader, node: Any) -> Located:
        return Located(loader.construct_scalar(node), node.start_mark.line + 1)

    def integer(loader: Loader, node: Any) -> int:
        text = str(loader.construct_scalar(node)).lower()
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        if digits.startswith("0b"):
            return sign * int(digits[2:], 2)
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if len(digits) > 1 and digits.startswith("0"):
            return sign * int(digits, 8)
        return sign * int(digits)

    def mapping(loader: Loader, node: Any) -> LocatedMap:
        loader.flatten_mapping(node)
        out = LocatedMap()
        out.line = node.start_mark.line + 1
        out.lines = {}
        for key_node, value_node in node.value:
            key = str(loader.construct_object(key_node, deep=True))
            out[key] = loader.construct_object(value_node, deep=True)
            out.lines[key] = key_node.start_mark.line + 1
        return out

    def reset(loader: Loader, node: Any) -> Reset:
        return Reset(node.start_mark.line + 1)

    def override(loader: Loader, node: Any) -> Override:
        if isinstance(node, yaml.MappingNode):
            return Override(mapping(loader, node))
        if isinstance(node, yaml.SequenceNode):
            return Override(loader.construct_sequence(node, deep=True))
        return Override(
            loader.construct_object(
                yaml.ScalarNode("tag:yaml.org,2002:str", node.value, node.start_mark, node.end_mark)
            )
        )

    Loader.add_constructor("tag:yaml.org,2002:str", string)
    Loader.add_constructor("tag:yaml.org,2002:int", integer)
    Loader.add_constructor("tag:yaml.org,2002:map", mapping)
    Loader.add_constructor("!reset", reset)
    Loader.add_constructor("!override", override)
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError.one(f"cannot read the file: {error.strerror}", file=path) from None
    try:
        return yaml.load(text, Loader=Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(
            Problem(
                f"not valid YAML: {getattr(error, 'problem', None) or error}",
                file=path,
                line=mark.line + 1 if mark is not None else None,
                hint="a Compose file is YAML: check the indentation and quoting there",
            )
        ) from None


# Merging -----------------------------------------------------------------------------

_AS_SEQUENCE = ("args", "labels", "additional_contexts", "environment")


def merged(base: Any, other: Any, path: tuple[str, ...]) -> Any:
    """`other` over `base`, as compose-go's override.Merge."""
    if isinstance(other, Override):
        return strip_markers(other.value)
    if isinstance(other, Reset):
        return None
    if len(path) == 2 and path[0] == "services" and path[1] and other is None:
        return base
    if path[-1:] == ("build",) and len(path) == 3:
        return merged_mappings(as_build(base), as_build(other), path)
    if len(path) == 4 and path[2] == "build" and path[3] in _AS_SEQUENCE[:3]:
        return [*as_sequence(base), *as_sequence(other)]
    if len(path) == 3 and path[2] == "environment":
        return [*as_sequence(base), *as_sequence(other)]
    if len(path) == 4 and path[2] == "build" and path[3] == "extra_hosts":
        old = as_sequence(base)
        return [*old, *(v for v in as_sequence(other) if v not in old)]
    if len(path) == 5 and path[3] == "ulimits":
        return strip_markers(other)
    if other is None:
        return base
    if isinstance(base, dict) and isinstance(other, dict):
        return merged_mappings(base, other, path)
    if isinstance(base, list) and isinstance(other, list):
        return [*base, *strip_markers(other)]
    return strip_markers(other)


def merged_mappings(base: dict[str, Any], other: dict[str, Any], path: tuple[str, ...]) -> Any:
    out = LocatedMap(base)
    out.line = getattr(base, "line", 0)
    out.lines = {**getattr(base, "lines", {}), **getattr(other, "lines", {})}
    for key, value in other.items():
        if isinstance(value, Reset):
            out.pop(key, None)
        elif key in out:
            out[key] = merged(out[key], value, (*path, key))
        else:
            out[key] = strip_markers(value)
    return out


def strip_markers(value: Any) -> Any:
    """A value of one file as compose-go keeps it: `!reset` keys gone, `!override` its
    value."""
    if isinstance(value, Override):
        return strip_markers(value.value)
    if isinstance(value, dict):
        out = LocatedMap(
            {k: strip_markers(v) for k, v in value.items() if not isinstance(v, Reset)}
        )
        out.line = getattr(value, "line", 0)
        out.lines = getattr(value, "lines", {})
        return out
    if isinstance(value, list):
        return [strip_markers(v) for v in value if not isinstance(v, Reset)]
    return None if isinstance(value, Reset) else value


def as_build(value: Any) -> dict[str, Any]:
    """`build: ./dir` is `build: {context: ./dir}`."""
    if isinstance(value, str):
        out = LocatedMap({"context": value})
        out.line = getattr(value, "line", 0)
        out.lines = {"context": out.line}
        return out
    return value if isinstance(value, dict) else LocatedMap()


def as_sequence(value: Any) -> list[Any]:
    """A mapping as compose-go's `KEY=VALUE` sequence (sorted; `KEY` for null)."""
    if isinstance(value, dict):
        items: list[Any] = []
        for key, item in value.items():
            line = getattr(value, "lines", {}).get(key, getattr(value, "line", 0))
            if item is None:
                items.append(Located(key, line))
            elif isinstance(item, list):
                items.extend(_joined_entry(key, v, line) for v in item)
            else:
                items.append(_joined_entry(key, item, line))
        return sorted(items)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, str):
        return [value]
    return []


def _joined_entry(key: str, value: Any, line: int) -> Located:
    text = value if isinstance(value, str) else go_text(value)
    return located(f"{key}={text}", value, line)


def key_at(mapping: Any, key: str) -> Located:
    """A mapping's key at its own line (and the mapping's file)."""
    return located(key, mapping, getattr(mapping, "lines", {}).get(key, 0))


def located(text: str, like: Any, line: int = 0) -> Located:
    """`text` at the file and line of `like` (a Located, or a mapping)."""
    made = Located(text, line or getattr(like, "line", 0))
    if hasattr(like, "file"):
        made.file = like.file  # type: ignore[attr-defined]
    return made


def go_text(value: Any) -> str:
    """A YAML scalar as compose-go prints it into a string (Go's `%v`)."""
    if isinstance(value, bool | int):
        return bake_printed(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


# Translation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComposeValue:
    """A string of a Compose file translated: plain text, or a template."""

    parts: tuple[Part, ...]

    @property
    def literal(self) -> str | None:
        if all(isinstance(p, Text) for p in self.parts):
            return "".join(p.text for p in self.parts if isinstance(p, Text))
        return None


_IGNORED_BUILD_KEYS = ("isolation", "privileged", "entitlements")
_XBAKE_LISTS = (
    "tags",
    "cache-from",
    "cache-to",
    "secret",
    "ssh",
    "platforms",
    "output",
    "no-cache-filter",
)
_XBAKE_KEYS = (*_XBAKE_LISTS, "pull", "no-cache", "contexts")
_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_SIZE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def import_compose(files: tuple[Path, ...], cwd: Path, out_dir: Path, into: Imported) -> None:
    """The targets (and variables) bake makes of Compose `files`, read from bake's
    working folder `cwd`, into `into`."""
    model: Any = None
    for number, path in enumerate(files):
        data = load_yaml(path)
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ConfigError.one("a Compose file is a mapping", file=path, hint="services: ...")
        data = _with_file(data, path)
        if model is not None:
            into.decisions.append(
                Decision(
                    MERGED,
                    path.name,
                    "merged over the earlier files, as compose-go merges",
                    path,
                    None,
                )
            )
        model = strip_markers(data) if number == 0 or model is None else merged(model, data, ())
    if model is None:
        raise ConfigError.one("empty compose file", file=files[0], hint="bake refuses it too")
    _ComposeTranslator(into, model, files, cwd, out_dir).run()


def _with_file(data: Any, path: Path) -> Any:
    """Every located string and mapping told its file (the loader knows lines only)."""
    if isinstance(data, Located):
        data.file = path  # type: ignore[attr-defined]
    elif isinstance(data, dict):
        data.file = path  # type: ignore[attr-defined]
        for value in data.values():
            _with_file(value, path)
    elif isinstance(data, list):
        for value in data:
            _with_file(value, path)
    elif isinstance(data, Override):
        _with_file(data.value, path)
    return data


@dataclass
class _ComposeTranslator:
    result: Imported
    model: dict[str, Any]
    files: tuple[Path, ...]
    cwd: Path
    out_dir: Path
    nullable: frozenset[str] = frozenset()
    dotenv: dict[str, str] = field(default_factory=dict)
    used: dict[str, Located | None] = field(default_factory=dict)
    required: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def rebase(self) -> str:
        return os.path.relpath(self.cwd, self.out_dir) if self.cwd != self.out_dir else ""

    def decide(
        self, kind: str, construct: str, detail: str, at: Any = None, where: str | None = None
    ) -> None:
        file = getattr(at, "file", None) or self.files[0]
        line = getattr(at, "line", None) if at is not None else None
        self.result.decisions.append(Decision(kind, construct, detail, file, line, where))

    def run(self) -> None:
        for key in self.model:
            if key in ("include",):
                self.decide(
                    UNTRANSLATABLE,
                    key,
                    "compose's include is not followed",
                    key_at(self.model, key),
                    None,
                )
        self.dotenv = self.read_dotenv()
        services = self.model.get("services") or {}
        if not isinstance(services, dict):
            raise ConfigError.one("services is a mapping", file=self.files[0])
        self.nullable = self.nullable_names(services)
        targets: list[str] = []
        for name, service in services.items():
            target = self.service(name, service if isinstance(service, dict) else {})
            if target is not None:
                targets.append(target)
        if services:
            self.result.groups["default"] = {"targets": sorted(targets)}
            self.decide(
                DEFAULT,
                "group 'default'",
                "every service with build:, as bake groups them",
                services,
                "group 'default'",
            )
        self.write_variables()

    # Variables -------------------------------------------------------------------

    def read_dotenv(self) -> dict[str, str]:
        """The `.env` of bake's working folder (bake reads it there, not beside the file)."""
        path = self.cwd / ".env"
        if not path.is_file():
            return {}
        values: dict[str, str] = {}
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            entry = dotenv_entry(raw)
            if entry is None:
                continue
            name, value = entry
            if "$" in value:
                self.decide(
                    APPROXIMATE,
                    f"{name}=...",
                    "interpolation inside .env is kept as text",
                    Located(raw, number),
                    ".env",
                )
            values.setdefault(name, value)
        return values

    def nullable_names(self, services: dict[str, Any]) -> frozenset[str]:
        """Variables whose being unset differs from their being empty (a `-`, `+` or `?`
        form without `:`, an arg with no value) and that .env does not set."""
        found: set[str] = set()
        for service in services.values():
            if not isinstance(service, dict):
                continue
            for text in strings_in({k: service.get(k) for k in ("image", "build", "environment")}):
                try:
                    parts = interpolation(text)
                except InterpolationError:
                    continue
                found.update(v.name for v in variables_of(parts) if v.op in ("-", "+", "?"))
            found.update(self.valueless_args(service))
        return frozenset(found - set(self.dotenv))

    def valueless_args(self, service: dict[str, Any]) -> list[str]:
        build = service.get("build")
        if not isinstance(build, dict):
            return []
        names = [str(e) for e in as_sequence(build.get("args")) if "=" not in str(e)]
        valued = {
            str(e).partition("=")[0]
            for e in as_sequence(service.get("environment"))
            if "=" in str(e)
        }
        return [n for n in names if n not in valued]

    def value(self, raw: Any, where: str) -> ComposeValue | None:
        """A Compose scalar interpolated as compose-go does; None where it cannot be."""
        text = raw if isinstance(raw, str) else go_text(raw)
        try:
            parts = interpolation(text)
        except InterpolationError as error:
            self.decide(UNTRANSLATABLE, text[:60], f"{error} (bake refuses the file)", raw, where)
            return None
        for variable in variables_of(parts):
            self.use(variable, raw, where)
        return ComposeValue(parts)

    def use(self, variable: Variable, at: Any, where: str) -> None:
        name = variable.name
        self.used.setdefault(name, at if isinstance(at, Located) else None)
        if variable.op in (":?", "?"):
            message = template_text(variable.arg, self.nullable) if variable.arg else ""
            self.required.setdefault(name, (variable.op, message))

    def text(self, raw: Any, where: str) -> str | None:
        """A Compose string as a buildgraph template."""
        value = self.value(raw, where)
        if value is None:
            return None
        if value.literal is not None:
            return jinja_text(value.literal)
        return template_text(value.parts, self.nullable)

    def unless_empty(self, raw: Any, where: str) -> str | None:
        """A string bake leaves out when it is empty (context, dockerfile, target, ...):
        a template yields none then."""
        value = self.value(raw, where)
        if value is None:
            return None
        if value.literal is not None:
            return jinja_text(value.literal) if value.literal else None
        inner = parts_expression(value.parts, self.nullable)
        return "{{ " + wrapped(inner) + " or none }}"

    def write_variables(self) -> None:
        for name, at in sorted(self.used.items()):
            table: dict[str, Any] = {}
            if name in self.dotenv:
                table["default"] = jinja_text(self.dotenv[name])
                detail = "the value of .env, as bake reads it when the environment has none"
            elif name in self.nullable:
                table["default"] = "{{ none }}"
                detail = "unset (none) unless the environment sets it, as compose reads it"
            else:
                table["default"] = ""
                detail = "empty unless the environment sets it (compose warns and uses '')"
            required = self.required.get(name)
            if required is not None:
                op, message = required
                table["validation"] = [
                    {
                        "condition": f"({name} or '') != ''"
                        if op == ":?"
                        else f"{name} is not none",
                        "message": message or f"required variable {name} is missing a value",
                    }
                ]
            if name in self.result.variables:
                self.decide(MERGED, name, "also a variable of a bake file: that one wins", at)
                continue
            self.result.variables[name] = table
            if at is not None and hasattr(at, "file"):
                self.result.origins[("variables", name)] = self.origin(at)
            self.decide(DEFAULT, f"${{{name}}}", detail, at, f"variable {name!r}")

    # Services --------------------------------------------------------------------

    def service(self, name: str, service: dict[str, Any]) -> str | None:
        build = service.get("build")
        for key in ("extends",):
            if key in service:
                self.decide(
                    UNTRANSLATABLE,
                    key,
                    "compose's extends is not followed",
                    key_at(service, key),
                    f"service {name!r}",
                )
        if build is None:
            return None
        build = as_build(build)
        target = name.replace(".", "_")
        where = f"target {target!r}"
        if not is_target_name(target):
            self.decide(
                UNTRANSLATABLE,
                name,
                "not a valid target name (bake refuses the service too)",
                service,
                where,
            )
            return None
        if target != name:
            self.decide(DEFAULT, name, f"is the target {target}, as bake names it", service, where)
        table: dict[str, Any] = {}
        self.build_keys(table, build, service, where)
        self.xbake(table, build.get("x-bake"), where)
        if not table.get("tags") and service.get("image") is not None:
            image = self.unless_empty(service["image"], f"{where}, image")
            if image is not None:
                table["tags"] = [image]
        self.default_context(table, where)
        self.result.targets[target] = table
        self.result.origins[("target", target)] = self.origin(build)
        return target

    def build_keys(
        self, table: dict[str, Any], build: dict[str, Any], service: dict[str, Any], where: str
    ) -> None:
        for key, raw in build.items():
            at = f"{where}, key {key!r}"
            handler = getattr(self, "build_" + key, None)
            if key.startswith("x-"):
                if key != "x-bake":
                    self.decide(
                        APPROXIMATE,
                        key,
                        "an extension bake ignores: left out",
                        key_at(build, key),
                        at,
                    )
                continue
            if key in _IGNORED_BUILD_KEYS:
                self.decide(APPROXIMATE, key, "bake ignores it: left out", key_at(build, key), at)
                continue
            if handler is None:
                self.decide(
                    UNTRANSLATABLE, key, "no translation of this build key", key_at(build, key), at
                )
                continue
            handler(table, raw, service, at)

    def build_context(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        value = self.unless_empty(raw, at)
        if value is not None:
            table["context"] = self.rebased_path(value, raw, at)

    def build_dockerfile(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put(table, "dockerfile", self.unless_empty(raw, at))

    def build_dockerfile_inline(self, table: dict[str, Any], raw: Any, _s: Any, at: str) -> None:
        self.put(table, "dockerfile-inline", self.unless_empty(raw, at))

    def build_target(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put(table, "target", self.unless_empty(raw, at))

    def build_network(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put(table, "network", self.unless_empty(raw, at))

    def build_args(self, table: dict[str, Any], raw: Any, service: dict[str, Any], at: str) -> None:
        environment = dict(self.entries(service.get("environment"), f"{at}, environment"))
        args: dict[str, Any] = {}
        for key, value in self.entries(raw, at):
            if value is None:
                value = environment.get(key)
            if value is None:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                    self.decide(
                        UNTRANSLATABLE,
                        key,
                        "an arg taken from the environment needs "
                        "a name buildgraph's variables can have",
                        raw,
                        at,
                    )
                    continue
                self.used.setdefault(key, raw if isinstance(raw, Located) else None)
                if "env_file" in service:
                    self.decide(
                        APPROXIMATE,
                        key,
                        "taken from the environment; the service's env_file is not read for it",
                        raw,
                        at,
                    )
                args[key] = "{{ " + key + " }}"  # none (unset): bake passes no such arg
                continue
            args[key] = value
        if args:
            table["args"] = args

    def build_labels(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        labels = {k: "" if v is None else v for k, v in self.entries(raw, at)}
        if labels:
            table["labels"] = labels

    def build_additional_contexts(self, table: dict[str, Any], raw: Any, _s: Any, at: str) -> None:
        contexts = {k: self.named_context(k, v, raw, at) for k, v in self.entries(raw, at)}
        if contexts:
            table["contexts"] = {**contexts, **table.get("contexts", {})}

    def named_context(self, key: str, value: str | None, raw: Any, at: str) -> str:
        value = value or ""
        for prefix in ("service:", "target:"):
            if value.startswith(prefix):
                return "target:" + value[len(prefix) :].replace(".", "_")
        return self.rebased_path(value, raw, f"{at}, {key!r}")

    def entries(self, raw: Any, at: str) -> list[tuple[str, str | None]]:
        """`KEY=VALUE` entries of a list or mapping, interpolated, the last of a key
        winning; VALUE None for a bare `KEY` (or a null)."""
        out: dict[str, str | None] = {}
        for item in as_sequence(raw):
            text = str(item)
            key, has_value, value = text.partition("=")
            if "$" in key:
                self.decide(UNTRANSLATABLE, key, "an interpolated key", item, at)
                continue
            if not has_value:
                out[key] = None
                continue
            translated = self.text(located(value, item), at)
            if translated is not None:
                out[key] = translated
        return list(out.items())

    def build_tags(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        tags = [t for t in (self.text(v, at) for v in self.items(raw, at)) if t is not None]
        if tags:
            table["tags"] = list(dict.fromkeys(tags))

    def build_platforms(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put_list(table, "platforms", raw, at)

    def build_cache_from(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put_list(table, "cache-from", raw, at)

    def build_cache_to(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        self.put_list(table, "cache-to", raw, at)

    def build_pull(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        if self.flag(raw, at):
            table["pull"] = True

    def build_no_cache(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        if self.flag(raw, at):
            table["no-cache"] = True

    def build_shm_size(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        size = shm_size_text(raw)
        if size is None:
            self.decide(UNTRANSLATABLE, "shm_size", "only a plain size is kept", raw, at)
        elif size:
            table["shm-size"] = size

    def build_ulimits(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        if not isinstance(raw, dict):
            self.decide(UNTRANSLATABLE, "ulimits", "a mapping of limits", raw, at)
            return
        limits = []
        for name, limit in sorted(raw.items()):
            if isinstance(limit, dict) and all(
                isinstance(limit.get(k), int) for k in ("soft", "hard")
            ):
                limits.append(f"{name}={limit['soft']}:{limit['hard']}")
            elif isinstance(limit, int):
                # bake reads soft and hard only: compose's single value is 0:0 to it.
                limits.append(f"{name}=0:0")
                self.decide(
                    APPROXIMATE,
                    f"ulimits {name}",
                    "a single value is 0:0, as bake makes of it (it reads soft and hard only)",
                    raw,
                    at,
                )
            else:
                self.decide(UNTRANSLATABLE, f"ulimits {name}", "only plain numbers", raw, at)
        if limits:
            table["ulimits"] = limits

    def build_extra_hosts(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        hosts: dict[str, list[str]] = {}
        for item in as_sequence(raw):
            text = str(item)
            sep = "=" if "=" in text else ":"
            host, _, address = text.partition(sep)
            translated = self.text(address, at)
            if "$" in host or translated is None:
                self.decide(UNTRANSLATABLE, text, "an interpolated host name", item, at)
                continue
            hosts.setdefault(host, []).append(translated)
        if hosts:
            table["extra-hosts"] = {h: ",".join(a) for h, a in hosts.items()}

    def build_secrets(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        declared = self.model.get("secrets") or {}
        entries = []
        for item in raw if isinstance(raw, list) else []:
            source = item.get("source") if isinstance(item, dict) else item
            if isinstance(item, dict) and set(item) - {"source"}:
                self.decide(
                    APPROXIMATE,
                    "secrets",
                    "bake passes the source only (target, "
                    "uid, gid and mode are left out, as bake leaves them)",
                    item,
                    at,
                )
            spec = declared.get(str(source)) if isinstance(declared, dict) else None
            spec = spec if isinstance(spec, dict) else {}
            if spec.get("external"):
                self.decide(
                    UNTRANSLATABLE,
                    f"secret {source}",
                    "an external secret (bake refuses it)",
                    item,
                    at,
                )
                continue
            fields = [f"id={source}"]
            if spec.get("file"):
                fields.append("src=" + os.path.normpath(str(spec["file"])))
            if spec.get("environment"):
                fields.append(f"env={spec['environment']}")
            entries.append(",".join(jinja_text(f) for f in fields))
        if entries:
            table["secret"] = entries
            self.local_paths("secret", raw, at)

    def build_ssh(self, table: dict[str, Any], raw: Any, service: Any, at: str) -> None:
        items = [self.text(v, at) for v in self.items(raw, at)]
        keys = sorted(i for i in items if i is not None)
        if keys:
            table["ssh"] = keys

    # x-bake ----------------------------------------------------------------------

    def xbake(self, table: dict[str, Any], raw: Any, where: str) -> None:
        if raw is None:
            return
        at = f"{where}, x-bake"
        if not isinstance(raw, dict):
            self.decide(UNTRANSLATABLE, "x-bake", "x-bake is a mapping", raw, at)
            return
        for key, value in raw.items():
            if key not in _XBAKE_KEYS:
                self.decide(
                    APPROXIMATE,
                    f"x-bake {key}",
                    "a key bake ignores: left out",
                    key_at(raw, key),
                    at,
                )
                continue
            if key in ("pull", "no-cache"):
                if not isinstance(value, bool):
                    self.decide(
                        UNTRANSLATABLE, f"x-bake {key}", "only true or false", key_at(raw, key), at
                    )
                else:
                    table[key] = value
                continue
            if key == "contexts":
                contexts = {
                    k: self.named_context(k, v, raw, at)
                    for k, v in self.entries(value, f"{at}, contexts")
                    if v is not None
                }
                table["contexts"] = {**contexts, **table.get("contexts", {})}
                continue
            items = [self.text(v, at) for v in self.xbake_items(value)]
            new = [i for i in items if i is not None]
            old = table.get(key, [])
            if key in (
                "tags",
                "platforms",
                "no-cache-filter",
                "cache-from",
                "cache-to",
                "secret",
                "ssh",
                "output",
            ):
                table[key] = list(dict.fromkeys([*old, *new]))
            if key == "ssh":
                table[key] = sorted(table[key])
            if key in ("output", "cache-from", "cache-to", "secret", "ssh"):
                self.local_paths(key, value, at)

    def xbake_items(self, value: Any) -> list[Any]:
        """bake's stringArray: a list, or one string split at white space."""
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            line = getattr(value, "line", 0)
            return [located(v, value, line) for v in value.split()]
        return [] if value is None else [go_text(value)]

    # Helpers ---------------------------------------------------------------------

    def items(self, raw: Any, at: str) -> list[Any]:
        if isinstance(raw, list):
            return raw
        if raw is None:
            return []
        self.decide(UNTRANSLATABLE, at, "a list is expected here", raw, at)
        return []

    def put(self, table: dict[str, Any], key: str, value: str | None) -> None:
        if value is not None:
            table[key] = value

    def put_list(self, table: dict[str, Any], key: str, raw: Any, at: str) -> None:
        values = [t for t in (self.text(v, at) for v in self.items(raw, at)) if t is not None]
        if values:
            table[key] = values
        if key in ("cache-from", "cache-to") and values:
            self.local_paths(key, raw, at)

    def flag(self, raw: Any, at: str) -> bool:
        if isinstance(raw, bool):
            return raw
        self.decide(UNTRANSLATABLE, at, "only true or false is kept here", raw, at)
        return False

    def local_paths(self, key: str, raw: Any, at: str) -> None:
        if self.rebase:
            self.decide(
                APPROXIMATE,
                key,
                f"local paths in entries are not rebased; they hold from {self.cwd}",
                raw,
                at,
            )

    def rebased_path(self, value: str, raw: Any, at: str) -> str:
        if not self.rebase or is_special_path(value) or value.startswith("/"):
            return value
        if "{" in value:
            self.decide(
                APPROXIMATE,
                "templated path",
                f"prefixed with {self.rebase}/: an absolute path it yields would not hold",
                raw,
                at,
            )
            return f"{self.rebase}/{value}"
        new = os.path.relpath(os.path.normpath(self.cwd / value), self.out_dir)
        self.decide(REBASED, value, f"is {new} from the output's folder", raw, at)
        return new

    def default_context(self, table: dict[str, Any], where: str) -> None:
        if self.rebase and "context" not in table:
            table["context"] = self.rebase
            self.decide(
                DEFAULT,
                "context",
                f"bake's default, its working folder: {self.rebase}",
                None,
                where,
            )

    def origin(self, at: Any) -> str:
        file = getattr(at, "file", self.files[0])
        return f"{os.path.relpath(file, self.out_dir)}:{getattr(at, 'line', 1) or 1}"


def strings_in(value: Any) -> list[str]:
    """Every string value (not key) inside plain data."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def dotenv_entry(line: str) -> tuple[str, str] | None:
    """NAME and value of a `.env` line (`NAME=value`, `export NAME=value`, quoted values,
    ` #` comments); None for blank lines and comments."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    text = text.removeprefix("export ").lstrip()
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.fullmatch(name):
        return None
    value = value.strip()
    if value[:1] in ("'", '"') and value.find(value[0], 1) > 0:
        inner = value[1 : value.find(value[0], 1)]
        if value[0] == '"':
            inner = inner.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        return name, inner
    comment = re.search(r"\s#", value)
    return name, (value[: comment.start()] if comment else value).strip()


def shm_size_text(raw: Any) -> str | None:
    """compose's shm_size as bake prints it (docker's MemBytes: `2GiB`); "" for none,
    None when it is no plain size."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        size = float(raw)
    elif isinstance(raw, str):
        match = _SIZE.match(raw)
        if match is None or "$" in raw:
            return None
        unit = (match.group(2) or "").lower()
        size = float(
            match.group(1).split(".")[0] if match.group(1).count(".") > 1 else match.group(1)
        )
        size *= 1024 ** ("bkmgtp".index(unit) if unit else 0)
        size = float(int(size))
    else:
        return None
    if size <= 0:
        return ""
    index = 0
    while size >= 1024 and index < len(_SIZE_UNITS) - 1:
        size /= 1024
        index += 1
    return f"{size:.4g}{_SIZE_UNITS[index]}"
