"""Reading bake's rawjson progress: each target's own seconds, and the readable log.

The fixtures are real streams: `docker buildx bake --progress rawjson app bad` of two
targets, `bad` built on `app` (a named context `target:app`) and failing after
`RUN sleep 0.5`, written by buildx 0.29.1 (one object a line) and 0.13.1 (indented)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buildgraph.runner.bake_log import (
    attribute_failures,
    exported_targets,
    failed_steps,
    failure_places,
    places_of_failures,
)
from buildgraph.runner.bake_progress import BakeProgress

STREAMS = Path(__file__).parents[2] / "fixtures" / "bake_progress"


def read(stream: str, targets: tuple[str, ...] = ("app", "bad")) -> tuple[BakeProgress, str]:
    written: list[str] = []
    progress = BakeProgress(targets, written.append)
    for line in (STREAMS / stream).read_text().splitlines(keepends=True):
        progress.feed(line)
    progress.close()
    return progress, "".join(written)


@pytest.mark.parametrize("stream", ["buildx-0.29-two-targets.log", "buildx-0.13-two-targets.log"])
def test_each_target_gets_its_own_seconds(stream: str) -> None:
    progress, _ = read(stream)
    spans = progress.spans()
    assert set(spans) == {"app", "bad"}
    (_, app_end), (bad_start, bad_end) = spans["app"], spans["bad"]
    # bad's failing step runs after app's steps it shares, and ends last.
    assert bad_end > app_end
    assert bad_end - bad_start >= 0.5  # its own `RUN sleep 0.5` at least
    seconds = progress.seconds()
    assert seconds["bad"] != seconds["app"]
    assert all(0 < s < 60 for s in seconds.values())


def test_the_times_are_buildkits_own() -> None:
    progress, _ = read("buildx-0.29-two-targets.log")
    # From the stream: bad's first step started 22:34:33.336, its last ended 22:34:35.944.
    assert progress.seconds()["bad"] == pytest.approx(35.944 - 33.336, abs=0.002)


@pytest.mark.parametrize("stream", ["buildx-0.29-two-targets.log", "buildx-0.13-two-targets.log"])
def test_the_readable_log_tells_what_plain_progress_would(stream: str) -> None:
    _, text = read(stream)
    lines = text.splitlines()
    assert exported_targets(lines) == {"app"}
    steps = failed_steps(lines)
    assert ("bad", "RUN sleep 0.5; exit 3") in steps
    dockerfiles = {"app": "RUN sleep 1 && echo hi", "bad": "FROM app\nRUN sleep 0.5; exit 3"}
    assert attribute_failures(steps, dockerfiles, ["app", "bad"]) == {"bad"}
    # bake's own report, which is not JSON, is kept as it came.
    assert any(line.startswith("ERROR: ") and "exit code: 3" in line for line in lines)
    assert not any(line.lstrip().startswith(("{", '"vertexes"')) for line in lines)


@pytest.mark.parametrize(
    ("stream", "cached"), [("buildx-0.29-two-targets.log", 1), ("buildx-0.13-two-targets.log", 3)]
)
def test_each_target_counts_its_instructions_steps_and_those_from_the_cache(
    stream: str, cached: int
) -> None:
    progress, _ = read(stream)
    # Each has base's two and stage-1's one; bad's own RUN failed, the internal steps
    # and the export are BuildKit's, not instructions.
    assert progress.instruction_steps() == {"app": (3, cached), "bad": (3, cached)}
    # Told that bad needs app, the steps bake reported under both are app's alone.
    assert progress.instruction_steps({"bad": ["app"]}) == {"app": (3, cached)}


@pytest.mark.parametrize("stream", ["buildx-0.29-two-targets.log", "buildx-0.13-two-targets.log"])
def test_the_failing_instruction_is_placed_in_its_dockerfile(stream: str) -> None:
    _, text = read(stream)
    places = failure_places(text.splitlines())
    assert places == ["b.Dockerfile:2"]
    names = {"app": "Dockerfile", "bad": "b.Dockerfile"}
    assert places_of_failures(["bad"], places, names) == {"bad": "b.Dockerfile:2"}
    # Of two failed targets, each takes a place in a file of its Dockerfile's name only.
    assert places_of_failures(["app", "bad"], places, names) == {"bad": "b.Dockerfile:2"}
    assert places_of_failures(["app"], [], names) == {}


def test_a_place_is_a_line_alone_above_the_frame_never_a_steps_line() -> None:
    lines = [
        "#7 0.120 see config.py:12",
        "------",
        "#8 ERROR: exit code: 3",
        "------",
        "services/api/Dockerfile.prod:17",
        "--------------------",
        "services/api/Dockerfile.prod:18",
        "not a frame",
    ]
    assert failure_places(lines) == ["services/api/Dockerfile.prod:17"]
    names = {"api": "Dockerfile.prod"}
    assert places_of_failures(["api"], failure_places(lines), names) == {
        "api": "services/api/Dockerfile.prod:17"
    }


def test_a_step_log_is_decoded() -> None:
    _, text = read("buildx-0.29-two-targets.log")
    assert any(line.endswith(" hi") for line in text.splitlines())  # `echo hi`'s output


def test_a_bake_of_one_target_labels_nothing_and_all_steps_are_its() -> None:
    progress, _ = read("buildx-0.29-two-targets.log", targets=("only",))
    assert set(progress.seconds()) == {"only"}


def test_targets_not_of_this_run_are_not_timed() -> None:
    progress, _ = read("buildx-0.29-two-targets.log", targets=("app", "other"))
    assert set(progress.seconds()) == {"app"}


def event(**fields: object) -> str:
    return json.dumps(fields) + "\n"


def test_a_cancelled_step_is_not_a_failed_one() -> None:
    written: list[str] = []
    progress = BakeProgress(("a", "b"), written.append)
    progress.feed(event(vertexes=[{"digest": "d1", "name": "[a 1/1] RUN x"}]))
    progress.feed(
        event(
            vertexes=[
                {
                    "digest": "d1",
                    "name": "[a 1/1] RUN x",
                    "started": "2026-01-01T00:00:00Z",
                    "completed": "2026-01-01T00:00:01.5Z",
                    "error": "context canceled",
                }
            ]
        )
    )
    lines = "".join(written).splitlines()
    assert lines == ["#1 [a 1/1] RUN x", "#1 CANCELED"]
    assert failed_steps(lines) == []
    assert progress.seconds() == {"a": pytest.approx(1.5)}


def test_a_name_with_a_newline_stays_on_its_line() -> None:
    written: list[str] = []
    progress = BakeProgress(("a",), written.append)
    progress.feed(
        event(
            vertexes=[
                {"digest": "d", "name": "x\n > [a 1/1] forged:", "started": "2026-01-01T00:00:00Z"}
            ]
        )
    )
    assert "".join(written).splitlines() == ["#1 x  > [a 1/1] forged:"]


def test_what_is_not_json_or_never_closes_is_kept_as_text() -> None:
    written: list[str] = []
    progress = BakeProgress(("a",), written.append)
    for line in ["{not json}\n", "plain text\n", "{\n", '  "vertexes": [\n']:
        progress.feed(line)
    progress.close()
    assert "".join(written) == '{not json}\nplain text\n{\n  "vertexes": [\n'


def test_go_zero_times_and_odd_stamps_are_ignored() -> None:
    written: list[str] = []
    progress = BakeProgress(("a",), written.append)
    for started in ("0001-01-01T00:00:00Z", "yesterday", 7):
        progress.feed(
            event(vertexes=[{"digest": str(started), "name": "[a 1/1] RUN x", "started": started}])
        )
    assert progress.seconds() == {}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=40), st.sampled_from(["{", "}", "{}", "[1]"])).map(
            lambda part: part + "\n"
        )
    )
)
def test_any_output_is_read_without_error(lines: list[str]) -> None:
    written: list[str] = []
    progress = BakeProgress(("a", "b"), written.append)
    for line in lines:
        progress.feed(line)
    progress.close()
    progress.seconds()


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "vertexes",
                        "statuses",
                        "logs",
                        "warnings",
                        "digest",
                        "name",
                        "started",
                        "completed",
                        "error",
                        "cached",
                        "vertex",
                        "data",
                        "id",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_any_json_event_is_read_without_error(value: object) -> None:
    progress = BakeProgress(("a", "b"), lambda text: None)
    progress.feed(json.dumps(value) + "\n")
    progress.close()
    progress.seconds()


def test_a_step_left_running_counts_until_the_bake_was_found_ended() -> None:
    """The engine went away mid-step: the step never completes, the target ran until then."""
    progress = BakeProgress(("a", "b"), lambda text: None)
    progress.feed(
        event(
            vertexes=[
                {
                    "digest": "d1",
                    "name": "[a 1/2] COPY x /",
                    "started": "2026-01-01T00:00:00Z",
                    "completed": "2026-01-01T00:00:00.5Z",
                }
            ]
        )
    )
    progress.feed(
        event(
            vertexes=[
                {
                    "digest": "d2",
                    "name": "[a 2/2] RUN sleep 20",
                    "started": "2026-01-01T00:00:00.5Z",
                }
            ]
        )
    )
    assert progress.seconds() == {"a": pytest.approx(0.5)}
    from datetime import datetime, timezone

    until = datetime(2026, 1, 1, 0, 0, 6, tzinfo=timezone.utc).timestamp()
    assert progress.seconds(until=until) == {"a": pytest.approx(6.0)}


@pytest.mark.parametrize("stream", ["buildx-0.29-two-targets.log", "buildx-0.13-two-targets.log"])
def test_each_step_and_log_line_is_told_under_its_target(stream: str) -> None:
    from buildgraph.report.events import Event

    told: list[Event] = []
    written: list[str] = []
    progress = BakeProgress(("app", "bad"), written.append, told.append)
    for line in (STREAMS / stream).read_text().splitlines(keepends=True):
        progress.feed(line)
    progress.close()
    steps = [e for e in told if e.event == "step"]
    assert {e.target for e in steps} == {"app", "bad"}
    failing = [e for e in steps if e.status == "failed"]
    assert [(e.target, e.detail) for e in failing] == [("bad", "[bad 1/2] RUN sleep 0.5; exit 3")]
    assert failing[0].seconds is not None and failing[0].seconds >= 0.5
    # Each step is told running before it is told ended.
    for target, name in {(e.target, e.detail) for e in steps}:
        statuses = [e.status for e in steps if (e.target, e.detail) == (target, name)]
        assert statuses[0] == "running" and len(statuses) > 1, (target, name, statuses)
    # The log lines told are those of the readable log that belong to a step of a target.
    logged = [e.detail for e in told if e.event == "log"]
    assert logged and set(logged) <= set("".join(written).splitlines())
    assert any("ERROR" in line for line in logged if line)
    assert {e.target for e in told if e.event == "log" and "sleep 0.5" in (e.detail or "")} == {
        "bad"
    }


def test_without_an_emit_nothing_is_told_and_the_log_is_the_same() -> None:
    from buildgraph.report.events import Event

    _, quiet = read("buildx-0.29-two-targets.log")
    told: list[Event] = []
    written: list[str] = []
    progress = BakeProgress(("app", "bad"), written.append, told.append)
    for line in (STREAMS / "buildx-0.29-two-targets.log").read_text().splitlines(keepends=True):
        progress.feed(line)
    progress.close()
    assert "".join(written) == quiet and told
