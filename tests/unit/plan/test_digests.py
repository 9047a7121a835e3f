"""Digests files: what one runner pushed, read back strictly; several joined into each
target's tags, a disagreement refused, a missing platform told."""

from __future__ import annotations

from pathlib import Path

import pytest

from buildgraph.errors import ConfigError
from buildgraph.plan.digests import Incomplete, Join, TargetDigests, decode, encode, joins

AMD = "sha256:" + "a" * 64
ARM = "sha256:" + "b" * 64
REPO = "localhost:5000/t/app"
BOTH = ("linux/amd64", "linux/arm64")


def app(**digests: str) -> dict[str, TargetDigests]:
    by_platform = {p.replace("_", "/"): d for p, d in digests.items()}
    return {"app": TargetDigests(REPO, (f"{REPO}:1", f"{REPO}:latest"), BOTH, by_platform)}


def test_a_file_reads_back_as_written() -> None:
    written = app(linux_arm64=ARM)
    assert decode(encode(["linux/arm64"], written), Path("d.json")) == written


def test_two_runners_files_make_one_join_in_the_targets_platform_order() -> None:
    done, incomplete = joins(
        {Path("arm.json"): app(linux_arm64=ARM), Path("amd.json"): app(linux_amd64=AMD)}
    )
    assert done == [
        Join("app", (f"{REPO}:1", f"{REPO}:latest"), (f"{REPO}@{AMD}", f"{REPO}@{ARM}"), BOTH)
    ]
    assert incomplete == []


def test_a_platform_no_runner_reported_leaves_the_target_untagged() -> None:
    assert joins({Path("arm.json"): app(linux_arm64=ARM)}) == (
        [],
        [Incomplete("app", ("linux/amd64",))],
    )


def test_runners_that_built_other_plans_are_refused() -> None:
    other = app(linux_arm64="sha256:" + "c" * 64)
    with pytest.raises(ConfigError, match="two digests of linux/arm64"):
        joins({Path("a.json"): app(linux_arm64=ARM), Path("b.json"): other})
    retagged = {"app": TargetDigests(REPO, (f"{REPO}:2",), BOTH, {"linux/amd64": AMD})}
    with pytest.raises(ConfigError, match="other tags or platforms"):
        joins({Path("a.json"): app(linux_arm64=ARM), Path("b.json"): retagged})


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"buildgraph": "plan"}',
        '{"buildgraph": "digests", "version": 9, "targets": {}}',
        '{"buildgraph": "digests", "version": 1, "targets": {"app": {"tags": []}}}',
        '{"buildgraph": "digests", "version": 1, "targets": {"app": {"repository": "r", '
        '"tags": ["r:1"], "platforms": ["linux/amd64"], "digests": {"linux/amd64": "latest"}}}}',
    ],
)
def test_anything_but_a_digests_file_is_exit_2_naming_it(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        decode(text, Path("odd.json"))
    assert raised.value.exit_code == 2 and "odd.json" in str(raised.value)
