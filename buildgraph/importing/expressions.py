"""An HCL expression or template as Jinja: the same value, read by buildgraph's sandbox.

`expression` gives a Jinja expression (for `{{ }}`, a validation condition, a function's
result), `template` the text of a Jinja template. What has no exact Jinja form raises
`Untranslatable`, naming the construct and its line; nothing is guessed.

The mapping, construct by construct: `a ? b : c` is `(b if a else c)`; `&&`, `||`, `!`
are `and`, `or`, `not`, and so are the functions `and()`, `or()`, `not()` (no Jinja name
can be `and`); `"${a}-x"` is `{{ a }}-x`, or `(a ~ '-x')` inside an expression, and
`"${a}"` alone is `a` itself, as HCL unwraps it; `%{ if }` and `%{ for }` are Jinja's
`{% if %}` and `{% for %}`, `~` strip markers Jinja's `-`; `x.a` is `x['a']` (never a
Python attribute); a splat `xs[*].a` is `xs | map(attribute='a') | list`; a `[for ...]`
expression has a form only where a filter or `formatlist` says it exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from buildgraph.importing.syntax import (
    Binary,
    Call,
    Conditional,
    Expr,
    ForDirective,
    ForExpr,
    GetAttr,
    IfDirective,
    Index,
    Interpolation,
    Literal,
    Name,
    ObjectExpr,
    Paren,
    Part,
    Splat,
    Template,
    Text,
    TupleExpr,
    Unary,
)

# Jinja's own words: a bake name that is one of them cannot be a Jinja name.
JINJA_KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "if", "else", "elif", "true", "false", "none",
     "True", "False", "None", "for", "endfor", "endif", "recursive", "with", "without",
     "import", "include", "from", "as", "set", "block", "macro", "call", "filter"}
)  # fmt: skip
_PYTHON_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# bake's built-in variables: set by bake itself, from its command line and platform.
# buildgraph's templates have BAKE_LOCAL_PLATFORM too; BAKE_CMD_CONTEXT has no meaning there.
BAKE_BUILTINS = frozenset({"BAKE_CMD_CONTEXT", "BAKE_LOCAL_PLATFORM"})
TEMPLATE_BUILTINS = frozenset({"BAKE_LOCAL_PLATFORM"})
_OPERATORS = {"&&": "and", "||": "or"}
# HCL's numeric operators as bake's functions of the same meaning (cty's conversions).
_NUMERIC_FUNCTIONS = {
    "+": "add",
    "-": "subtract",
    "*": "multiply",
    "/": "divide",
    "%": "modulo",
    "<": "lessthan",
    ">": "greaterthan",
    "<=": "lessthanorequalto",
    ">=": "greaterthanorequalto",
}
_TESTS = {"==": "eq", "!=": "ne", "<": "lt", ">": "gt", "<=": "le", ">=": "ge"}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


class Untranslatable(Exception):
    """A construct with no exact Jinja form: where it is, what it is, and why."""

    def __init__(self, line: int, construct: str, detail: str) -> None:
        super().__init__(f"{construct}: {detail}")
        self.line = line
        self.construct = construct
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Scope:
    """The names an expression may read: variables (and, in a target, matrix axes;
    in a function, its parameters; in a loop, its variables), the file's functions, and
    the bake functions buildgraph's templates have."""

    names: frozenset[str]
    functions: frozenset[str] = frozenset()
    stdlib: frozenset[str] = frozenset()
    bake_stdlib: frozenset[str] = frozenset()
    # bake names written otherwise in Jinja (pairs: bake's name, buildgraph's): a variable
    # named `php-version`, a function named as a variable (bake allows both, Jinja not).
    renamed: tuple[tuple[str, str], ...] = ()
    renamed_functions: tuple[tuple[str, str], ...] = ()
    # Where the functions a translation needs of its own go (`[functions._for_1]`, the body
    # of a `[for ...]`, which Jinja's expressions cannot say): the document's functions.
    helpers: dict[str, dict[str, object]] | None = field(default=None, compare=False, hash=False)

    def with_names(self, *names: str | None) -> Scope:
        return Scope(
            self.names | {n for n in names if n}, self.functions, self.stdlib,
            self.bake_stdlib, self.renamed, self.renamed_functions, self.helpers,
        )  # fmt: skip

    def with_renamed(self, renamed: dict[str, str]) -> Scope:
        """This scope, where each of `renamed`'s names (now in scope) reads as its value."""
        return Scope(
            self.names | set(renamed), self.functions, self.stdlib, self.bake_stdlib,
            (*self.renamed, *renamed.items()), self.renamed_functions, self.helpers,
        )  # fmt: skip

    def jinja_name(self, name: str) -> str:
        return dict(self.renamed).get(name, name)

    def jinja_function(self, name: str) -> str:
        return dict(self.renamed_functions).get(name, name)


def safe_name(name: str, taken: frozenset[str] | set[str]) -> str:
    """A Jinja-safe name for a bake name that is none (`php-version` is `php_version`),
    not one of `taken`."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not _PYTHON_NAME.match(base) or base in JINJA_KEYWORDS:
        base = "v_" + base
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def is_jinja_name(name: str) -> bool:
    return bool(_PYTHON_NAME.match(name)) and name not in JINJA_KEYWORDS


def expression(expr: Expr, scope: Scope) -> str:
    """The Jinja expression of `expr`."""
    return _Translator(scope).expr(expr)


def template(value: Template, scope: Scope) -> str:
    """The Jinja template text of an HCL template."""
    return _Translator(scope).template_text(value.parts)


def jinja_text(text: str) -> str:
    """Literal text as Jinja template text: each `{` that would open `{{`, `{%` or `{#`
    written as an expression printing it."""
    return re.sub(r"\{(?=[{%#])", "{{ '{' }}", text)


def string_literal(text: str) -> str:
    """A Jinja string literal holding `text` (Jinja decodes Python's escapes)."""
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def bake_printed(value: str | int | float | bool) -> str:
    """A literal scalar as bake prints it in a string: `true`, `1`, `1.5`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def literal_text(expr: Expr) -> str | None:
    """The text of a template without interpolations or directives (or of a bare name
    as an object's key), else None."""
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, Template) and all(isinstance(p, Text) for p in expr.parts):
        return "".join(p.text for p in expr.parts if isinstance(p, Text))
    return None


def names_read(expr: Expr | Part) -> Iterator[str]:
    """Every name an expression reads (loop variables of nested for expressions too:
    enough to tell whether a body reads its own loop variable)."""
    if isinstance(expr, Name):
        yield expr.name
    elif isinstance(expr, Literal | Text):
        return
    elif isinstance(expr, Template):
        for part in expr.parts:
            yield from names_read(part)
    elif isinstance(expr, Interpolation):
        yield from names_read(expr.expr)
    elif isinstance(expr, IfDirective):
        yield from names_read(expr.condition)
        for part in (*expr.then, *expr.otherwise):
            yield from names_read(part)
    elif isinstance(expr, ForDirective):
        yield from names_read(expr.collection)
        for part in expr.body:
            yield from names_read(part)
    else:
        for child in _children(expr):
            yield from names_read(child)


def traversal(expr: Expr) -> list[str]:
    """`a.b.c` as its names; empty when the root is not a name."""
    names: list[str] = []
    while isinstance(expr, GetAttr):
        names.insert(0, expr.name)
        expr = expr.obj
    return [expr.name, *names] if isinstance(expr, Name) else []


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, GetAttr | Splat | Paren):
        return (expr.obj if not isinstance(expr, Paren) else expr.expr,)
    if isinstance(expr, Index):
        return (expr.obj, expr.key)
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, TupleExpr):
        return expr.items
    if isinstance(expr, ObjectExpr):
        return tuple(x for item in expr.items for x in (item.key, item.value))
    if isinstance(expr, Unary):
        return (expr.operand,)
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, Conditional):
        return (expr.condition, expr.then, expr.otherwise)
    if isinstance(expr, ForExpr):
        rest = (expr.condition, expr.key_body)
        return (expr.collection, expr.body, *(x for x in rest if x is not None))
    return ()


class _Translator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def inner(self, *names: str | None) -> _Translator:
        return _Translator(self.scope.with_names(*names))

    # Expressions -------------------------------------------------------------------

    def expr(self, expr: Expr) -> str:
        if isinstance(expr, Literal):
            return self.literal(expr)
        if isinstance(expr, Template):
            return self.template_expr(expr)
        if isinstance(expr, Name):
            return self.name(expr)
        if isinstance(expr, Paren):
            return self.expr(expr.expr)
        if isinstance(expr, GetAttr):
            path = traversal(expr)
            if path and path[0] == "target" and "target" not in self.scope.names:
                raise Untranslatable(
                    expr.line,
                    ".".join(path),
                    "a reference to another target's attribute; buildgraph's templates "
                    "cannot read targets",
                )
            return f"{self.expr(expr.obj)}[{string_literal(expr.name)}]"
        if isinstance(expr, Index):
            return f"{self.expr(expr.obj)}[{self.expr(expr.key)}]"
        if isinstance(expr, Splat):
            dotted = ".".join(expr.path)
            if not dotted:
                return f"({self.expr(expr.obj)} | list)"
            return f"({self.expr(expr.obj)} | map(attribute={string_literal(dotted)}) | list)"
        if isinstance(expr, Call):
            return self.call(expr)
        if isinstance(expr, TupleExpr):
            return "[" + ", ".join(self.expr(item) for item in expr.items) + "]"
        if isinstance(expr, ObjectExpr):
            pairs = (f"{self.expr(i.key)}: {self.expr(i.value)}" for i in expr.items)
            return "{" + ", ".join(pairs) + "}"
        if isinstance(expr, Unary):
            operator = "not " if expr.op == "!" else "-"
            return f"({operator}{self.expr(expr.operand)})"
        if isinstance(expr, Binary):
            left, right = self.expr(expr.left), self.expr(expr.right)
            function = _NUMERIC_FUNCTIONS.get(expr.op)
            if function is not None and function in self.scope.stdlib:
                # HCL converts text to numbers for these (`"17" < 18`); bake's functions do
                # too, where Python's operators would refuse or compare text.
                return f"{function}({left}, {right})"
            operator = _OPERATORS.get(expr.op, expr.op)
            return f"({left} {operator} {right})"
        if isinstance(expr, Conditional):
            return (
                f"({self.expr(expr.then)} if {self.expr(expr.condition)} "
                f"else {self.expr(expr.otherwise)})"
            )
        return self.for_expr(expr)

    def literal(self, expr: Literal) -> str:
        value = expr.value
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return string_literal(value)
        text = repr(value)
        return f"({text})" if value < 0 else text

    def name(self, expr: Name) -> str:
        name = expr.name
        if name in self.scope.names:
            written = self.scope.jinja_name(name)
            if not is_jinja_name(written):
                raise Untranslatable(
                    expr.line, name, "this name cannot be a Jinja name (rename it in bake)"
                )
            return written
        if name in TEMPLATE_BUILTINS:
            return name
        if name in BAKE_BUILTINS:
            raise Untranslatable(
                expr.line, name, "a variable bake sets itself; buildgraph has no such value"
            )
        if name == "target":
            raise Untranslatable(
                expr.line, "target", "a reference to the targets; buildgraph cannot read them"
            )
        raise Untranslatable(expr.line, name, "an undefined name")

    def template_expr(self, expr: Template) -> str:
        """A template inside an expression: text, the one value it wraps, or a `~` join."""
        parts = expr.parts
        text = literal_text(expr)
        if text is not None:
            return string_literal(text)
        if len(parts) == 1 and isinstance(parts[0], Interpolation):
            return self.expr(parts[0].expr)  # HCL's "${x}" is x itself, of any type
        pieces = []
        for part in parts:
            if isinstance(part, Text):
                pieces.append(string_literal(part.text))
            elif isinstance(part, Interpolation):
                inner = part.expr
                if isinstance(inner, Literal) and inner.value is not None:
                    pieces.append(string_literal(bake_printed(inner.value)))
                else:
                    pieces.append(self.expr(inner))
            elif isinstance(part, IfDirective) and not any(part.strips):
                then = self.template_expr(Template(part.line, part.then))
                otherwise = self.template_expr(Template(part.line, part.otherwise))
                pieces.append(f"({then} if {self.expr(part.condition)} else {otherwise})")
            else:
                raise Untranslatable(
                    expr.line,
                    "%{ for } inside an expression",
                    "a template directive inside an expression has no Jinja expression",
                )
        return "(" + " ~ ".join(pieces) + ")"

    def call(self, expr: Call) -> str:
        name = expr.name
        args = [self.expr(a) for a in expr.args]
        if expr.expand_last and args:
            args[-1] = "*" + args[-1]
        if name in ("and", "or") and not expr.expand_last and len(args) >= 1:
            return "(" + f" {name} ".join(args) + ")"
        if name == "not" and len(args) == 1 and not expr.expand_last:
            return f"(not {args[0]})"
        if name == "can":
            return self.can(expr)
        if name in self.scope.functions:
            return f"{self.scope.jinja_function(name)}({', '.join(args)})"
        if name in self.scope.stdlib:
            return f"{name}({', '.join(args)})"
        if name in self.scope.bake_stdlib:
            raise Untranslatable(
                expr.line, f"{name}()", "a bake function buildgraph's templates lack"
            )
        raise Untranslatable(expr.line, f"{name}()", "an unknown function")

    def can(self, expr: Call) -> str:
        """`can(regex(p, s))`: whether `s` matches `p`, said with `regexall`; no other
        `can()` has an exact form (Jinja has no way to catch an error)."""
        [inner] = expr.args if len(expr.args) == 1 else (None,)
        if (
            isinstance(inner, Call)
            and inner.name == "regex"
            and len(inner.args) == 2
            and not inner.expand_last
            and literal_text(inner.args[0]) is not None
            and "regexall" in self.scope.stdlib
        ):
            pattern, text = (self.expr(a) for a in inner.args)
            return f"((regexall({pattern}, {text}) | length) > 0)"
        raise Untranslatable(
            expr.line,
            "can()",
            "Jinja cannot catch an error; only can(regex(LITERAL, s)) has a form",
        )

    def for_expr(self, expr: ForExpr) -> str:
        """`[for v in xs : BODY if COND]` where a filter says it exactly: the body `v`
        itself, or a template of `v` (`formatlist`); the condition a comparison of `v`
        (`select`/`reject` with Jinja's tests)."""
        why = 'Jinja has no comprehension: only [for v in xs : v or "..${v}.." if v OP x]'
        try:
            return self.filtered(expr, why)
        except Untranslatable:
            if self.scope.helpers is None:
                raise
        return self.for_each(expr, why)

    def filtered(self, expr: ForExpr, why: str) -> str:
        """The forms Jinja's filters say directly (`select`, `formatlist`)."""
        if expr.key_body is not None or expr.key is not None:
            raise Untranslatable(expr.line, "for expression", why)
        inner = self.inner(expr.value)
        items = self.expr(expr.collection)
        if expr.value in names_read(expr.collection):
            raise Untranslatable(expr.line, "for expression", why)
        if expr.condition is not None:
            items = f"({items} | {self.selection(expr.value, expr.condition, inner, why)} | list)"
        body = expr.body.expr if isinstance(expr.body, Paren) else expr.body
        if isinstance(body, Template) and len(body.parts) == 1:
            only = body.parts[0]
            body = only.expr if isinstance(only, Interpolation) else body
        if isinstance(body, Name) and body.name == expr.value:
            return f"({items} | list)"
        if isinstance(body, Template) and "formatlist" in self.scope.stdlib:
            return self.formatlist(expr, body, items, inner, why)
        raise Untranslatable(expr.line, "for expression", why)

    def for_each(self, expr: ForExpr, why: str) -> str:
        """Any `[for k, v in xs : BODY if COND]` (and `{for ... : KEY => BODY}`): its body,
        condition and key as functions of the loop's names and of every other local name
        they read, called by the templates' `for_each` for each item."""
        helpers = self.scope.helpers
        if helpers is None or expr.grouping:
            raise Untranslatable(expr.line, "for expression", why)
        loop = [n for n in (expr.key, expr.value) if n]
        parts = [p for p in (expr.body, expr.condition, expr.key_body) if p is not None]
        read = sorted({n for p in parts for n in names_read(p)} - set(loop))
        free = [self.scope.jinja_name(n) for n in read if n in self.scope.names]
        inner = self.inner(*loop)
        params = [*(loop if expr.key else ["_", *loop]), *free]

        def helper(body: Expr) -> str:
            name = f"_for_{len(helpers) + 1}"
            while name in helpers:
                name += "_"
            helpers[name] = {"params": params, "result": "{{ " + inner.expr(body) + " }}"}
            return name

        arguments = [self.expr(expr.collection), helper(expr.body), *free]
        if expr.condition is not None:
            arguments.append(f"where={helper(expr.condition)}")
        if expr.key_body is not None:
            arguments.append(f"key={helper(expr.key_body)}")
        return f"for_each({', '.join(arguments)})"

    def selection(self, value: str, cond: Expr, inner: _Translator, why: str) -> str:
        if isinstance(cond, Name) and cond.name == value:
            return "select"
        if isinstance(cond, Unary) and cond.op == "!" and cond.operand == Name(cond.line, value):
            return "reject"
        if isinstance(cond, Binary) and cond.op in _TESTS:
            left, right, op = cond.left, cond.right, cond.op
            if isinstance(right, Name) and right.name == value:
                left, right, op = right, left, _FLIPPED[op]
            if isinstance(left, Name) and left.name == value and value not in names_read(right):
                return f"select({string_literal(_TESTS[op])}, {inner.expr(right)})"
        if isinstance(cond, Call) and cond.name == "contains" and len(cond.args) == 2:
            listed, item = cond.args
            if item == Name(item.line, value) and value not in names_read(listed):
                return f"select('in', {inner.expr(listed)})"
        raise Untranslatable(cond.line, "for expression condition", why)

    def formatlist(
        self, expr: ForExpr, body: Template, items: str, inner: _Translator, why: str
    ) -> str:
        pattern = []
        args = []
        for part in body.parts:
            if isinstance(part, Text):
                pattern.append(part.text.replace("%", "%%"))
            elif isinstance(part, Interpolation) and part.expr == Name(part.expr.line, expr.value):
                pattern.append("%s")
                args.append(items)
            elif isinstance(part, Interpolation) and expr.value not in names_read(part.expr):
                pattern.append("%s")
                args.append(inner.expr(part.expr))
            else:
                raise Untranslatable(expr.line, "for expression", why)
        if items not in args:
            raise Untranslatable(expr.line, "for expression", why)
        return f"formatlist({string_literal(''.join(pattern))}, {', '.join(args)})"

    # Templates ---------------------------------------------------------------------

    def template_text(self, parts: tuple[Part, ...]) -> str:
        pieces: list[tuple[bool, str]] = []  # (is literal text, what is written)
        for part in parts:
            if isinstance(part, Text):
                pieces.append((True, part.text))
            elif isinstance(part, Interpolation):
                inner = part.expr
                if isinstance(inner, Literal) and inner.value is not None:
                    pieces.append((True, bake_printed(inner.value)))
                else:
                    pieces.append((False, "{{ " + self.expr(inner) + " }}"))
            elif isinstance(part, IfDirective):
                s = part.strips
                pieces.append((False, _tag(f"if {self.expr(part.condition)}", s[0], s[1])))
                pieces.append((False, self.template_text(part.then)))
                if part.otherwise or s[2] or s[3]:
                    pieces.append((False, _tag("else", s[2], s[3])))
                    pieces.append((False, self.template_text(part.otherwise)))
                pieces.append((False, _tag("endif", s[4], s[5])))
            else:
                pieces.append((False, self.for_directive(part)))
        return _joined(pieces)

    def for_directive(self, part: ForDirective) -> str:
        """`%{ for }` over a list or a map, whichever the collection is when it renders:
        HCL walks a map in its keys' order (case counts: `dictsort(true)`), the key
        (or a list's index) in `part.key`, the item in `part.value`."""
        s = part.strips
        inner = self.inner(part.key, part.value)
        items = self.expr(part.collection)
        body = inner.template_text(part.body)
        sort = f"({items} | dictsort(true))"
        if part.key is None:
            values = f"(({sort} | map(attribute='1') | list) if {items} is mapping else {items})"
            head = f"for {part.value} in {values}"
            return _tag(head, s[0], s[1]) + body + _tag("endfor", s[2], s[3])
        by_key = f"for {part.key}, {part.value} in {sort}"
        by_index = f"for {part.value} in {items}"
        index = f"set {part.key} = loop.index0"
        return (
            _tag(f"if {items} is mapping", s[0], False)
            + _tag(by_key, False, s[1]) + body + _tag("endfor", s[2], False)
            + _tag("else", False, False)
            + _tag(by_index, False, False) + _tag(index, False, s[1])
            + body + _tag("endfor", s[2], False)
            + _tag("endif", False, s[3])
        )  # fmt: skip


def _joined(pieces: list[tuple[bool, str]]) -> str:
    """Literal text and Jinja tags as one template: adjacent text merged, then escaped,
    a `{` just before a tag too (`{` then `{{ x }}` would read as `{{{`)."""
    out = []
    text = ""
    for is_text, written in pieces:
        if is_text:
            text += written
            continue
        if text:
            escaped = jinja_text(text)
            if escaped.endswith("{") and written.startswith("{"):
                escaped = escaped[:-1] + "{{ '{' }}"
            out.append(escaped)
            text = ""
        out.append(written)
    out.append(jinja_text(text))
    return "".join(out)


def _tag(inside: str, strip_before: bool, strip_after: bool) -> str:
    return ("{%- " if strip_before else "{% ") + inside + (" -%}" if strip_after else " %}")
