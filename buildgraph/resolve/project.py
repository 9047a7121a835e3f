"""From the parsed document to the resolved model: variables, inheritance, matrices, templates.

Order matters and follows the contract: inheritance is resolved on the raw tables first, then
each concrete target (every matrix combination) renders its templates in its own scope, so a
parent's `{{ target }}` names each child.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from buildgraph.errors import ConfigError, Problem, did_you_mean
from buildgraph.model.entries import ENTRY_KEYS, without_empty_entries
from buildgraph.model.image_refs import repository
from buildgraph.model.names import TARGET_NAME_RULE, is_target_name
from buildgraph.model.project import TARGET_LINK, Group, Project, Target, freeze
from buildgraph.resolve.attribute_values import spliced
from buildgraph.resolve.functions import function_problems
from buildgraph.resolve.inheritance import Inheritance, InheritProblem
from buildgraph.resolve.matrix import MatrixProblem, expand_matrix
from buildgraph.resolve.table_compiler import CompiledTable, TableCompiler
from buildgraph.resolve.template_values import TemplateProblem, bake_text, printable
from buildgraph.resolve.templates import (
    StringTemplate,
    compile_string,
    is_template,
    render_value,
    template_value,
)
from buildgraph.resolve.variables import (
    variable_values,
    variables_from_outside,
    with_functions,
)

if TYPE_CHECKING:
    from buildgraph.projectfile.document import Document

_TARGET_ONLY = frozenset({"target"})  # what differs between targets of a table without matrix
_NO_WATCH: Mapping[str, Any] = MappingProxyType({})
_NO_MATRIX_VALUES: Mapping[str, Any] = MappingProxyType({})
PLATFORM = re.compile(r"^(local|[a-z0-9]+/[a-z0-9_]+(/[a-z0-9.]+)?)$")


def resolve_project(
    doc: Document,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Project:
    """The resolved project; raises ConfigError with every problem found."""
    resolver = _Resolver(doc, dict(overrides or {}), os.environ if environ is None else environ)
    return resolver.project()


class _Resolver:
    def __init__(self, doc: Document, overrides: dict[str, str], environ: Mapping[str, str]):
        self.doc = doc
        self.overrides = overrides
        self.environ = environ
        self.problems: list[Problem] = []
        self.tables: dict[str, dict[str, Any]] = doc.data.get("target", {})
        self.inheritance = Inheritance(self.tables)
        self.default_platforms: Any = ()  # the project's, frozen once for every target
        # [project]'s keys rendered: templates see them too, beside variables and functions
        # that may have the same names (a function `platforms` is no project platform).
        self.project_values: dict[str, Any] = {}
        self.cache: str = doc.data.get("project", {}).get("cache", "none")
        self.compiler = TableCompiler({})  # concrete_targets makes the one with the scope
        # Matrix tables, and the (table, key) of each problem reported for one: every
        # combination renders the same templates, so a problem is reported once per table.
        self.matrix_tables = frozenset(n for n, t in self.tables.items() if "matrix" in t)
        self.reported: set[tuple[str, str | None]] = set()
        # Variables set from outside the file, and their values: never shown in an error.
        self.outside = variables_from_outside(doc, overrides, environ)
        self.secrets: dict[str, str] = {}  # value -> variable, filled with the values

    # -- helpers ---------------------------------------------------------------------------

    def problem(
        self,
        message: str,
        *,
        target: str | None = None,
        key: str | None = None,
        hint: str | None = None,
        keys: Sequence[str] = (),
    ) -> None:
        line = (
            self.doc.line_of(*keys)
            if keys
            else (self.doc.line_of("target", target, *([key] if key else [])) if target else None)
        )
        if target is not None and (target, key) in self.reported:
            return  # a matrix table's problem, found again in another of its combinations
        if target is not None and target in self.matrix_tables:
            self.reported.add((target, key))
        message, hint = self.unsecret(message), hint and self.unsecret(hint)
        self.problems.append(Problem(message, self.doc.path, target, key, line, hint))

    def unsecret(self, text: str) -> str:
        """`text` with every value set from outside the file replaced by its name."""
        for value, name in self.secrets.items():
            if value in text:
                text = text.replace(value, f"<{name}>")
        return text

    def shown(self, value: str, raw: Any) -> str:
        """`value`, rendered from the raw value `raw`, as an error may show it: quoted,
        or, when a template of `raw` reads a variable set from outside the file, that
        variable's name and where it comes from instead (it may be a secret)."""
        names = sorted(name for name in self.outside if _mentions(raw, name))
        if not names:
            return repr(value)
        where = "; ".join(f"{name} from {self.outside[name]}" for name in names)
        return f"(a value made from {where}; not shown)"

    def raw_value(self, target: str | None, key: str) -> Any:
        """The value of `key` as written (after inheritance), for `shown`."""
        if target is None:
            return self.doc.data.get("project", {}).get(key)
        try:
            return self.inheritance.table(target).get(key)
        except InheritProblem:
            return None

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(*self.problems)

    # -- the phases ------------------------------------------------------------------------

    def project(self) -> Project:
        self.problems.extend(function_problems(self.doc))
        self.raise_if_problems()
        variables, problems = variable_values(self.doc, self.overrides, self.environ)
        self.problems.extend(problems)
        for name in self.outside:
            value = variables.get(name)
            if isinstance(value, str) and len(value) >= 3:
                self.secrets[value] = name
        self.raise_if_problems()
        project_table = self.doc.data.get("project", {})
        scope = self.project_scope(project_table, variables)
        self.raise_if_problems()
        self.render_inherits(scope)
        self.render_matrices(scope)
        self.raise_if_problems()
        targets, matrix_groups = self.concrete_targets(scope)
        self.raise_if_problems()
        groups = self.groups(targets, matrix_groups, scope)
        self.check_references(targets, groups)
        self.raise_if_problems()
        return Project(
            file=self.doc.path,
            name=self.project_values.get("name"),
            targets=MappingProxyType(targets),
            groups=MappingProxyType(groups),
            variables=MappingProxyType(variables),
            builders=MappingProxyType(dict(project_table.get("builders", {}))),
        )

    def project_scope(
        self, table: Mapping[str, Any], variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Names every template sees: variables, then the [project] keys rendered with them."""
        scope = with_functions(
            self.doc,
            {
                "BAKE_LOCAL_PLATFORM": local_platform(),  # as bake has it; a variable hides it
                **{name: printable(value) for name, value in variables.items()},
            },
        )
        seen = dict(scope)  # what [project] values see: the variables and functions only
        for key, value in table.items():
            if key in ("builders", "cache", "runners"):  # settings, not values for templates
                continue
            try:
                scope[key] = self.project_values[key] = render_value(value, seen)
            except TemplateProblem as exc:
                self.problems.append(
                    Problem(
                        str(exc),
                        self.doc.path,
                        None,
                        key,
                        self.doc.line_of("project", key),
                        exc.hint,
                    )
                )
        for platform in self.project_values.get("platforms", []):
            self.check_platform(platform, None, ["project", "platforms"])
        return scope

    def check_platform(self, platform: str, target: str | None, keys: Sequence[str]) -> None:
        if not PLATFORM.match(platform):
            self.problem(
                f"malformed platform {self.shown(platform, self.raw_value(target, 'platforms'))}",
                target=target,
                key="platforms",
                keys=keys,
                hint="write os/arch or os/arch/variant: linux/amd64, linux/arm64, linux/arm/v7",
            )

    # -- concrete targets ------------------------------------------------------------------

    def concrete_targets(
        self, scope: Mapping[str, Any]
    ) -> tuple[dict[str, Target], dict[str, Group]]:
        targets: dict[str, Target] = {}
        matrix_groups: dict[str, Group] = {}
        self.default_platforms = freeze(self.project_values.get("platforms") or ())
        self.compiler = TableCompiler(scope)
        reported: set[int] = set()  # a broken parent fails each child the same way
        for name in self.tables:
            try:
                table = self.inheritance.table(name)
            except InheritProblem as exc:
                if id(exc) not in reported:
                    reported.add(id(exc))
                    self.problem(str(exc), target=exc.target, key="inherits", hint=exc.hint)
                continue
            if name.startswith("_"):  # checked above, never built
                continue
            for concrete in self.expand(name, table, scope, matrix_groups):
                if concrete.name in targets:
                    first = targets[concrete.name]
                    self.problem(
                        f"target name {concrete.name!r} is produced twice "
                        f"({self.describe(first)} and {self.describe(concrete)})",
                        target=name,
                        key="name",
                        hint="make the name template use every matrix axis",
                    )
                    continue
                targets[concrete.name] = concrete
        for group in matrix_groups:
            if group in targets:
                self.problem(
                    f"matrix group {group!r} has the name of one of its targets",
                    target=group,
                    key="name",
                    hint="include the matrix values in the name template",
                )
        return targets, matrix_groups

    @staticmethod
    def describe(target: Target) -> str:
        if target.matrix_values:
            values = ", ".join(f"{k}={bake_text(v)}" for k, v in target.matrix_values.items())
            return f"[target.{target.declared_as}] with {values}"
        return f"[target.{target.declared_as}]"

    def expand(
        self,
        name: str,
        table: dict[str, Any],
        scope: Mapping[str, Any],
        matrix_groups: dict[str, Group],
    ) -> Iterator[Target]:
        if "matrix" not in table:
            if "name" in table:
                self.problem(
                    "`name` is only for matrix targets",
                    target=name,
                    key="name",
                    hint="remove it; the table's own name names the target",
                )
            if "matrix-include" in table or "matrix-exclude" in table:
                self.problem(
                    "matrix-include/matrix-exclude without a matrix",
                    target=name,
                    key="matrix-include" if "matrix-include" in table else "matrix-exclude",
                    hint="add matrix = { axis = [values] }",
                )
                return
            local = {**scope, "target": name}
            compiled = self.compiler.compile(table, _TARGET_ONLY)
            target = self.render_target(name, name, compiled, {}, local)
            if target is not None:
                yield target
            return
        try:
            combinations = expand_matrix(
                table["matrix"], table.get("matrix-include", []), table.get("matrix-exclude", [])
            )
        except MatrixProblem as exc:
            self.problem(str(exc), target=name, key=exc.key, hint=exc.hint)
            return
        compiled = self.compiler.compile(table, ("target", *table["matrix"]))
        if "name" not in table and len(combinations) == 1:
            # As in bake: one combination needs no name; the target keeps the table's,
            # and there is no group of its combinations.
            local = {**scope, **printable(combinations[0]), "target": name}
            target = self.render_target(name, name, compiled, combinations[0], local)
            if target is not None:
                yield target
            return
        if "name" not in table:
            self.problem(
                "a matrix target of several combinations needs a `name` template",
                target=name,
                key="matrix",
                hint=f'add name = "{name}-{{{{ {next(iter(table["matrix"]), "axis")} }}}}"',
            )
            return
        name_template = _template_of(table["name"])
        names: list[str] = []
        plain = all(type(v) is str for c in combinations for v in c.values())
        for combination in combinations:
            child_scope = {**scope, **(combination if plain else printable(combination))}
            try:
                child = name_template.render(child_scope)
            except TemplateProblem as exc:
                self.problem(str(exc), target=name, key="name", hint=exc.hint)
                return
            if not is_target_name(child):
                self.problem(
                    f"matrix name {self.shown(child, table['name'])} is not a valid target name",
                    target=name,
                    key="name",
                    hint=f"{TARGET_NAME_RULE}; try {{{{ value | replace('.', '') }}}}",
                )
                continue
            child_scope["target"] = child
            target = self.render_target(child, name, compiled, combination, child_scope)
            if target is not None:
                names.append(child)
                yield target
        matrix_groups[name] = Group(name, tuple(names), from_matrix=True)

    def render_target(
        self,
        name: str,
        declared_as: str,
        table: CompiledTable,
        combination: Mapping[str, Any],
        local: Mapping[str, Any],
    ) -> Target | None:
        """The target `name` of a table, its templates rendered in `local`."""
        attrs, failed = table.attributes(local)
        for key, exc in failed:
            self.problem(str(exc), target=declared_as, key=key, hint=exc.hint)
        if failed:
            return None
        if "platforms" in attrs:
            for platform in attrs["platforms"]:
                self.check_platform(platform, declared_as, ["target", declared_as, "platforms"])
        elif self.default_platforms:
            # Checked once, with [project]: planning stops there when one is malformed.
            attrs["platforms"] = self.default_platforms
        if not ENTRY_KEYS.isdisjoint(attrs):
            for key in ENTRY_KEYS.intersection(attrs):
                attrs[key] = without_empty_entries(attrs[key])
        if self.cache != "none":
            attrs.update(default_cache(self.cache, name, attrs))
        contexts = attrs.get("contexts")
        if contexts and "" in contexts.values():  # bake drops a named context set to ""
            attrs["contexts"] = MappingProxyType({k: v for k, v in contexts.items() if v})
        depends_on = attrs.pop("depends_on", ())
        watch = attrs.pop("watch", _NO_WATCH)
        return Target(
            name=name,
            attrs=MappingProxyType(attrs),
            depends_on=depends_on,
            watch_paths=watch.get("paths", ()),
            watch_ignore=watch.get("ignore", ()),
            declared_as=declared_as,
            matrix_values=_frozen_combination(combination),
        )

    # -- groups and references -------------------------------------------------------------

    def render_inherits(self, scope: Mapping[str, Any]) -> None:
        """Render the templates in `inherits` lists with the project scope (variables and
        [project] keys: inheritance is resolved per table, before any target or matrix
        value exists): `inherits = ["_{{ FLAVOUR }}"]`."""
        rendered: dict[str, dict[str, Any]] = {}
        for name, table in self.tables.items():
            parents = table.get("inherits")
            if isinstance(parents, str):
                parents = [parents]
            if not isinstance(parents, list) or not any(is_template(p) for p in parents):
                continue
            try:
                names = rendered_names(parents, scope, "inherits")
            except TemplateProblem as exc:
                self.problem(str(exc), target=name, key="inherits", hint=exc.hint)
                continue
            rendered[name] = {**table, "inherits": names}
        if rendered:
            self.tables = {**self.tables, **rendered}
            self.inheritance = Inheritance(self.tables)

    def render_matrices(self, scope: Mapping[str, Any]) -> None:
        """Render the whole expressions of matrices with the project scope, as bake
        evaluates a matrix from its variables: `matrix = { arch = "{{ ARCHS }}" }`, or the
        whole table `matrix = "{{ {'py': PYTHONS} }}"`."""
        rendered: dict[str, dict[str, Any]] = {}
        for name, table in self.tables.items():
            matrix = table.get("matrix")
            if matrix is None or not _has_template(matrix):
                continue
            try:
                rendered[name] = {**table, "matrix": rendered_matrix(matrix, scope)}
            except TemplateProblem as exc:
                self.problem(str(exc), target=name, key="matrix", hint=exc.hint)
        if rendered:
            self.tables = {**self.tables, **rendered}
            self.inheritance = Inheritance(self.tables)

    def groups(
        self,
        targets: Mapping[str, Target],
        matrix_groups: Mapping[str, Group],
        scope: Mapping[str, Any],
    ) -> dict[str, Group]:
        groups: dict[str, Group] = {}
        for name, table in self.doc.data.get("group", {}).items():
            if name in targets or name in matrix_groups:
                self.problem(
                    f"group {name!r} has the name of a target",
                    keys=["group", name],
                    hint="rename the group or the target",
                )
                continue
            members = table["targets"]
            try:  # members may be templates of the project scope
                if isinstance(members, str) or any(is_template(m) for m in members):
                    members = rendered_names(members, scope, "targets")
            except TemplateProblem as exc:
                self.problem(str(exc), keys=["group", name, "targets"], hint=exc.hint)
                continue
            groups[name] = Group(name, tuple(members), table.get("description"))
        groups.update(matrix_groups)
        return groups

    def check_references(self, targets: Mapping[str, Target], groups: Mapping[str, Group]) -> None:
        # A group naming no target is left to the selection (graph.selection), which
        # refuses it when the group is selected: bake fails only when it builds one.
        known = [*targets, *groups]
        for cycle in group_cycles(groups, targets):
            # A cycle through thousands of groups is said by its ends, not in full.
            ends = cycle if len(cycle) <= 12 else [*cycle[:5], "...", *cycle[-5:]]
            self.problem(
                f"group cycle through {len(cycle) - 1} group(s): " + " -> ".join(ends),
                keys=["group", cycle[0], "targets"],
                hint="a group may not hold itself, directly or through other groups",
            )
        for target in targets.values():
            for dep in target.depends_on:
                if dep not in targets and dep not in groups:
                    abstract = dep in self.tables
                    shown = self.shown(dep, self.raw_value(target.declared_as, "depends_on"))
                    self.problem(
                        f"depends_on names "
                        f"{'abstract target' if abstract else 'unknown target'} {shown}",
                        target=target.declared_as,
                        key="depends_on",
                        hint="abstract targets (names starting with '_') are never built; "
                        "depend on a target that inherits it"
                        if abstract
                        else did_you_mean(dep, known),
                    )
                elif dep == target.name:
                    self.problem(
                        "a target cannot depend on itself",
                        target=target.declared_as,
                        key="depends_on",
                    )
            for ctx_name, value in target.contexts.items():
                if value.startswith(TARGET_LINK):
                    linked = value[len(TARGET_LINK) :]
                    if linked not in targets:
                        shown = self.shown(linked, self.raw_value(target.declared_as, "contexts"))
                        self.problem(
                            f"context {ctx_name!r} links to unknown target {shown}",
                            target=target.declared_as,
                            key="contexts",
                            hint=did_you_mean(linked, targets),
                        )


def default_cache(kind: str, name: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The cache-from/cache-to `[project] cache` gives a target that sets neither itself
    (one that sets either has said how it caches):
    the registry's `<repo>:buildcache` of its first tag (a target without tags has no
    repository: none), or GitHub Actions' cache scoped by the target's name; mode=max,
    so every stage's layers are kept."""
    if attrs.get("cache-from") or attrs.get("cache-to"):
        return {}
    if kind == "registry":
        tags = attrs.get("tags") or ()
        if not tags:
            return {}
        where = f"type=registry,ref={repository(tags[0])}:buildcache"
    else:
        where = f"type=gha,scope={name}"
    return {"cache-from": (where,), "cache-to": (f"{where},mode=max",)}


# Python's names of machines, as Go (and so bake's BAKE_LOCAL_PLATFORM) names them.
_GO_PLATFORMS = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64/v8",
    "arm64": "arm64/v8",
    "armv7l": "arm/v7",
    "armv6l": "arm/v6",
    "i386": "386",
    "i686": "386",
}


def local_platform() -> str:
    """This machine's platform as bake's BAKE_LOCAL_PLATFORM gives it (containerd's
    default spec: `linux/amd64`, `linux/arm64/v8`)."""
    import platform

    machine = platform.machine().lower()
    return f"{platform.system().lower()}/{_GO_PLATFORMS.get(machine, machine)}"


def _has_template(matrix: Any) -> bool:
    if isinstance(matrix, str):
        return True
    return isinstance(matrix, dict) and any(isinstance(v, str) for v in matrix.values())


_MATRIX_SCALARS = (str, int, float, bool)


def rendered_matrix(matrix: str | dict[str, Any], scope: Mapping[str, Any]) -> dict[str, Any]:
    """A matrix whose whole expressions are rendered: each axis a non-empty list of
    values (text, numbers, booleans, or tables of them)."""
    table = template_value(matrix, scope) if isinstance(matrix, str) else matrix
    if not isinstance(table, dict):
        raise TemplateProblem(
            "the matrix expression yields no table",
            hint="a matrix is a table of axes: \"{{ {'arch': ARCHS} }}\"",
        )
    axes = {}
    for axis, values in table.items():
        if isinstance(values, str):
            values = template_value(values, scope)
        if not isinstance(values, list) or not values:
            raise TemplateProblem(
                f"matrix axis {axis!r} yields no list of values",
                hint="each axis is a non-empty list: \"{{ split(',', ARCHS) }}\"",
            )
        for value in values:
            plain = isinstance(value, _MATRIX_SCALARS) or (
                isinstance(value, dict)
                and all(isinstance(v, _MATRIX_SCALARS) for v in value.values())
            )
            if not plain:
                raise TemplateProblem(
                    f"matrix axis {axis!r} holds a value that is not text, a number, a "
                    "boolean or a table of them",
                    hint="flatten the values the expression yields",
                )
        axes[str(axis)] = values
    return axes


def rendered_names(names: str | list[str], scope: Mapping[str, Any], key: str) -> list[str]:
    """A list of names (`inherits`, a group's `targets`) rendered: each a template, a whole
    expression yielding a list spliced in, and an empty or none name naming nothing."""
    items = [names] if isinstance(names, str) else names
    rendered: list[str] = []
    for item in items:
        value = template_value(item, scope) if is_template(item) else item
        rendered.extend(n for n in spliced(key, value) if n != "")
    return rendered


def _mentions(raw: Any, name: str) -> bool:
    """Whether a template in the raw value `raw` (strings, lists, tables) names `name`."""
    if isinstance(raw, str):
        return is_template(raw) and re.search(rf"\b{re.escape(name)}\b", raw) is not None
    if isinstance(raw, list):
        return any(_mentions(item, name) for item in raw)
    if isinstance(raw, dict):
        return any(_mentions(k, name) or _mentions(v, name) for k, v in raw.items())
    return False


def _frozen_combination(combination: Mapping[str, Any]) -> Mapping[str, Any]:
    """A target's matrix values, read-only; `combination` is its own, made for it."""
    if not combination:
        return _NO_MATRIX_VALUES
    if any(type(value) is dict or type(value) is list for value in combination.values()):
        return freeze(combination)  # type: ignore[no-any-return]
    return MappingProxyType(combination)


def _template_of(text: str) -> StringTemplate:
    """`text` ready to render in many scopes (plain text renders as itself)."""
    return compile_string(text) if is_template(text) else StringTemplate(text, None, frozenset())


def group_cycles(groups: Mapping[str, Group], targets: Mapping[str, Target]) -> list[list[str]]:
    """Each cycle of groups holding groups, as the names around it (first name repeated at
    the end); walked with an explicit stack, so groups nested thousands deep are fine."""

    def members(name: str) -> Iterator[str]:
        return (m for m in groups[name].targets if m in groups and m not in targets)

    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in groups:
        if start in done:
            continue
        path = [start]
        stack = [members(start)]
        while stack:
            member = next(stack[-1], None)
            if member is None:
                stack.pop()
                done.add(path.pop())
            elif member in path:
                cycles.append([*path[path.index(member) :], member])
            elif member not in done:
                path.append(member)
                stack.append(members(member))
    return cycles
