"""Stages and image references of a Dockerfile, read the way BuildKit reads them.

buildgraph draws an edge to a target from every Dockerfile that names one of its tags in
FROM, COPY --from or RUN --mount=from; the emulation lint needs each stage's --platform
and RUN lines. What counts as an image here is what BuildKit would pull, so this follows
moby/buildkit's Dockerfile frontend (parser, shell lexer, instructions, dockerfile2llb)
and distribution/reference rather than a plausible reading of the syntax.

This module never raises on a Dockerfile: where BuildKit would refuse one, the answer is
as much as can be said, and the instruction BuildKit refuses names no image.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from buildgraph.dockerfiles.shell_lexer import GO_SPACE, ShellError, ShellLexer
from buildgraph.model.image_refs import is_image_reference


@dataclass(frozen=True, slots=True)
class ImageRef:
    ref: str  # as written, meta ARGs expanded, e.g. "localhost:5000/acme/base:dev"
    line: int  # 1-based first line of the instruction
    instruction: str  # "FROM", "COPY --from" or "RUN --mount=from"
    stage: str | None  # name of the stage it is in, else that stage's index as a string


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None  # the AS name, lowercased as BuildKit does
    base: str  # FROM operand, meta ARGs expanded: an earlier stage, "scratch" or an image
    platform: str | None  # --platform unexpanded (quotes removed), e.g. "$BUILDPLATFORM"
    line: int
    run_lines: tuple[int, ...]  # first lines of the stage's RUN instructions (not ONBUILD's)


@dataclass(frozen=True, slots=True)
class DockerfileInfo:
    stages: tuple[Stage, ...]
    external_refs: tuple[ImageRef, ...]  # images, not stages or scratch; first use of each


def parse_dockerfile(text: str, build_args: Mapping[str, str] | None = None) -> DockerfileInfo:
    """The stages of a Dockerfile and the images it names.

    build_args are --build-arg values. FROM sees only the ARGs declared before the first
    FROM: a build arg overrides such an ARG's default, and one never declared is not seen
    (it expands to nothing). BuildKit's predefined args (TARGETARCH, BUILDPLATFORM, ...)
    stay unexpanded unless a build arg or a global ARG default sets them, because they
    change with each platform built; a reference that keeps one names no single image and
    is left out of external_refs. COPY --from and RUN --mount=from are not expanded at
    all: BuildKit refuses variables there.
    """
    return dockerfile_info(dockerfile_syntax(text), build_args)


@dataclass(frozen=True, slots=True, eq=False)
class DockerfileSyntax:
    """A Dockerfile split as BuildKit's parser splits it: all of it that build args do not
    change. Targets sharing a Dockerfile with different build args split it once.

    Compared and hashed by identity: a key for what is derived from it, without hashing
    every instruction."""

    escape: str
    global_args: tuple[str, ...]  # name[=default] words of the ARGs before the first FROM
    stages: tuple[_StageShape, ...]
    # The build args dockerfile_info reads (the global ARGs and BuildKit's predefined ones):
    # targets differing only in others share one DockerfileInfo.
    arg_names: frozenset[str]


def dockerfile_syntax(text: str) -> DockerfileSyntax:
    """The instructions of a Dockerfile, split into stages, and its global ARG words."""
    lines = _physical_lines(text)
    escape = _escape_token(lines)
    instructions = list(_instructions(lines, escape))
    first_from = next(
        (i for i, instruction in enumerate(instructions) if instruction.keyword == "from"),
        len(instructions),
    )
    global_args = tuple(
        word
        for instruction in instructions[:first_from]
        if instruction.keyword == "arg"
        for word in _arg_words(instruction.args, escape)
    )
    stages = _stage_shapes(_stage_groups(instructions[first_from:]), escape)
    arg_names = _PREDEFINED_ARGS.union(word.partition("=")[0] for word in global_args)
    return DockerfileSyntax(escape, global_args, stages, arg_names)


def dockerfile_info(
    syntax: DockerfileSyntax, build_args: Mapping[str, str] | None = None
) -> DockerfileInfo:
    """parse_dockerfile of a Dockerfile already split."""
    meta = _meta_args(syntax.global_args, build_args or {}, syntax.escape)
    return _dockerfile_info(syntax.stages, meta, syntax.escape)


def read_dockerfile(path: Path, build_args: Mapping[str, str] | None = None) -> DockerfileInfo:
    """parse_dockerfile of the file at path; an OSError reading it propagates as is."""
    # Bytes, not read_text: universal newlines would make a lone CR a line break, which it
    # is not for BuildKit; and bytes that are not UTF-8 must not stop planning.
    return parse_dockerfile(path.read_bytes().decode("utf-8", errors="replace"), build_args)


# --- From stages to references ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Instruction:
    line: int
    keyword: str  # lowercased
    flags: tuple[str, ...]  # leading "--name[=value]" words, quotes and escapes resolved
    args: str  # the rest, trimmed


@dataclass(frozen=True, slots=True)
class _FromClause:
    operand: str  # the base as written
    name: str | None
    platform: str | None
    accepted: bool  # BuildKit accepts its form; a FROM it refuses names no image


# BuildKit defines these for every build (dockerfile2llb defaultArgs), per platform and
# target stage; this module cannot know their values.
_PREDEFINED_ARGS = frozenset(
    {
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDOSVERSION",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETOSVERSION",
        "TARGETARCH",
        "TARGETVARIANT",
        "TARGETSTAGE",
    }
)
_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*")
_SCRATCH = "scratch"  # BuildKit compares case-sensitively; "SCRATCH" is no valid image either


@dataclass(frozen=True, slots=True)
class _StageShape:
    """A stage as far as build args do not change it: all but the expansion of its FROM."""

    index: int
    clause: _FromClause
    line: int  # of its FROM
    label: str  # its name, else its index: the stage its references are said to be in
    # The index of each stage name's first stage, shared by all the stages of a file: FROM
    # may use a name whose first stage is before its own (a set per stage is quadratic).
    first_named: Mapping[str, int]
    body_refs: tuple[ImageRef, ...]  # COPY --from and mounts, never expanded
    run_lines: tuple[int, ...]


def _stage_shapes(groups: Sequence[Sequence[_Instruction]], escape: str) -> tuple[_StageShape, ...]:
    """The stages, one per group of instructions, without the values of build args."""
    # COPY --from and mounts look stage names up among all stages, FROM only among earlier
    # ones (a later name there is an image, and BuildKit would pull it).
    clauses = [_from_clause(group[0]) for group in groups]
    every_name = frozenset(clause.name for clause in clauses if clause.name is not None)
    first_named: dict[str, int] = {}
    for index, clause in enumerate(clauses):
        if clause.name is not None:
            first_named.setdefault(clause.name, index)
    shapes: list[_StageShape] = []
    for index, (group, clause) in enumerate(zip(groups, clauses, strict=True)):
        head, body = group[0], group[1:]
        label = clause.name or str(index)
        body_refs = tuple(
            ImageRef(source, instruction.line, kind, label)
            for instruction in body
            for source, kind in _sources(instruction, escape)
            if _names_image(source, every_name, stage_index=kind == "COPY --from")
        )
        run_lines = tuple(instruction.line for instruction in body if instruction.keyword == "run")
        shapes.append(
            _StageShape(index, clause, head.line, label, first_named, body_refs, run_lines)
        )
    return tuple(shapes)


def _dockerfile_info(
    shapes: Sequence[_StageShape], meta: Mapping[str, str], escape: str
) -> DockerfileInfo:
    """The stages with their FROM expanded, and the images they name."""
    keep = _PREDEFINED_ARGS.difference(meta)
    stages: list[Stage] = []
    found: list[ImageRef] = []
    for shape in shapes:
        clause = shape.clause
        base = expanded_word(clause.operand, meta, escape, keep=keep)
        if (
            clause.accepted
            and base is not None
            and shape.first_named.get(base, shape.index) >= shape.index  # no earlier stage
            and _names_image(base)
        ):
            found.append(ImageRef(base, shape.line, "FROM", shape.label))
        found.extend(shape.body_refs)
        stages.append(
            Stage(
                shape.index,
                clause.name,
                clause.operand if base is None else base,
                clause.platform,
                shape.line,
                shape.run_lines,
            )
        )
    unique: dict[str, ImageRef] = {}
    for ref in found:
        unique.setdefault(ref.ref, ref)
    return DockerfileInfo(tuple(stages), tuple(unique.values()))


def _stage_groups(instructions: Sequence[_Instruction]) -> list[list[_Instruction]]:
    """Instructions from the first FROM on, one list per stage, each opening with its FROM."""
    groups: list[list[_Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "from" or not groups:
            groups.append([instruction])
        else:
            groups[-1].append(instruction)
    return groups


def _from_clause(instruction: _Instruction) -> _FromClause:
    # FROM's operands are split on whitespace only: quotes are resolved later, by expansion.
    operands = _WHITESPACE.split(instruction.args) if instruction.args else []
    named = len(operands) == 3 and operands[1].casefold() == "as"
    name = operands[2].lower() if named else None
    platforms = _flag_values(instruction.flags, "platform")
    accepted = (
        (len(operands) == 1 or (name is not None and _STAGE_NAME.fullmatch(name) is not None))
        and platforms is not None
        and len(platforms) == len(instruction.flags) <= 1  # FROM has no other flag
    )
    platform = platforms[0] if platforms else None
    return _FromClause(operands[0] if operands else "", name, platform or None, accepted)


def _sources(instruction: _Instruction, escape: str) -> list[tuple[str, str]]:
    """(source, instruction kind) of each other stage or image an instruction reads from."""
    if instruction.keyword == "copy":
        source = _copy_from(instruction, escape)
        return [] if source is None else [(source, "COPY --from")]
    if instruction.keyword == "run":
        return [(source, "RUN --mount=from") for source in _mount_froms(instruction)]
    return []


def _copy_from(instruction: _Instruction, escape: str) -> str | None:
    """The --from=X of a COPY, when BuildKit would accept it."""
    values = _flag_values(instruction.flags, "from")
    if values is None or len(values) != 1 or not values[0]:  # missing value, duplicate flag
        return None
    source = values[0]
    # BuildKit refuses any expansion in --from ("define a new stage with FROM using ARG").
    return source if expanded_word(source, {}, escape) == source else None


def _mount_froms(instruction: _Instruction) -> list[str]:
    """The from= of each RUN --mount that has one."""
    specs = _flag_values(instruction.flags, "mount")
    return [source for spec in specs or () if (source := _mount_from(spec))]


def _mount_from(spec: str) -> str | None:
    """The from= of one --mount=spec, if it has one BuildKit would accept."""
    fields = _csv_fields(spec)  # key=value fields, keys case-insensitive
    if fields is None:
        return None
    source = ""
    for field in fields:
        key, has_value, value = field.partition("=")
        if has_value and key.lower() == "from":
            source = value
    # BuildKit: "'from' doesn't support variable expansion, define alias stage instead".
    if "$" in source[:-1]:
        return None
    return source or None  # no from: a mount of scratch or of the build context


def _csv_fields(record: str) -> list[str] | None:
    """The fields of one CSV record as BuildKit's go-csvvalue reads a --mount: RFC 4180
    quotes, doubled quotes inside them; None where it errs (a bare or unclosed quote)."""
    if not record:
        return None
    fields: list[str] = []
    rest = record
    while True:
        if not rest.startswith('"'):
            field, comma, rest = rest.partition(",")
            if '"' in field:
                return None
            fields.append(field)
            if not comma:
                return fields
            continue
        parts: list[str] = []
        rest = rest[1:]
        while True:
            end = rest.find('"')
            if end < 0:
                return None
            parts.append(rest[:end])
            rest = rest[end + 1 :]
            if not rest.startswith('"'):
                break
            parts.append('"')  # a doubled quote is one quote
            rest = rest[1:]
        fields.append("".join(parts))
        if not rest:
            return fields
        if not rest.startswith(","):
            return None
        rest = rest[1:]


def _names_image(
    source: str, stage_names: frozenset[str] = frozenset(), *, stage_index: bool = False
) -> bool:
    """Whether BuildKit takes a FROM operand, COPY --from or mount from as an image to pull.

    COPY --from and mounts name stages case-insensitively (FROM's caller checks earlier
    names itself, exactly); only COPY --from takes a number for a stage index.
    """
    if stage_index and _INTEGER.fullmatch(source):
        return False
    if source == _SCRATCH or source.lower() in stage_names:
        return False
    # An unexpanded predefined arg leaves a "$", which no valid reference has.
    return is_image_reference(source)


def _flag_values(flags: Iterable[str], name: str) -> list[str] | None:
    """Values of the --name=value flags, or None if one lacks its value (BuildKit errs)."""
    values: list[str] = []
    for flag in flags:
        flag_name, has_value, value = flag[2:].partition("=")
        if flag_name == name:
            if not has_value:
                return None
            values.append(value)
    return values


def _meta_args(words: Iterable[str], build_args: Mapping[str, str], escape: str) -> dict[str, str]:
    """Values of the global ARGs (their name[=default] words), the only variables FROM
    expands (dockerfile2llb buildMetaArgs). An ARG without default or build arg stays
    unset, not empty."""
    values = {name: value for name, value in build_args.items() if name in _PREDEFINED_ARGS}
    for word in words:
        name, has_default, default = word.partition("=")
        if not name:
            continue
        if name in build_args:
            values[name] = build_args[name]
        elif has_default:
            keep = _PREDEFINED_ARGS.difference(values)
            expanded = expanded_word(default, values, escape, keep=keep)
            values[name] = default if expanded is None else expanded
    return values


def expanded_word(
    word: str, values: Mapping[str, str], escape: str, keep: frozenset[str] = frozenset()
) -> str | None:
    """word after BuildKit's quote removal and $-expansion, names in keep left as written
    when unset; None where BuildKit would fail (an open quote, a bad ${...})."""
    if not _NEEDS_LEXER.search(word):
        return word
    if word.isascii() and _PLAIN_EXPANSIONS_ONLY.fullmatch(word):
        return _PLAIN_EXPANSION.sub(lambda match: _plain_value(match, values, keep), word)
    try:
        return ShellLexer(word, escape, values, keep=keep).word()
    except (ShellError, RecursionError):
        return None


# Words whose only special characters are $NAME and ${NAME} (the usual FROM operand, such
# as ${REGISTRY}/base:${TAG}) expand as the lexer would expand them, without its
# character-by-character walk. ASCII only: the lexer's names take any Unicode letter.
_PLAIN_EXPANSION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_PLAIN_EXPANSIONS_ONLY = re.compile(
    r"(?:[^$'\"\\`]|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)*"
)


def _plain_value(match: re.Match[str], values: Mapping[str, str], keep: frozenset[str]) -> str:
    name = match.group(1) or match.group(2)
    if name not in values and name in keep:
        return match.group()  # left as written, as ShellLexer._kept does
    return values.get(name, "")


# --- From text to instructions (BuildKit's parser package) -----------------------------

_WHITESPACE = re.compile(r"[\t\v\f\r ]+")  # the parser's reWhitespace: instruction operands
_DIRECTIVE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
_DIRECTIVE_NAMES = frozenset({"syntax", "escape", "check"})
_HEREDOC = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)")
_HEREDOC_HOSTS = frozenset({"add", "copy", "run"})
_READ_KEYWORDS = _HEREDOC_HOSTS | {"arg", "from", "onbuild"}
_INTEGER = re.compile(r"[+-]?[0-9]+")  # what Go's strconv.Atoi takes
_NEEDS_LEXER = re.compile(r"[$'\"\\`]")  # expansion leaves any other word as it is


def _physical_lines(text: str) -> list[str]:
    """Lines as BuildKit scans them: split at LF only, trailing CRs dropped, BOM dropped."""
    lines = text.removeprefix("\ufeff").split("\n")
    if lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it does not open another
    return [line.rstrip("\r") for line in lines]


def _escape_token(lines: Sequence[str]) -> str:
    """The escape character: backslash unless an `# escape=` parser directive says backtick.

    Directives count only in the run of directive comments that opens the file: a blank
    line, another comment or an instruction ends it.
    """
    seen: set[str] = set()
    for line in lines:
        body = line.lstrip(GO_SPACE)
        if not body.startswith("#"):
            break
        match = _DIRECTIVE.fullmatch(body[1:].lstrip(GO_SPACE))
        if match is None:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key not in _DIRECTIVE_NAMES or key in seen:
            break
        seen.add(key)
        if key == "escape":
            return value if value in ("\\", "`") else "\\"  # BuildKit refuses any other
    return "\\"


def _instructions(lines: Sequence[str], escape: str) -> Iterator[_Instruction]:
    """Every instruction with the line it starts on; comments, blank lines and heredoc
    bodies are skipped, so later line numbers stay those of the file."""
    continuation = _continuation_pattern(escape)
    index = 0
    while index < len(lines):
        start = index + 1
        text, index = _logical_line(lines, index, continuation)
        if text is None:
            continue
        instruction = _instruction(start, text, escape)
        if "<<" in text and _takes_heredocs(instruction, escape):
            for terminator, chomp in _heredoc_terminators(text):
                index = _after_heredoc(lines, index, terminator, chomp)
        yield instruction


def _continuation_pattern(escape: str) -> re.Pattern[str]:
    # The escape token as last non-blank character continues the line, unless it is itself
    # escaped (the parser's lineContinuationRegex).
    token = re.escape(escape)
    return re.compile(rf"([^{token}]){token}[ \t]*\Z|^{token}[ \t]*\Z")


def _logical_line(
    lines: Sequence[str], index: int, continuation: re.Pattern[str]
) -> tuple[str | None, int]:
    """The instruction text starting at lines[index], or None for a blank or comment line;
    and the index after it.

    Continuation lines are joined as BuildKit joins them: without a separator, with their
    indentation, skipping comment and blank lines among them.
    """
    first = lines[index].lstrip(GO_SPACE)
    index += 1
    if first.startswith("#"):
        return None, index
    text, continued = _without_continuation(first, continuation)
    if not continued and not text:
        return None, index
    parts = [text]
    while continued and index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.lstrip(GO_SPACE)
        if not stripped or stripped.startswith("#"):
            continue
        text, continued = _without_continuation(line, continuation)
        parts.append(text)
    return "".join(parts), index


def _without_continuation(line: str, continuation: re.Pattern[str]) -> tuple[str, bool]:
    """line without its continuation token, and whether it had one."""
    if not line.rstrip(" \t").endswith(("\\", "`")):
        return line, False  # most lines: spare the regular expression
    text, count = continuation.subn(r"\1", line, count=1)
    return text, count > 0


def _instruction(line: int, text: str, escape: str) -> _Instruction:
    """One logical line split as the parser's splitCommand: keyword, --flags, the rest."""
    parts = _WHITESPACE.split(text.strip(GO_SPACE), maxsplit=1)
    keyword, rest = parts[0].lower(), parts[1] if len(parts) > 1 else ""
    if keyword not in _READ_KEYWORDS:
        return _Instruction(line, keyword, (), rest.strip(GO_SPACE))  # nothing here reads it
    flags, args = _builder_flags(rest, escape)
    return _Instruction(line, keyword, flags, args.strip(GO_SPACE))


def _builder_flags(text: str, escape: str) -> tuple[tuple[str, ...], str]:
    """The leading --flag words of an instruction's text, and the rest (the parser's
    extractBuilderFlags); a "--" word ends the flags."""
    flags: list[str] = []
    position = 0
    while True:
        while position < len(text) and text[position] in GO_SPACE:
            position += 1
        if not text.startswith("--", position):
            return tuple(flags), text[position:]
        word, position = _flag_word(text, position, escape)
        if word == "--":
            return tuple(flags), text[position:]
        flags.append(word)


_PLAIN_FLAG = re.compile(rf"[^{GO_SPACE}'\"\\\\`]+(?=[{GO_SPACE}]|\Z)")


def _flag_word(text: str, position: int, escape: str) -> tuple[str, int]:
    """The flag word at position, quotes removed and escaped characters taken literally,
    and the position after it."""
    plain = _PLAIN_FLAG.match(text, position)
    if plain is not None:  # no quote, no escape: the common case
        return plain.group(), plain.end()
    chars: list[str] = []
    quote = ""
    while position < len(text):
        char = text[position]
        position += 1
        if quote:
            if char == quote:
                quote = ""
                continue
        elif char in GO_SPACE:
            return "".join(chars), position - 1
        elif char in ("'", '"'):
            quote = char
            continue
        if char == escape:
            if position == len(text):
                break  # an escape at the very end is dropped
            char = text[position]
            position += 1
        chars.append(char)
    return "".join(chars), position


def _arg_words(text: str, escape: str) -> list[str]:
    """ARG's name[=default] words (the parser's parseWords): split at unquoted whitespace,
    quotes and escapes kept for the expansion that follows."""
    words: list[str] = []
    chars: list[str] = []
    quote = ""
    position = 0
    while position < len(text):
        char = text[position]
        position += 1
        if not quote and char in GO_SPACE:
            if chars:
                words.append("".join(chars))
                chars = []
            continue
        if quote and char == quote:
            quote = ""
        elif not quote and char in ("'", '"'):
            quote = char
        elif char == escape and quote != "'":  # nothing escapes inside single quotes
            if position == len(text):
                continue  # an escape at the very end is dropped
            chars.append(char)
            char = text[position]
            position += 1
        chars.append(char)
    if chars:
        words.append("".join(chars))
    return words


def _takes_heredocs(instruction: _Instruction, escape: str) -> bool:
    """Whether BuildKit reads heredocs after this instruction: ADD, COPY and RUN (also under
    ONBUILD) in shell form; a heredoc marker elsewhere is just text."""
    if instruction.keyword == "onbuild":
        if not instruction.args:
            return False
        instruction = _instruction(instruction.line, instruction.args, escape)
    return instruction.keyword in _HEREDOC_HOSTS and not _is_json_array(instruction.args)


def _is_json_array(args: str) -> bool:
    """Whether args is the exec form, a JSON array of strings."""
    text = args.lstrip(GO_SPACE)
    if not text.startswith("["):
        return False
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _heredoc_terminators(text: str) -> list[tuple[str, bool]]:
    """(terminator, leading tabs ignored) of each heredoc an instruction opens, in order.

    As the parser's heredocsFromLine: a heredoc is a whole shell word [n]<<[-]WORD (so not
    `cat<<EOF`, nor a quoted "<<EOF"); quotes around WORD are not part of the terminator.
    """
    terminators: list[tuple[str, bool]] = []
    for word in _shell_words(text, raw=True):
        match = _HEREDOC.fullmatch(word)
        if match is None or not match.group(3):
            continue
        names = _shell_words(match.group(3), raw=False)
        if len(names) == 1:
            terminators.append((names[0], match.group(2) == "-"))
    return terminators


def _after_heredoc(lines: Sequence[str], index: int, terminator: str, chomp: bool) -> int:
    """The index after the heredoc body that starts at lines[index] and its terminator
    line; the end of the file if the heredoc is never closed."""
    while index < len(lines):
        line = lines[index]
        index += 1
        if (line.lstrip("\t") if chomp else line) == terminator:
            break
    return index


def _shell_words(text: str, *, raw: bool) -> list[str]:
    """The words BuildKit's lexer splits text into, variables unexpanded; none on error."""
    lexer = ShellLexer(text, "\\", {}, raw=raw, skip_unset=True)
    try:
        return lexer.words()
    except (ShellError, RecursionError):
        return []
