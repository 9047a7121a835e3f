"""The attributes of a bake target: their JSON type and how `inherits` merges them.

Names and types follow `docker buildx bake --print` JSON, so a resolved target maps 1:1
onto a bake target. The merge kinds follow buildx's own `Target.Merge`: maps merge key by
key, a few lists accumulate from parent to child, everything else is replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Merge(Enum):
    REPLACE = "replace"
    MAP = "map"
    APPEND = "append"


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    schema: dict[str, Any]
    merge: Merge
    description: str
    # The first buildx whose bake keeps the attribute (older ones drop it silently). From
    # release notes, approximate; tests check it against the installed buildx.
    min_buildx: str | None = None


_STR: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_STR_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_STR_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}
# Newer bake accepts structured entries ({type = "registry", ref = "..."}) beside CSV strings.
_ENTRY_LIST: dict[str, Any] = {
    "type": "array",
    "items": {
        "anyOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": {"type": ["string", "boolean", "number"]}},
        ]
    },
}

BAKE_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("description", _STR, Merge.REPLACE, "Human description of the target.", "0.17.0"),
    Attribute("context", _STR, Merge.REPLACE, "Build context: a directory, URL or git repo."),
    Attribute(
        "contexts", _STR_MAP, Merge.MAP, "Named contexts: name -> path, image or target:<name>."
    ),
    Attribute("dockerfile", _STR, Merge.REPLACE, "Dockerfile path, relative to the context."),
    Attribute("dockerfile-inline", _STR, Merge.REPLACE, "Inline Dockerfile text."),
    Attribute("target", _STR, Merge.REPLACE, "Dockerfile stage to build."),
    Attribute("args", _STR_MAP, Merge.MAP, "Build arguments."),
    Attribute("labels", _STR_MAP, Merge.MAP, "Image labels."),
    Attribute("annotations", _STR_LIST, Merge.APPEND, "OCI annotations."),
    Attribute("tags", _STR_LIST, Merge.REPLACE, "Image names and tags."),
    Attribute("platforms", _STR_LIST, Merge.REPLACE, "Target platforms, e.g. linux/arm64."),
    Attribute("cache-from", _ENTRY_LIST, Merge.APPEND, "External cache sources."),
    Attribute("cache-to", _ENTRY_LIST, Merge.REPLACE, "Cache export destinations."),
    Attribute("output", _ENTRY_LIST, Merge.REPLACE, "Outputs, e.g. type=registry."),
    Attribute("secret", _ENTRY_LIST, Merge.APPEND, "Secrets exposed to the build."),
    Attribute("ssh", _ENTRY_LIST, Merge.APPEND, "SSH agent sockets or keys."),
    Attribute("attest", _ENTRY_LIST, Merge.APPEND, "Attestations (sbom, provenance)."),
    Attribute("pull", _BOOL, Merge.REPLACE, "Always pull referenced images."),
    Attribute("no-cache", _BOOL, Merge.REPLACE, "Do not use the cache."),
    Attribute("no-cache-filter", _STR_LIST, Merge.APPEND, "Stages not to cache."),
    Attribute("network", _STR, Merge.REPLACE, "Network mode for RUN.", "0.14.0"),
    Attribute("shm-size", _STR, Merge.REPLACE, "Size of /dev/shm.", "0.12.0"),
    Attribute("ulimits", _STR_LIST, Merge.APPEND, "Ulimit options.", "0.12.0"),
    Attribute("entitlements", _STR_LIST, Merge.APPEND, "Extra privileges.", "0.16.0"),
    Attribute(
        "call", _STR, Merge.REPLACE, "Frontend method: build, check, outline, targets.", "0.15.0"
    ),
    Attribute("extra-hosts", _STR_MAP, Merge.MAP, "Extra /etc/hosts entries.", "0.21.0"),
    Attribute("policy", _ENTRY_LIST, Merge.APPEND, "Build policies.", "0.30.0"),
    Attribute("resources", {"type": "object"}, Merge.REPLACE, "Resource limits.", "0.31.0"),
)

ATTRIBUTES_BY_NAME: dict[str, Attribute] = {a.name: a for a in BAKE_ATTRIBUTES}

# Keys a child never takes from its parents: they shape the table itself, as in bake.
NOT_INHERITED: frozenset[str] = frozenset(
    {"inherits", "matrix", "matrix-include", "matrix-exclude", "name"}
)

# bake's `normalize` drops duplicates from these lists; so do we, keeping first occurrence.
DEDUPLICATED: frozenset[str] = frozenset(
    {"annotations", "tags", "platforms", "no-cache-filter", "ulimits", "entitlements"}
)
