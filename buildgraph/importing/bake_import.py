"""Bake's blocks as buildgraph tables: variables stay variables, functions functions,
`inherits` inherits and a matrix a matrix; every value is translated, not evaluated.

Blocks of one name merge as bake merges them (several files, later ones overriding
earlier: a variable, group or function replaced whole, a target merged attribute by
attribute as bake's `Target.Merge` does). Paths bake resolves against its working folder
(`context`, local `contexts`, local paths of entries) are rebased to hold from the
output's folder. What has no exact translation is left out and reported, with its file
and line; what is translated but resolves otherwise in some case is reported too."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.importing.expressions import (
    Scope,
    Untranslatable,
    bake_printed,
    expression,
    is_jinja_name,
    jinja_text,
    literal_text,
    names_read,
    safe_name,
    template,
)
from buildgraph.importing.report import (
    APPROXIMATE,
    DEFAULT,
    MERGED,
    REBASED,
    RENAMED,
    UNTRANSLATABLE,
    Decision,
)
from buildgraph.importing.syntax import (
    Attribute,
    Block,
    Expr,
    Literal,
    Name,
    ObjectExpr,
    SourceFile,
    Template,
    TupleExpr,
    Unary,
)
from buildgraph.model.names import is_target_name
from buildgraph.projectfile.attributes import ATTRIBUTES_BY_NAME, Merge

BLOCK_TYPES = ("variable", "target", "group", "function")
# A value left out: bake's null, which unsets what holds it.
OMIT = object()
TYPES = {"string": "string", "number": "number", "bool": "bool"}
_COLLECTION_TYPE = re.compile(r"^(list|set|tuple|map|object)\b")


@dataclass
class Imported:
    """The tables of a buildgraph.toml, where each came from, and what was decided."""

    variables: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for key, value in (
            ("variables", self.variables),
            ("functions", self.functions),
            ("target", self.targets),
            ("group", self.groups),
        ):
            if value:
                tables[key] = value
        return tables


def known_function_names() -> frozenset[str]:
    """The bake functions buildgraph's templates have (buildgraph.resolve.bake_functions,
    when it is there)."""
    try:
        from buildgraph.resolve.bake_functions import BAKE_FUNCTIONS  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return frozenset()
    return frozenset(BAKE_FUNCTIONS)


# bake's own functions (bake/hclparser/stdlib.go): a call of one buildgraph lacks is said
# to be so, not called unknown.
BAKE_STDLIB = frozenset(
    """
    absolute add and base64decode base64encode basename bcrypt byteslen bytesslice can ceil
    chomp chunklist cidrhost cidrnetmask cidrsubnet cidrsubnets coalesce coalescelist
    compact concat contains convert csvdecode dirname distinct divide element equal flatten
    floor format formatdate formattimestamp formatlist greaterthan greaterthanorequalto
    hasindex homedir indent index indexof int join jsondecode jsonencode keys length
    lessthan lessthanorequalto log lookup lower max md5 merge min modulo multiply negate not
    notequal or parseint pow range regex_replace regex regexall replace reverse reverselist
    rsadecrypt sanitize semvercmp sethaselement setintersection setproduct setsubtract
    setsymmetricdifference setunion sha1 sha256 sha512 signum slice sort split strlen substr
    subtract timeadd timestamp title trim trimprefix trimspace trimsuffix try
    unixtimestampparse upper urlencode uuidv4 uuidv5 values zipmap
    """.split()  # noqa: SIM905 - a word list reads better than a column
)


def import_bake(
    files: tuple[SourceFile, ...],
    cwd: Path,
    out_dir: Path,
    stdlib: frozenset[str] | None = None,
    imported: Imported | None = None,
) -> Imported:
    """The buildgraph tables of bake files read in bake's order (later ones override)."""
    result = imported or Imported()
    merged = _Blocks.of(files)
    names = frozenset(merged.variables) | frozenset(merged.attributes)
    known = known_function_names() if stdlib is None else stdlib
    scope = Scope(
        names,
        frozenset(merged.functions),
        known,
        BAKE_STDLIB,
        tuple(renamed_variables(names, known, frozenset(merged.functions)).items()),
        tuple(renamed_functions(frozenset(merged.functions), names, known).items()),
        result.functions,
    )
    translator = _BakeTranslator(result, scope, merged, cwd, out_dir)
    translator.run()
    return result


def renamed_variables(
    names: frozenset[str], stdlib: frozenset[str], functions: frozenset[str] = frozenset()
) -> dict[str, str]:
    """bake's variable names that are no Jinja names (`php-version`), each with the name
    buildgraph writes for it (never one a function has: `php_version` may be one)."""
    taken = set(names) | set(stdlib) | set(functions)
    renamed = {}
    for name in sorted(names):
        if not is_jinja_name(name):
            renamed[name] = safe_name(name, taken)
            taken.add(renamed[name])
    return renamed


def renamed_functions(
    functions: frozenset[str], names: frozenset[str], stdlib: frozenset[str]
) -> dict[str, str]:
    """bake's functions named as a variable (bake keeps the two apart; buildgraph's
    templates have one namespace) or no Jinja name, each with its name as `fn_NAME`."""
    taken = set(names) | set(functions) | set(stdlib)
    renamed = {}
    for name in sorted(functions):
        if name in names or not is_jinja_name(name):
            renamed[name] = safe_name("fn_" + name, taken)
            taken.add(renamed[name])
    return renamed


@dataclass
class _Blocks:
    variables: dict[str, Block] = field(default_factory=dict)
    attributes: dict[str, Attribute] = field(default_factory=dict)
    functions: dict[str, Block] = field(default_factory=dict)
    targets: dict[str, list[Block]] = field(default_factory=dict)
    groups: dict[str, Block] = field(default_factory=dict)
    replaced: list[tuple[str, Block]] = field(default_factory=list)

    @classmethod
    def of(cls, files: tuple[SourceFile, ...]) -> _Blocks:
        blocks = cls()
        for source in files:
            for attribute in source.attributes:
                blocks.attributes[attribute.name] = attribute
            for block in source.blocks:
                blocks.add(block)
        return blocks

    def add(self, block: Block) -> None:
        if block.type not in BLOCK_TYPES:
            raise ConfigError(
                Problem(
                    f"unknown block {block.type!r}",
                    file=block.file,
                    line=block.line,
                    hint="a bake file holds variable, target, group and function blocks",
                )
            )
        if len(block.labels) != 1:
            raise ConfigError(
                Problem(
                    f"a {block.type} block takes one label (its name)",
                    file=block.file,
                    line=block.line,
                    hint=f'write {block.type} "NAME" {{ ... }}',
                )
            )
        name = block.labels[0]
        if block.type == "target":
            self.targets.setdefault(name, []).append(block)
            return
        table: dict[str, Block] = getattr(
            self, {"variable": "variables", "group": "groups", "function": "functions"}[block.type]
        )
        if name in table:
            self.replaced.append((name, block))
        table[name] = block


class _BakeTranslator:
    def __init__(
        self, result: Imported, scope: Scope, blocks: _Blocks, cwd: Path, out_dir: Path
    ) -> None:
        self.result = result
        self.scope = scope
        self.blocks = blocks
        self.cwd = cwd
        self.out_dir = out_dir
        self.rebase = os.path.relpath(cwd, out_dir) if cwd != out_dir else ""
        self.namesakes: dict[str, str] = {}  # targets renamed, a group having their name

    def decide(
        self, kind: str, construct: str, detail: str, at: Attribute | Block | None = None,
        where: str | None = None, line: int | None = None,
    ) -> None:  # fmt: skip
        self.result.decisions.append(
            Decision(
                kind, construct, detail,
                at.file if at else None, line or (at.line if at else None), where,
            )
        )  # fmt: skip

    def untranslatable(self, error: Untranslatable, at: Attribute | Block, where: str) -> None:
        self.decide(UNTRANSLATABLE, error.construct, error.detail, at, where, error.line)

    def run(self) -> None:
        for name, block in self.blocks.replaced:
            self.decide(MERGED, f"{block.type} {name!r}", "defined again: the last one wins", block)
        for name, block in self.blocks.variables.items():
            self.variable(name, block)
        for name, attribute in self.blocks.attributes.items():
            self.top_attribute(name, attribute)
        for name, block in self.blocks.functions.items():
            self.function(name, block)
        for name, blocks in self.blocks.targets.items():
            self.target(name, blocks)
        self.default_contexts()
        for name, block in self.blocks.groups.items():
            self.group(name, block)
        self.namesakes_renamed()
        if "default" not in self.result.groups and "default" not in self.result.targets:
            self.decide(
                DEFAULT, "no default group",
                "bake builds nothing it is not given a name for; buildgraph plans every target",
            )  # fmt: skip

    # Variables -----------------------------------------------------------------------

    def variable(self, name: str, block: Block) -> None:
        where = f"variable {name!r}"
        self.check_variable_name(name, block, where)
        table: dict[str, Any] = {}
        type_attribute = block.attribute("type")
        typed = False
        if type_attribute is not None:
            typed = self.variable_type(table, type_attribute, where)
        default = block.attribute("default")
        if default is None:
            # bake: an untyped variable without a default is "", a typed one null.
            table["default"] = "{{ none }}" if typed else ""
            self.decide(
                DEFAULT, "no default",
                "null (typed), as bake has it" if typed else "the empty string, as bake has it",
                block, where,
            )  # fmt: skip
        else:
            try:
                value = self.default_value(default.expr)
            except Untranslatable as error:
                self.untranslatable(error, default, where)
                value = OMIT
            if value is not OMIT:
                table["default"] = value
        description = block.attribute("description")
        if description is not None and literal_text(description.expr) is not None:
            table["description"] = literal_text(description.expr)
        validations = [self.validation(name, v) for v in block.blocks if v.type == "validation"]
        if [v for v in validations if v]:
            table["validation"] = [v for v in validations if v]
        for other in block.blocks:
            if other.type != "validation":
                raise ConfigError.one(
                    f"unknown block {other.type!r} in a variable",
                    file=other.file, line=other.line, hint="a variable holds validation blocks",
                )  # fmt: skip
        written = self.scope.jinja_name(name)
        self.result.variables[written] = table
        self.result.origins[("variables", written)] = self.origin(block)

    def check_variable_name(self, name: str, at: Attribute | Block, where: str) -> None:
        written = self.scope.jinja_name(name)
        if written != name:
            self.decide(
                APPROXIMATE, name,
                f"renamed {written}, a name templates can read (and the environment sets "
                f"as {written}, where bake reads {name})",
                at, where,
            )  # fmt: skip

    def variable_type(self, table: dict[str, Any], attribute: Attribute, where: str) -> bool:
        """Writes the buildgraph type of a bake type constraint; whether one is set."""
        written = type_source(attribute.expr)
        if written in TYPES:
            table["type"] = TYPES[written]
            return True
        if written == "any":
            self.decide(APPROXIMATE, "type = any", "left untyped", attribute, where)
            return False
        kind = _COLLECTION_TYPE.match(written or "")
        if kind is None:
            self.decide(UNTRANSLATABLE, f"type = {written}", "an unknown type", attribute, where)
            return False
        table["type"] = "map" if kind.group(1) in ("map", "object") else "list"
        if written not in ("list(string)", "map(string)"):
            self.decide(
                APPROXIMATE, f"type = {written}",
                f"buildgraph's {table['type']} does not check the type of its items",
                attribute, where,
            )  # fmt: skip
        return True

    def default_value(self, expr: Expr) -> Any:
        """A default: plain data as it is, null as `{{ none }}`, anything reading other
        variables or calling functions a template."""
        static = plain_value(expr)
        if static is not OMIT:
            return "{{ none }}" if static is None else escape_strings(static)
        return self.string_value(expr, self.scope)

    def validation(self, name: str, block: Block) -> dict[str, Any] | None:
        where = f"variable {name!r}, validation"
        condition = block.attribute("condition")
        message = block.attribute("error_message")
        if condition is None:
            raise ConfigError.one(
                "a validation needs a condition", file=block.file, line=block.line
            )
        try:
            entry = {"condition": expression(condition.expr, self.scope)}
        except Untranslatable as error:
            self.untranslatable(error, condition, where)
            return None
        text = literal_text(message.expr) if message is not None else None
        if message is not None and text is None:
            text = source_text(message.expr)
            self.decide(
                APPROXIMATE, "error_message", "a template: its text is kept as written",
                message, where,
            )  # fmt: skip
        entry["message"] = text or f"validation of {name} failed"
        return entry

    def top_attribute(self, name: str, attribute: Attribute) -> None:
        if name in self.blocks.variables:
            self.decide(
                MERGED, name, "an attribute and a variable of one name: the attribute wins",
                attribute,
            )  # fmt: skip
        where = f"attribute {name!r}"
        self.check_variable_name(name, attribute, where)
        try:
            value = self.default_value(attribute.expr)
        except Untranslatable as error:
            self.untranslatable(error, attribute, where)
            return
        written = self.scope.jinja_name(name)
        self.result.variables[written] = {"default": value} if value is not OMIT else {}
        self.result.origins[("variables", written)] = self.origin(attribute)
        self.decide(
            APPROXIMATE, f"{name} = ...",
            f"a top-level attribute is a constant to bake; buildgraph's variable {name} may "
            "also be set by the environment or --var",
            attribute, where,
        )  # fmt: skip

    # Functions -----------------------------------------------------------------------

    def function(self, name: str, block: Block) -> None:
        where = f"function {name!r}"
        params_attribute = block.attribute("params")
        result_attribute = block.attribute("result")
        if params_attribute is None or result_attribute is None:
            raise ConfigError.one(
                "a function needs params and result", file=block.file, line=block.line,
                hint='function "f" { params = [a] result = "${a}" }',
            )  # fmt: skip
        params = [p for p in (keyword(i) for i in items_of(params_attribute.expr)) if p]
        variadic = block.attribute("variadic_params")
        rest = keyword(variadic.expr) if variadic is not None else None
        taken = set(self.scope.names) | set(self.scope.stdlib) | set(self.scope.functions)
        taken |= set(params)
        renamed: dict[str, str] = {}
        for param in [*params, *([rest] if rest else [])]:
            if not is_jinja_name(param):
                renamed[param] = safe_name(param, taken)
                taken.add(renamed[param])
                self.decide(
                    RENAMED, f"parameter {param!r}",
                    f"renamed {renamed[param]}, and so is every use of it in the function",
                    params_attribute, where,
                )  # fmt: skip
        table: dict[str, Any] = {"params": [renamed.get(p, p) for p in params]}
        if rest:
            table["variadic"] = renamed.get(rest, rest)
        scope = self.scope.with_renamed(renamed).with_names(*params, rest)
        try:
            table["result"] = self.string_value(result_attribute.expr, scope)
        except Untranslatable as error:
            self.untranslatable(error, result_attribute, where)
            return
        written = self.scope.jinja_function(name)
        if written != name:
            self.decide(
                RENAMED, f"function {name!r}",
                f"renamed {written}, and so are its calls: bake keeps functions and "
                "variables apart, buildgraph's templates have one set of names",
                block, where,
            )  # fmt: skip
        self.result.functions[written] = table
        self.result.origins[("functions", written)] = self.origin(block)

    # Targets -------------------------------------------------------------------------

    def target(self, name: str, blocks: list[Block]) -> None:
        where = f"target {name!r}"
        first = blocks[0]
        if not is_target_name(name):
            self.decide(UNTRANSLATABLE, name, "not a valid target name", first, where)
            return
        if name.startswith("_"):
            self.decide(
                APPROXIMATE, name,
                "a name starting with '_' is an abstract target to buildgraph: inherited, "
                "never built; bake builds it when it is named",
                first, where,
            )  # fmt: skip
        table: dict[str, Any] = {}
        for number, block in enumerate(blocks):
            if number:
                self.decide(
                    MERGED, f"target {name!r}",
                    "defined again: merged attribute by attribute, as bake merges it", block,
                )  # fmt: skip
            own = self.target_block(name, block)
            merge_target(table, own, lambda key, b=block: self.decide(
                UNTRANSLATABLE, key,
                "two definitions of a map, one of them an expression, cannot be merged", b, where,
            ))  # fmt: skip
        self.result.targets[name] = table
        self.result.origins[("target", name)] = self.origin(first)

    def target_block(self, name: str, block: Block) -> dict[str, Any]:
        where = f"target {name!r}"
        for inner in block.blocks:
            raise ConfigError.one(
                f"unknown block {inner.type!r} in a target", file=inner.file, line=inner.line,
                hint="a target holds attributes only",
            )  # fmt: skip
        scope = self.scope
        matrix_attribute = block.attribute("matrix")
        table: dict[str, Any] = {}
        if matrix_attribute is not None:
            matrix = self.matrix(matrix_attribute, where)
            if matrix is not None:
                axes = self.renamed_axes(matrix, matrix_attribute, where)
                table["matrix"] = {axes.get(axis, axis): v for axis, v in matrix.items()}
                scope = scope.with_renamed(axes).with_names(*matrix)
        for attribute in block.attributes:
            key = attribute.name
            if key == "matrix":
                continue
            at = f"{where}, key {key!r}"
            try:
                value = self.target_value(key, attribute, scope)
            except Untranslatable as error:
                self.untranslatable(error, attribute, at)
                continue
            if value is not OMIT:
                table[key] = self.rebased(key, value, attribute, at)
        return table

    def target_value(self, key: str, attribute: Attribute, scope: Scope) -> Any:
        expr = attribute.expr
        if key == "inherits":
            return self.list_value(expr, scope)
        if key == "name":
            return self.string_value(expr, scope)
        known = ATTRIBUTES_BY_NAME.get(key)
        if known is None:
            raise ConfigError.one(
                f"unknown target attribute {key!r}", file=attribute.file, line=attribute.line,
                hint="bake's attributes are listed in buildgraph's docs/file-format.md",
            )  # fmt: skip
        kind = known.schema.get("type")
        if kind == "string":
            return self.string_value(expr, scope)
        if kind == "boolean":
            return self.bool_value(expr, scope)
        if kind == "array":
            return self.list_value(expr, scope)
        if key == "resources":
            static = plain_value(expr)
            if static is OMIT:
                raise Untranslatable(attribute.line, "resources", "only a plain table is kept")
            return static
        return self.map_value(expr, scope)

    def string_value(self, expr: Expr, scope: Scope) -> Any:
        if isinstance(expr, Literal):
            return OMIT if expr.value is None else jinja_text(bake_printed(expr.value))
        if isinstance(expr, Template):
            return template(expr, scope)
        return "{{ " + expression(expr, scope) + " }}"

    def bool_value(self, expr: Expr, scope: Scope) -> Any:
        if isinstance(expr, Literal) and (expr.value is None or isinstance(expr.value, bool)):
            return OMIT if expr.value is None else expr.value
        text = literal_text(expr)
        if text in ("true", "false"):
            return text == "true"
        return "{{ " + expression(expr, scope) + " }}"

    def item_value(self, expr: Expr, scope: Scope) -> Any:
        if isinstance(expr, Literal) and expr.value is None:
            return "{{ none }}"
        if isinstance(expr, ObjectExpr):
            entry = {}
            for item in expr.items:
                key = literal_text(item.key)
                if key is None:
                    raise Untranslatable(expr.line, "entry key", "an entry's keys are plain names")
                value = self.string_value(item.value, scope)
                if value is not OMIT:
                    entry[key] = value
            return entry
        return self.string_value(expr, scope)

    def list_value(self, expr: Expr, scope: Scope) -> Any:
        if isinstance(expr, Literal) and expr.value is None:
            return OMIT
        if isinstance(expr, TupleExpr):
            return [self.item_value(item, scope) for item in expr.items]
        return "{{ " + expression(expr, scope) + " }}"

    def map_value(self, expr: Expr, scope: Scope) -> Any:
        if isinstance(expr, Literal) and expr.value is None:
            return OMIT
        if isinstance(expr, ObjectExpr):
            table = {}
            for item in expr.items:
                key = self.string_value(item.key, scope)
                value = self.string_value(item.value, scope)
                table[key] = "{{ none }}" if value is OMIT else value
            return table
        return "{{ " + expression(expr, scope) + " }}"

    def matrix(self, attribute: Attribute, where: str) -> dict[str, Any] | None:
        """The matrix: axes of plain lists kept as lists, any other axis as a whole
        expression, which buildgraph evaluates with the variables as bake does."""
        expr = attribute.expr
        if isinstance(expr, Template) and len(expr.parts) == 1 and hasattr(expr.parts[0], "expr"):
            expr = expr.parts[0].expr
        if not isinstance(expr, ObjectExpr):
            self.decide(
                UNTRANSLATABLE, "matrix",
                "only a matrix written as a table of axes is kept (an expression yielding "
                "the whole table hides the axes' names from the translation)",
                attribute, where,
            )  # fmt: skip
            return None
        axes: dict[str, Any] = {}
        for item in expr.items:
            axis = literal_text(item.key)
            if axis is None:
                self.decide(
                    UNTRANSLATABLE, "matrix axis", "an axis is named by a plain name",
                    attribute, where,
                )  # fmt: skip
                return None
            plain = plain_value(item.value)
            if isinstance(plain, list):
                axes[axis] = escape_strings(plain)
                continue
            try:
                axes[axis] = "{{ " + expression(item.value, self.scope) + " }}"
            except Untranslatable as error:
                self.untranslatable(error, attribute, f"{where}, matrix axis {axis!r}")
                return None
        return axes

    def renamed_axes(self, matrix: dict[str, Any], at: Attribute, where: str) -> dict[str, str]:
        """The axes whose names are no Jinja names, each with the name written for it."""
        taken = set(self.scope.names) | set(self.scope.stdlib) | set(self.scope.functions)
        taken |= set(matrix)
        axes = {}
        for axis in matrix:
            if not is_jinja_name(axis):
                axes[axis] = safe_name(axis, taken)
                taken.add(axes[axis])
                self.decide(
                    RENAMED, f"matrix axis {axis!r}",
                    f"renamed {axes[axis]}, and so is every use of it in the target", at, where,
                )  # fmt: skip
        return axes

    # Paths ---------------------------------------------------------------------------

    def rebased(self, key: str, value: Any, at: Attribute, where: str) -> Any:
        if not self.rebase:
            return value
        if key == "context":
            return self.rebased_path(value, at, where)
        if key == "contexts" and isinstance(value, dict):
            return {k: self.rebased_path(v, at, f"{where}, {k!r}") for k, v in value.items()}
        if key in ("output", "cache-from", "cache-to", "secret", "ssh") and value:
            self.decide(
                APPROXIMATE, key,
                f"local paths in entries are not rebased; they hold from {self.cwd}",
                at, where,
            )  # fmt: skip
        return value

    def rebased_path(self, value: Any, at: Attribute, where: str) -> Any:
        if not isinstance(value, str) or is_special_path(value) or value.startswith("/"):
            return value
        if "{" in value:
            self.decide(
                APPROXIMATE, "templated path",
                f"prefixed with {self.rebase}/: an absolute path it yields would not hold",
                at, where,
            )  # fmt: skip
            return f"{self.rebase}/{value}"
        new = os.path.relpath(os.path.normpath(self.cwd / value), self.out_dir)
        self.decide(REBASED, value, f"is {new} from the output's folder", at, where)
        return new

    def default_contexts(self) -> None:
        """A target with no context builds bake's working folder: say so where the output
        is elsewhere, on the targets that do not inherit a context."""
        if not self.rebase:
            return
        targets = self.result.targets
        for name, table in targets.items():
            if not has_context(name, targets, set()):
                table["context"] = self.rebase
                self.decide(
                    DEFAULT, "context", f"bake's default, its working folder: {self.rebase}",
                    where=f"target {name!r}",
                )  # fmt: skip

    # Groups --------------------------------------------------------------------------

    def group(self, name: str, block: Block) -> None:
        where = f"group {name!r}"
        if name in self.result.targets and self.namesake_group(name, block, where):
            return
        table: dict[str, Any] = {}
        targets = block.attribute("targets")
        if targets is not None:
            try:
                value = self.list_value(targets.expr, self.scope)
            except Untranslatable as error:
                self.untranslatable(error, targets, where)
                return
            # A whole expression (`concat(...)`, a variable) is one too in buildgraph.
            table["targets"] = [] if value is OMIT else value
        else:
            table["targets"] = []
        description = block.attribute("description")
        if description is not None and literal_text(description.expr) is not None:
            table["description"] = literal_text(description.expr)
        self.result.groups[name] = table
        self.result.origins[("group", name)] = self.origin(block)

    def namesake_group(self, name: str, block: Block, where: str) -> bool:
        """A group and a target of one name, which buildgraph refuses: whether the group
        is left out. bake resolves the name to the group, a group's own name in its
        targets to the target. A group of that target alone is the target; a group not
        naming it leaves the target reachable only through `inherits`, so the target is
        renamed there (done by `namesakes_renamed`)."""
        targets = block.attribute("targets")
        listed = plain_value(targets.expr) if targets is not None else []
        if listed == [name]:
            self.decide(
                MERGED, f"group {name!r}",
                f"holds only the target {name!r}, which bake builds for the name: left out, "
                "the target stands for it",
                block, where,
            )  # fmt: skip
            return True
        if isinstance(listed, list) and name not in listed:
            renamed = unused_name(f"_{name}", {*self.result.targets, *self.blocks.groups})
            self.namesakes[name] = renamed
            self.decide(
                RENAMED, f"target {name!r}",
                f"renamed {renamed!r}, abstract (in inherits too): bake resolves the name "
                f"{name!r} to the group, so the target is only inherited",
                self.blocks.targets[name][0], f"target {name!r}",
            )  # fmt: skip
            return False
        self.decide(
            UNTRANSLATABLE, name,
            "a group and a target of one name, the group naming the target among others: "
            "buildgraph refuses it", block, where,
        )  # fmt: skip
        return True

    def namesakes_renamed(self) -> None:
        """The targets `namesake_group` renamed, under their new names, and every
        `inherits` naming them; a `target:` context naming one is left out, reported."""
        if not self.namesakes:
            return
        targets = self.result.targets
        for old, new in self.namesakes.items():
            targets[new] = targets.pop(old)
            self.result.origins[("target", new)] = self.result.origins.pop(("target", old))
        for table in targets.values():
            parents = table.get("inherits")
            if isinstance(parents, list):
                table["inherits"] = [self.namesakes.get(p, p) for p in parents]
        for name, table in targets.items():
            contexts = table.get("contexts")
            if not isinstance(contexts, dict):
                continue
            for key, value in list(contexts.items()):
                if isinstance(value, str) and value.removeprefix("target:") in self.namesakes:
                    # bake prints a linked target under its own name: renamed, it differs.
                    del contexts[key]
                    self.decide(
                        UNTRANSLATABLE, value,
                        "a target: context naming a target of a group's name (renamed here)",
                        where=f"target {name!r}, key 'contexts', {key!r}",
                    )  # fmt: skip

    def origin(self, at: Attribute | Block) -> str:
        return f"{os.path.relpath(at.file, self.out_dir)}:{at.line}"


def unused_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}-{number}", number + 1
    return candidate


def has_context(name: str, targets: dict[str, dict[str, Any]], seen: set[str]) -> bool:
    """Whether a target sets a context itself or through a parent; a templated parent
    counts as one that does (it cannot be followed here)."""
    table = targets.get(name)
    if table is None or name in seen:
        return True
    seen.add(name)
    if "context" in table:
        return True
    parents = table.get("inherits", [])
    if isinstance(parents, str):
        return True
    return any("{" in p or has_context(p, targets, seen) for p in parents)


def merge_target(into: dict[str, Any], own: dict[str, Any], refuse: Any) -> None:
    """A later block of a target over the earlier ones, as bake's Target.Merge."""
    for key, value in own.items():
        if key not in into:
            into[key] = value
            continue
        known = ATTRIBUTES_BY_NAME.get(key)
        merge = known.merge if known else Merge.REPLACE
        if key == "inherits":
            merge = Merge.APPEND
        old = into[key]
        if merge is Merge.MAP:
            if isinstance(old, dict) and isinstance(value, dict):
                into[key] = {**old, **{k: v for k, v in value.items() if v != "{{ none }}"}}
            else:
                refuse(key)
        elif merge is Merge.APPEND:
            # An expression yielding a list is spliced where it stands (buildgraph's lists).
            into[key] = [*_as_items(old), *_as_items(value)]
        else:
            into[key] = value


def _as_items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def is_special_path(value: str) -> bool:
    """A context that is no local path: a target, an image, an OCI layout, a URL."""
    return value.startswith(("target:", "docker-image:", "oci-layout:", "cwd://")) or bool(
        re.match(r"^([a-z][a-z0-9+.-]*://|git@|github\.com/)", value)
    )


def plain_value(expr: Expr) -> Any:
    """The value of an expression of plain data (no name, no call, no interpolation);
    OMIT when it is more."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Unary) and expr.op == "-" and isinstance(expr.operand, Literal):
        value = expr.operand.value
        return -value if isinstance(value, int | float) and not isinstance(value, bool) else OMIT
    text = literal_text(expr)
    if text is not None:
        return text
    if isinstance(expr, TupleExpr):
        items = [plain_value(i) for i in expr.items]
        return OMIT if any(i is OMIT for i in items) else items
    if isinstance(expr, ObjectExpr):
        table = {}
        for item in expr.items:
            key = literal_text(item.key)
            value = plain_value(item.value)
            if key is None or value is OMIT:
                return OMIT
            table[key] = value
        return table
    return OMIT


def escape_strings(value: Any) -> Any:
    """Plain data with its strings escaped for Jinja (a default is a template)."""
    if isinstance(value, str):
        return jinja_text(value)
    if isinstance(value, list):
        return [escape_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: escape_strings(v) for k, v in value.items()}
    return value


def type_source(expr: Expr) -> str | None:
    """A type constraint as written: `string`, `list(string)`, `map(number)`."""
    if isinstance(expr, Name):
        return expr.name
    from buildgraph.importing.syntax import Call

    if isinstance(expr, Call) and len(expr.args) == 1:
        inner = type_source(expr.args[0])
        return f"{expr.name}({inner})" if inner else None
    if isinstance(expr, Call):
        return f"{expr.name}(...)"
    return None


def keyword(expr: Expr) -> str | None:
    """A bare name (a function's params), or in JSON a string naming it."""
    if isinstance(expr, Name):
        return expr.name
    return literal_text(expr)


def items_of(expr: Expr) -> tuple[Expr, ...]:
    return expr.items if isinstance(expr, TupleExpr) else ()


def source_text(expr: Expr) -> str:
    """A readable form of a message template: its text, interpolations as `${...}`."""
    if isinstance(expr, Template):
        return "".join(p.text if hasattr(p, "text") else "${...}" for p in expr.parts)
    return "".join(sorted(set(names_read(expr))))
