"""Reading image references out of a Dockerfile, as BuildKit's frontend understands them.

Only what the graph and the emulation lint need: stages (base, --platform, RUN lines) and
the images named by FROM, COPY --from and RUN --mount=from, with meta ARGs expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ImageRef:
    ref: str
    line: int
    instruction: str  # "FROM", "COPY --from", "RUN --mount=from"
    stage: str | None


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None
    base: str
    platform: str | None
    line: int
    run_lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DockerfileInfo:
    stages: tuple[Stage, ...]
    external_refs: tuple[ImageRef, ...]


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def _instructions(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, logical instruction text): continuations joined, comments and
    heredoc bodies skipped, so line numbers stay those of the file."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives come first, before any other line
        match = _DIRECTIVE.match(line.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("`", "\\"):
            escape = match.group(2)
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i + 1
        parts: list[str] = []
        while True:
            current = lines[i].rstrip()
            if current.endswith(escape) and not current.strip().startswith("#"):
                parts.append(current[:-1])
                i += 1
                while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                continue
            if not current.strip().startswith("#") or not parts:
                parts.append(current)
            i += 1
            break
        instruction = " ".join(p.strip() for p in parts)
        for _, _, word in _HEREDOC.findall(instruction):
            while i < len(lines) and lines[i].strip() != word:  # skip the heredoc body
                i += 1
            i += 1
        yield start, instruction


# BuildKit defines these in the global scope, per platform built: a reference that uses one
# names a different image per platform, so it stays unexpanded (and is not matched).
PLATFORM_ARGS = frozenset(
    {
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
    }
)


def _expand(text: str, values: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        if name in PLATFORM_ARGS and name not in values:
            return match.group(0)
        operator, word = match.group(2), match.group(3) or ""
        value = values.get(name)
        if operator in (":-", "-"):
            unset = value is None or (operator == ":-" and value == "")
            return word if unset else str(value)
        if operator in (":+", "+"):
            set_ = value is not None and (operator == "+" or value != "")
            return word if set_ else ""
        return "" if value is None else value

    return _VAR.sub(substitute, text)


def _flags(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    flags: dict[str, list[str]] = {}
    rest = list(words)
    while rest and rest[0].startswith("--"):
        key, _, value = rest.pop(0)[2:].partition("=")
        flags.setdefault(key.lower(), []).append(value)
    return flags, rest


def parse_dockerfile(text: str, build_args: Mapping[str, str] | None = None) -> DockerfileInfo:
    overrides = dict(build_args or {})
    meta: dict[str, str] = {}
    stages: list[Stage] = []
    refs: dict[str, ImageRef] = {}
    names: set[str] = set()
    runs: list[int] = []

    def close_stage() -> None:
        if stages:
            stages[-1] = replace(stages[-1], run_lines=tuple(runs))

    for line, instruction in _instructions(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        words = rest.split()
        if keyword == "ARG" and not stages:
            for word in words:
                name, has_default, default = word.partition("=")
                if name in overrides:
                    meta[name] = overrides[name]
                elif has_default:
                    meta[name] = _expand(default.strip("\"'"), meta)
                else:
                    meta.setdefault(name, "")
        elif keyword == "FROM":
            close_stage()
            runs = []
            flags, operands = _flags(words)
            if not operands:
                continue
            base = _expand(operands[0], meta)
            alias = (
                operands[2].lower() if len(operands) >= 3 and operands[1].upper() == "AS" else None
            )
            platform = flags["platform"][-1] if "platform" in flags else None
            stages.append(Stage(len(stages), alias, base, platform, line, ()))
            _add_ref(
                refs, base, line, "FROM", alias or str(len(stages) - 1), names, len(stages) - 1
            )
            if alias:
                names.add(alias)
        elif keyword == "COPY" and stages:
            flags, _ = _flags(words)
            for source in flags.get("from", []):
                _add_ref(
                    refs,
                    _expand(source, meta),
                    line,
                    "COPY --from",
                    stages[-1].name or str(len(stages) - 1),
                    names,
                    len(stages),
                )
        elif keyword == "RUN" and stages:
            runs.append(line)
            flags, _ = _flags(words)
            for mount in flags.get("mount", []):
                for field in mount.split(","):
                    key, _, value = field.partition("=")
                    if key.strip().lower() == "from":
                        _add_ref(
                            refs,
                            _expand(value, meta),
                            line,
                            "RUN --mount=from",
                            stages[-1].name or str(len(stages) - 1),
                            names,
                            len(stages),
                        )
    close_stage()
    return DockerfileInfo(tuple(stages), tuple(refs.values()))


def _add_ref(
    refs: dict[str, ImageRef],
    ref: str,
    line: int,
    instruction: str,
    stage: str,
    stage_names: set[str],
    stage_count: int,
) -> None:
    ref = ref.strip("\"'")
    if (
        not ref
        or ref.lower() in stage_names
        or ref.lower() == "scratch"
        or (ref.isdigit() and int(ref) < stage_count)
        or "$" in ref
    ):
        return
    refs.setdefault(ref, ImageRef(ref, line, instruction, stage))


def read_dockerfile(path: Path, build_args: Mapping[str, str] | None = None) -> DockerfileInfo:
    return parse_dockerfile(path.read_text(encoding="utf-8"), build_args)


def normalize_ref(ref: str) -> str:
    """Docker's full form of a reference: docker.io/library/alpine:latest for alpine."""
    name, at, digest = ref.partition("@")
    first, slash, _ = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    last = name.rsplit("/", 1)[-1]
    if ":" not in last and not at:
        name += ":latest"
    return name + at + digest
