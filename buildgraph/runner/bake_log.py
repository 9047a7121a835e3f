"""Reading what happened to each target out of bake's progress in plain form (buildx's
own, or written from its rawjson stream by `bake_progress`).

bake writes its metadata file only when every target succeeded; after a failure, the
progress log is what tells which targets were exported, which one failed, and which were
cut short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

from buildgraph.model.names import TARGET_NAME_CHARACTERS

_EXPORT = re.compile(
    rf"^#(\d+) \[({TARGET_NAME_CHARACTERS})\] exporting to (?:image|oci|docker|client)"
)
_DONE = re.compile(r"^#(\d+) DONE\b")
_TARGET_ERROR = re.compile(rf"target ({TARGET_NAME_CHARACTERS}):")


def exported_targets(lines: Iterable[str]) -> set[str]:
    """Targets whose export step finished: their results exist."""
    vertices: dict[str, str] = {}
    done: set[str] = set()
    for line in lines:
        export = _EXPORT.match(line)
        if export:
            vertices[export.group(1)] = export.group(2)
            continue
        finished = _DONE.match(line)
        if finished and finished.group(1) in vertices:
            done.add(vertices[finished.group(1)])
    return done


_FAILED_STEP_TEXT = re.compile(rf"^ > \[({TARGET_NAME_CHARACTERS})(?: [^\]]*)?\] (.*?):?$")


def failed_steps(lines: Iterable[str]) -> list[tuple[str, str]]:
    """(target as labelled, instruction) of each step bake's error report names.

    BuildKit runs a step shared by several targets once and labels it with one of them,
    so the label alone may name a dependent of the target that really failed."""
    steps = []
    for line in lines:
        match = _FAILED_STEP_TEXT.match(line)
        if match:
            steps.append((match.group(1), match.group(2).strip()))
    for line in lines:
        match = _TARGET_ERROR.search(line)
        if match and line.startswith("ERROR"):
            steps.append((match.group(1), ""))
    return steps


def attribute_failures(
    steps: Iterable[tuple[str, str]], dockerfiles: dict[str, str], order: list[str]
) -> set[str]:
    """The targets that failed: for each failed step, the earliest target (in build order)
    whose Dockerfile holds that instruction, else the target the step is labelled with."""
    failed = set()
    for label, instruction in steps:
        holders = [n for n in order if instruction and instruction in dockerfiles.get(n, "")]
        if label in order or holders:
            failed.add(holders[0] if holders else label)
    return failed


# buildx's error report shows where the failing instruction is: the Dockerfile as the build
# named it, a colon and the line, alone on a line above a frame of dashes (which holds the
# lines round it; buildx 0.13 leaves the frame empty). A step's own lines start with #N.
_PLACE = re.compile(r"^([^\s#](?:.*\S)?):(\d+)$")
_FRAME = "-----"


def failure_places(lines: Sequence[str]) -> list[str]:
    """The places (`FILE:LINE`) of the failing instructions the error report shows, in order."""
    return [
        line for line, below in pairwise(lines) if _PLACE.match(line) and below.startswith(_FRAME)
    ]


def places_of_failures(
    failed: Sequence[str], places: Sequence[str], dockerfile_names: Mapping[str, str]
) -> dict[str, str]:
    """Each failed target's place, of `places`: the last one in a file named as its
    Dockerfile is; failing that, for a target that failed alone, the last place of all."""
    found = {}
    for name in failed:
        own = [p for p in places if _file_name(p) == dockerfile_names.get(name)]
        if own:
            found[name] = own[-1]
        elif len(failed) == 1 and places:
            found[name] = places[-1]
    return found


def _file_name(place: str) -> str:
    return place.rpartition(":")[0].replace("\\", "/").rpartition("/")[2]
