"""Reading a bake file, HCL or JSON, into the model of `syntax`, with lines.

HCL goes through python-hcl2's Lark grammar (its raw parse tree, which keeps every
token's line), so expressions are translated from their structure, never from text.
Heredoc bodies are one token there: their interpolations and directives are found here
and parsed as a quoted template would be. Bake JSON is HCL's JSON syntax: its strings
are templates, parsed the same way.

python-hcl2 and lark are imported only here, and only by `buildgraph import`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from buildgraph.errors import ConfigError, Problem
from buildgraph.importing.syntax import (
    Attribute,
    Binary,
    Block,
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
    ObjectItem,
    Paren,
    Part,
    SourceFile,
    Splat,
    Template,
    Text,
    TupleExpr,
    Unary,
)

# A bake file bigger than this is not a bake file: refused before it is parsed.
MAX_FILE_BYTES = 16 * 1024 * 1024


def read_bake_file(path: Path) -> SourceFile:
    """The blocks and attributes of the HCL or JSON bake file at `path`."""
    text = read_text(path)
    if path.suffix == ".json":
        return json_source(path, text)
    return hcl_source(path, text)


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError.one(f"cannot read the file: {error.strerror}", file=path) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError.one("the file is larger than 16 MiB", file=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError.one(f"the file is not UTF-8 (byte {error.start})", file=path) from None


def hcl_source(path: Path, text: str) -> SourceFile:
    tree = parse_tree(path, text)
    reader = _TreeReader(path)
    attributes, blocks = reader.body(tree.children[0])
    return SourceFile(path, attributes, blocks)


def parse_tree(path: Path, text: str) -> Any:
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.parses_to_tree(text.replace("\r\n", "\n"))
    except UnexpectedInput as error:
        line = getattr(error, "line", None)
        found = getattr(error, "token", None)
        what = f"unexpected {str(found)!r}" if found not in (None, "") else "unexpected input"
        raise ConfigError(
            Problem(
                f"not valid HCL: {what}",
                file=path,
                line=line if isinstance(line, int) and line > 0 else None,
                hint="check the brackets, quotes and '=' on that line",
            )
        ) from None
    except LarkError as error:
        raise ConfigError.one(f"not valid HCL: {str(error)[:200]}", file=path) from None


def parse_expression(path: Path, source: str, line: int) -> Expr:
    """One expression written as HCL text (a heredoc's interpolation, a JSON string)."""
    tree = parse_tree(path, f"x = {source}\n")
    [attribute] = [c for c in tree.children[0].children if _is(c, "attribute")]
    return _TreeReader(path, line - 1).expr(attribute.children[-1])


def _is(node: Any, name: str) -> bool:
    return getattr(node, "data", None) == name


# Lark's nodes are typed loosely here (Any): the grammar, not the types, says what a
# node holds.


def _line(node: Any, offset: int) -> int:
    if hasattr(node, "line") and isinstance(node.line, int):
        return int(node.line) + offset
    meta = getattr(node, "meta", None)
    found = getattr(meta, "line", None) if meta is not None else None
    return (found or 1) + offset


def _trees(node: Any) -> list[Any]:
    """The child trees that carry meaning (not tokens, not new lines or comments)."""
    return [c for c in node.children if hasattr(c, "data") and c.data != "new_line_or_comment"]


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)


def unescape(text: str) -> str:
    """A quoted string's literal text as HCL reads it: \\n, \\", \\\\, \\uNNNN."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(one, text)


class _TreeReader:
    """python-hcl2's Lark tree to the `syntax` model; `offset` shifts lines (text parsed
    out of a heredoc or a JSON string reports the line it came from)."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset

    def line(self, node: Any) -> int:
        return _line(node, self.offset)

    def error(self, node: Any, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(Problem(message, file=self.path, line=self.line(node), hint=hint))

    def body(self, body: Any) -> tuple[tuple[Attribute, ...], tuple[Block, ...]]:
        attributes: list[Attribute] = []
        blocks: list[Block] = []
        for child in _trees(body):
            if child.data == "attribute":
                name = self.identifier(child.children[0])
                expr = self.expr(child.children[-1])
                attributes.append(Attribute(name, expr, self.path, self.line(child)))
            elif child.data == "block":
                blocks.append(self.block(child))
        return tuple(attributes), tuple(blocks)

    def block(self, node: Any) -> Block:
        parts = _trees(node)
        kind = self.identifier(parts[0])
        labels = tuple(self.label(p) for p in parts[1:-1])
        attributes, blocks = self.body(parts[-1])
        return Block(kind, labels, attributes, blocks, self.path, self.line(node))

    def label(self, node: Any) -> str:
        if node.data == "string":
            template = self.string(node)
            if all(isinstance(p, Text) for p in template.parts):
                return "".join(p.text for p in template.parts if isinstance(p, Text))
            raise self.error(node, "a block label cannot be a template")
        return self.identifier(node)

    def identifier(self, node: Any) -> str:
        if hasattr(node, "data"):
            return str(node.children[0])
        return str(node)

    # Expressions -------------------------------------------------------------------

    def expr(self, node: Any) -> Expr:
        data = node.data
        line = self.line(node)
        if data == "expr_term":
            inner = _trees(node)
            if not inner:
                raise self.error(node, "empty expression")
            if any(str(t) == "(" for t in node.children if not hasattr(t, "data")):
                return Paren(line, self.expr(inner[0]))
            return self.expr(inner[0])
        if data == "conditional":
            cond, then, otherwise = _trees(node)
            return Conditional(line, self.expr(cond), self.expr(then), self.expr(otherwise))
        if data == "binary_op":
            left, term = _trees(node)[:2]
            operator, right = _trees(term)
            return Binary(line, str(operator.children[0]), self.expr(left), self.expr(right))
        if data == "unary_op":
            return Unary(line, str(node.children[0]), self.expr(_trees(node)[0]))
        if data == "int_lit":
            return Literal(line, int(str(node.children[0])))
        if data == "float_lit":
            return Literal(line, float(str(node.children[0])))
        if data == "literal_value":
            word = str(node.children[0])
            return Literal(line, {"true": True, "false": False, "null": None}[word])
        if data == "identifier":
            return Name(line, str(node.children[0]))
        if data == "keyword":
            return Name(line, str(node.children[0]))
        if data == "string":
            return self.string(node)
        if data == "template_string":
            return Template(line, (Text(unescape(str(node.children[0])[2:-2])),))
        if data in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(node, trim=data == "heredoc_template_trim")
        if data == "tuple":
            return TupleExpr(line, tuple(self.expr(c) for c in _trees(node)))
        if data == "object":
            return ObjectExpr(line, tuple(self.object_item(c) for c in _trees(node)))
        if data == "function_call":
            return self.call(node)
        if data == "index_expr_term":
            obj, index = _trees(node)
            if index.data == "short_index":
                key: Expr = Literal(line, int(str(index.children[-1])))
            else:
                key = self.expr(_trees(index)[0])
            return Index(line, self.expr(obj), key)
        if data == "get_attr_expr_term":
            obj, attr = _trees(node)
            return GetAttr(line, self.expr(obj), self.identifier(_trees(attr)[0]))
        if data in ("attr_splat_expr_term", "full_splat_expr_term"):
            obj, splat = _trees(node)
            path = []
            for step in _trees(splat):
                if step.data != "get_attr":
                    raise self.error(node, "a splat with an index is not supported")
                path.append(self.identifier(_trees(step)[0]))
            return Splat(line, self.expr(obj), tuple(path))
        if data in ("for_tuple_expr", "for_object_expr"):
            return self.for_expr(node, data == "for_object_expr")
        raise self.error(node, f"unknown HCL construct {data!r}")

    def object_item(self, node: Any) -> ObjectItem:
        key_node, value_node = _trees(node)
        inner = _trees(key_node)
        key_expr = (
            self.expr(inner[0]) if inner else Name(self.line(node), str(key_node.children[0]))
        )
        # A bare name as a key is the name itself, as in HCL; `(name)` is its value.
        if isinstance(key_expr, Name):
            key_expr = Literal(key_expr.line, key_expr.name)
        return ObjectItem(key_expr, self.expr(value_node))

    def call(self, node: Any) -> Call:
        parts = _trees(node)
        names = [p for p in parts if p.data == "identifier"]
        if len(names) > 1:
            raise self.error(node, "namespaced functions (a::b::c) are not bake's")
        args_node = next((p for p in parts if p.data == "arguments"), None)
        args: tuple[Expr, ...] = ()
        expand = False
        if args_node is not None:
            args = tuple(self.expr(a) for a in _trees(args_node))
            expand = any(str(t) == "..." for t in args_node.children if not hasattr(t, "data"))
        return Call(self.line(node), self.identifier(names[0]), args, expand)

    def for_expr(self, node: Any, is_object: bool) -> ForExpr:
        intro = next(c for c in _trees(node) if c.data == "for_intro")
        names = [self.identifier(c) for c in _trees(intro) if c.data == "identifier"]
        collection = self.expr(_trees(intro)[-1])
        rest = [c for c in _trees(node) if c.data not in ("for_intro", "for_cond")]
        cond_node = next((c for c in _trees(node) if c.data == "for_cond"), None)
        condition = self.expr(_trees(cond_node)[0]) if cond_node is not None else None
        key, value = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        grouping = any(str(t) == "..." for t in node.children if not hasattr(t, "data"))
        if is_object:
            key_body, body = rest
            return ForExpr(
                self.line(node), key, value, collection, self.expr(body), condition,
                self.expr(key_body), grouping,
            )  # fmt: skip
        return ForExpr(self.line(node), key, value, collection, self.expr(rest[0]), condition)

    # Templates ---------------------------------------------------------------------

    def string(self, node: Any) -> Template:
        flat: list[Any] = []
        for part in node.children:
            if not hasattr(part, "data"):
                continue  # the quotes
            flat.extend(part.children)
        return Template(self.line(node), self.assemble(node, flat))

    def assemble(self, node: Any, flat: list[Any]) -> tuple[Part, ...]:
        """The flat run of a template's pieces (text, `${}`, `%{ if }`, `%{ else }`, ...)
        nested into directives."""
        stack: list[tuple[Any, list[Part], list[Part] | None]] = []
        strips: list[tuple[bool, ...]] = []
        current: list[Part] = []
        for piece in flat:
            kind = getattr(piece, "data", None)
            if kind is None:
                current.extend(self.literal_parts(piece))
            elif kind == "interpolation":
                current.append(Interpolation(self.expr(_trees(piece)[0])))
            elif kind in ("template_if_start", "template_for_start"):
                stack.append((piece, current, None))
                strips.append(strip_markers(piece))
                current = []
            elif kind == "template_else":
                if not stack or stack[-1][0].data != "template_if_start" or stack[-1][2]:
                    raise self.error(piece, "%{ else } outside an %{ if }")
                opener, outer, _ = stack.pop()
                stack.append((opener, outer, current))
                strips[-1] += strip_markers(piece)
                current = []
            elif kind in ("template_endif", "template_endfor"):
                wanted = "template_if_start" if kind == "template_endif" else "template_for_start"
                if not stack or stack[-1][0].data != wanted:
                    raise self.error(piece, f"%{{ {kind[9:]} }} without its opening directive")
                opener, outer, then = stack.pop()
                marks = strips.pop()
                if then is None and kind == "template_endif":
                    marks += (False, False)
                outer.append(self.directive(opener, then, current, marks + strip_markers(piece)))
                current = outer
        if stack:
            raise self.error(stack[-1][0], "a directive is not closed (%{ endif } / %{ endfor })")
        return merge_text(current)

    def directive(
        self, opener: Any, then: list[Part] | None, body: list[Part], strips: tuple[bool, ...]
    ) -> Part:
        inner = _trees(opener)
        line = self.line(opener)
        if opener.data == "template_if_start":
            cond = self.expr(inner[-1])
            if then is None:
                return IfDirective(line, cond, merge_text(body), (), strips)
            return IfDirective(line, cond, merge_text(then), merge_text(body), strips)
        names = [self.identifier(c) for c in inner if c.data == "identifier"]
        key, value = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return ForDirective(line, key, value, self.expr(inner[-1]), merge_text(body), strips)

    def literal_parts(self, token: Any) -> list[Part]:
        """A run of literal text; an escape `$${` or `%%{` is the text `${` or `%{`. The
        grammar takes an escape's token up to the next `}`: what follows the escape in it
        is read again as template, since it may hold an interpolation of its own."""
        text = str(token)
        if token.type not in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
            return [Text(unescape(text))]
        rest = text[3:]
        if not rest:
            return [Text(text[1:3])]
        again = parse_expression(self.path, '"' + rest + '"', self.line(token))
        more = list(again.parts) if isinstance(again, Template) else []
        return [Text(text[1:3]), *more]

    def heredoc(self, node: Any, trim: bool) -> Template:
        token = node.children[0]
        raw = str(token)
        first_newline = raw.index("\n")
        lines = raw[first_newline + 1 :].split("\n")
        body_lines = lines[:-2]  # the closing marker's line, and the empty string after it
        if trim:
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
            cut = min(indents, default=0)
            body_lines = [ln[cut:] for ln in body_lines]
        body = "".join(ln + "\n" for ln in body_lines)
        line = self.line(node)
        return Template(line, heredoc_parts(self.path, body, line + 1))


def strip_markers(directive: Any) -> tuple[bool, bool]:
    """Whether a directive strips the whitespace before it (`%{~`) and after it (`~}`)."""
    tokens = [str(c) for c in directive.children if not hasattr(c, "data")]
    return (len(tokens) > 1 and tokens[1] == "~", len(tokens) > 1 and tokens[-2] == "~")


def merge_text(parts: list[Part]) -> tuple[Part, ...]:
    merged: list[Part] = []
    for part in parts:
        if isinstance(part, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + part.text)
        elif not (isinstance(part, Text) and not part.text):
            merged.append(part)
    return tuple(merged)


def heredoc_parts(path: Path, body: str, line: int) -> tuple[Part, ...]:
    """A heredoc body as template parts: its literal text is escaped into a quoted
    string (heredocs have no backslash escapes), its `${...}` and `%{...}` kept whole,
    and the string parsed as one."""
    quoted = []
    i = 0
    while i < len(body):
        if body.startswith(("$${", "%%{"), i):
            quoted.append(body[i : i + 3])
            i += 3
        elif body.startswith(("${", "%{"), i):
            end = closing_brace(body, i + 2)
            if end < 0:
                raise ConfigError.one(
                    "a heredoc's ${ or %{ is not closed",
                    file=path,
                    line=line + body.count("\n", 0, i),
                )
            quoted.append(body[i : end + 1])
            i = end + 1
        else:
            quoted.append({"\\": "\\\\", '"': '\\"', "\n": "\\n"}.get(body[i], body[i]))
            i += 1
    expr = parse_expression(path, '"' + "".join(quoted) + '"', line)
    return expr.parts if isinstance(expr, Template) else ()


def closing_brace(text: str, start: int) -> int:
    """The index of the `}` closing an interpolation whose body starts at `start`,
    skipping quoted strings and nested braces; -1 when there is none."""
    depth = 1
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                elif text.startswith("${", i):
                    i = closing_brace(text, i + 2)
                    if i < 0:
                        return -1
                i += 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


# Bake JSON -----------------------------------------------------------------------------


def json_source(path: Path, text: str) -> SourceFile:
    """HCL's JSON syntax as bake reads it: `variable`, `target`, `group` and `function`
    objects of named blocks; any other top-level key an attribute."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError.one(
            f"not valid JSON: {error.msg}", file=path, line=error.lineno
        ) from None
    if not isinstance(data, dict):
        raise ConfigError.one("a bake JSON file is an object", file=path, line=1)
    lines = _JsonLines(text)
    attributes: list[Attribute] = []
    blocks: list[Block] = []
    for key, value in data.items():
        if key in ("variable", "target", "group", "function") and isinstance(value, dict):
            for label, content in value.items():
                blocks.append(json_block(path, key, label, content, lines))
        else:
            line = lines.of(key)
            attributes.append(Attribute(key, json_expr(path, value, line), path, line))
    return SourceFile(path, tuple(attributes), tuple(blocks))


def json_block(path: Path, kind: str, label: str, content: Any, lines: _JsonLines) -> Block:
    line = lines.of(label)
    if not isinstance(content, dict):
        raise ConfigError.one(f"{kind} {label!r} is not an object", file=path, line=line)
    attributes = []
    blocks = []
    for key, value in content.items():
        key_line = lines.of(key, line)
        if kind == "variable" and key == "validation":
            for item in value if isinstance(value, list) else [value]:
                blocks.append(json_block(path, "validation", "", item, lines))
        else:
            attributes.append(Attribute(key, json_expr(path, value, key_line), path, key_line))
    labels = (label,) if kind != "validation" else ()
    return Block(kind, labels, tuple(attributes), tuple(blocks), path, line)


def json_expr(path: Path, value: Any, line: int) -> Expr:
    if isinstance(value, str):
        if "${" not in value and "%{" not in value:
            return Template(line, (Text(value),) if value else ())
        # The decoded string is the template: its text is quoted as a heredoc's is,
        # its interpolations kept as written (their quotes are HCL's, not JSON's).
        return Template(line, heredoc_parts(path, value, line))
    if isinstance(value, list):
        return TupleExpr(line, tuple(json_expr(path, v, line) for v in value))
    if isinstance(value, dict):
        return ObjectExpr(
            line,
            tuple(
                ObjectItem(json_expr(path, k, line), json_expr(path, v, line))
                for k, v in value.items()
            ),
        )
    return Literal(line, value)


class _JsonLines:
    """Lines of a JSON file's keys, found by text: the first `"key"` at or after a line
    (JSON's parser gives none). Good enough to point at a block or attribute."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")

    def of(self, key: str, after: int = 1) -> int:
        quoted = json.dumps(key, ensure_ascii=False)
        for number in range(after, len(self.lines) + 1):
            if quoted in self.lines[number - 1]:
                return number
        return after
