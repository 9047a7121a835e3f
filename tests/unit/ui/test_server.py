"""ui.server over real HTTP on the loopback interface: the token, the Host and Origin
checks, the refusal of other addresses, the event stream (a snapshot, then what changes),
the log, the rebuild button's POST, the static files and their policy."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from buildgraph.errors import ConfigError, EnvironmentProblem
from buildgraph.report.board import Board, PlanEntry
from buildgraph.report.events import Event, fan_out
from buildgraph.ui import server as ui_server
from buildgraph.ui.server import UiServer, is_loopback

ENTRIES = [PlanEntry("base", 1, ()), PlanEntry("app", 2, ("base",))]
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><g id="node1" class="node"><title>base</title></g></svg>'
ASSETS = Path(ui_server.__file__).parent / "assets"


class Page:
    """A started server and what a client needs to reach it."""

    def __init__(self, ui: UiServer) -> None:
        self.ui = ui
        self.url = ui.start()
        parts = urlsplit(self.url)
        self.port = parts.port or 0
        self.base = parts.path  # /TOKEN/
        self.emit = fan_out(ui.board.apply, ui.publish)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            answer = connection.getresponse()
            return answer.status, answer.headers, answer.read()
        finally:
            connection.close()

    def get(self, rest: str, **kwargs: Any) -> tuple[int, http.client.HTTPMessage, bytes]:
        return self.request("GET", self.base + rest, **kwargs)

    def post_rebuild(
        self, body: object, origin: str | None = "own", content_type: str = "application/json"
    ) -> tuple[int, Any]:
        headers = {"Content-Type": content_type}
        if origin == "own":
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        elif origin is not None:
            headers["Origin"] = origin
        status, _, data = self.request(
            "POST", self.base + "rebuild", headers=headers, body=json.dumps(body).encode()
        )
        return status, json.loads(data)


class Stream:
    """An open /events stream, read an event at a time."""

    def __init__(self, page: Page) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", page.port, timeout=10)
        self.connection.request("GET", page.base + "events")
        self.answer = self.connection.getresponse()
        assert self.answer.status == 200
        assert self.answer.headers.get_content_type() == "text/event-stream"

    def next(self) -> tuple[str, dict[str, Any]]:
        kind, data = "message", ""
        while True:
            line = self.answer.fp.readline()
            if not line:
                raise EOFError("the stream ended")
            text = line.decode().rstrip("\n")
            if text == "":
                if data:
                    return kind, json.loads(data)
                continue
            if text.startswith(":") or text.startswith("retry:"):
                continue
            field, _, value = text.partition(": ")
            if field == "event":
                kind = value
            elif field == "data":
                assert not data, "one data line an event"
                data = value

    def close(self) -> None:
        self.connection.close()


@pytest.fixture()
def page() -> Iterator[Page]:
    ui = UiServer(Board(ENTRIES), SVG, rebuild=lambda name: None)
    started = Page(ui)
    yield started
    ui.stop()


def test_the_url_is_loopback_with_a_random_token_and_pages_need_it(page: Page) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{32,}/", page.url)
    other = UiServer(Board(ENTRIES), None)
    assert other.token != page.ui.token
    assert page.get("")[0] == 200
    for path in ("/", "/nope/", "/" + page.ui.token[:-1] + "/", "/state", "/events"):
        status, _, body = page.request("GET", path)
        assert status == 404, path
        assert page.ui.token not in body.decode()
    # Without the trailing slash: sent to the page itself.
    status, headers, _ = page.request("GET", page.base.rstrip("/"))
    assert (status, headers["Location"]) == (301, page.base)


def test_another_host_header_is_refused(page: Page) -> None:
    """DNS rebinding: a name an attacker points at 127.0.0.1 reaches the port, but its
    Host header names that name."""
    for host in ("evil.example", f"evil.example:{page.port}", "127.0.0.1:1", "localhost"):
        status, _, _ = page.get("", headers={"Host": host})
        assert status == 421, host
    assert page.get("", headers={"Host": f"localhost:{page.port}"})[0] == 200
    assert page.get("", headers={"Host": f"LOCALHOST:{page.port}"})[0] == 200
    # No Host header at all (HTTP/1.0 style).
    with socket.create_connection(("127.0.0.1", page.port), timeout=5) as raw:
        raw.sendall(f"GET {page.base} HTTP/1.0\r\n\r\n".encode())
        assert raw.recv(100).split(b" ")[1] == b"421"


def test_the_page_and_its_files_are_served_with_their_types_and_a_strict_policy(
    page: Page,
) -> None:
    for rest, content_type, file in (
        ("", "text/html", "index.html"),
        ("assets/app.js", "text/javascript", "app.js"),
        ("assets/style.css", "text/css", "style.css"),
        ("assets/icon.svg", "image/svg+xml", "icon.svg"),
    ):
        status, headers, body = page.get(rest)
        assert status == 200, rest
        assert headers.get_content_type() == content_type, rest
        assert body == (ASSETS / file).read_bytes()
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    for rest in ("assets/server.py", "assets/../server.py", "assets/", "assets/index.html"):
        assert page.get(rest)[0] == 404, rest
    # Errors carry the policy too.
    assert "script-src 'self'" in page.get("nope")[1]["Content-Security-Policy"]


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script() -> None:
    html = (ASSETS / "index.html").read_text()
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == [
        "assets/style.css",
        "assets/icon.svg",
        "assets/app.js",
    ]
    assert re.findall(r"<script\b[^>]*>\s*</script>", html) == [
        '<script src="assets/app.js" defer></script>'
    ]
    assert not re.search(r"\son[a-z]+\s*=", html)  # no event handler attribute
    script = (ASSETS / "app.js").read_text()
    # Data reaches the page as text only.
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "Function(",
    ):
        assert sink not in script, sink
    assert "http://" not in script and "https://" not in script


def test_the_stream_starts_with_a_snapshot_then_sends_what_changes(page: Page) -> None:
    page.emit(Event("queued", "base"))
    stream = Stream(page)
    try:
        kind, snapshot = stream.next()
        assert kind == "snapshot"
        assert snapshot["mode"] == "watch"
        assert snapshot["picture"] == 0
        assert [(t["name"], t["state"]) for t in snapshot["targets"]] == [
            ("base", "waiting"),
            ("app", "idle"),
        ]
        assert snapshot["targets"][1]["needs"] == ["base"]
        page.emit(Event("started", "base", time=100.0))
        page.emit(Event("note", detail="a note"))
        page.emit(Event("log", "base", detail="#1 a line"))
        page.emit(Event("step", "base", status="running", detail="[base 2/3] RUN make"))
        seen = [stream.next() for _ in range(4)]
    finally:
        stream.close()
    assert [kind for kind, _ in seen] == ["target", "note", "log", "target"]
    assert seen[0][1]["state"] == "building"
    assert seen[0][1]["started"] == 100.0
    assert seen[1][1]["text"] == "a note"
    assert seen[2][1] == {"target": "base", "line": "#1 a line", "seq": seen[2][1]["seq"]}
    assert (seen[3][1]["step"], seen[3][1]["step_index"], seen[3][1]["step_count"]) == (
        "[base 2/3] RUN make",
        2,
        3,
    )
    numbers = [snapshot["seq"]] + [data["seq"] for _, data in seen]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_a_page_that_reconnects_gets_the_whole_state_first(page: Page) -> None:
    first = Stream(page)
    first.next()
    page.emit(Event("started", "base"))
    page.emit(Event("finished", "base", status="done", seconds=1.5))
    first.close()
    again = Stream(page)
    try:
        kind, snapshot = again.next()
    finally:
        again.close()
    assert kind == "snapshot"
    base = snapshot["targets"][0]
    assert (base["state"], base["seconds"]) == ("done", 1.5)


def test_the_log_endpoint_gives_the_lines_so_far_and_streamed_ones_follow(page: Page) -> None:
    page.emit(Event("started", "base", time=7.0))
    for n in range(3):
        page.emit(Event("log", "base", detail=f"line {n}"))
    status, headers, body = page.get("log?target=base")
    assert status == 200
    assert headers.get_content_type() == "application/json"
    log = json.loads(body)
    assert (log["lines"], log["started"]) == (["line 0", "line 1", "line 2"], 7.0)
    stream = Stream(page)
    try:
        stream.next()
        page.emit(Event("log", "base", detail="line 3"))
        kind, line = stream.next()
    finally:
        stream.close()
    assert (kind, line["line"]) == ("log", "line 3")
    assert line["seq"] > log["seq"]  # the page appends it to what it fetched
    assert page.get("log?target=nope")[0] == 404
    assert page.get("log")[0] == 404


def test_markup_in_a_log_line_and_line_breaks_stay_data(page: Page) -> None:
    hostile = '<script>alert(1)</script>\r\ndata: {"forged": true}\n\nevent: snapshot'
    stream = Stream(page)
    try:
        stream.next()
        page.emit(Event("log", "app", detail=hostile))
        page.emit(Event("log", "app", detail="after"))
        first, second = stream.next(), stream.next()
    finally:
        stream.close()
    assert first == ("log", {"target": "app", "line": hostile, "seq": first[1]["seq"]})
    assert second[1]["line"] == "after"
    body = page.get("log?target=app")[2]
    assert json.loads(body)["lines"] == [hostile, "after"]


def test_a_failure_is_kept_with_its_step_through_a_rebuild(page: Page) -> None:
    page.emit(Event("started", "app", time=1.0))
    page.emit(Event("step", "app", status="running", detail="[app 1/1] RUN exit 3"))
    page.emit(Event("log", "app", detail="#5 ERROR: exit code: 3"))
    page.emit(Event("step", "app", status="failed", detail="[app 1/1] RUN exit 3"))
    page.emit(
        Event(
            "finished",
            "app",
            status="failed",
            detail="exit code 3",
            data={"failed_at": "app/Dockerfile:2"},
            time=2.0,
        )
    )
    page.emit(Event("rebuild", "app", detail="its Dockerfile changed"))
    status, _, body = page.get("state")
    assert status == 200
    app = json.loads(body)["targets"][1]
    assert (app["state"], app["reason"], app["step"]) == ("waiting", "its Dockerfile changed", None)
    assert app["failure"] == {
        "step": "[app 1/1] RUN exit 3",
        "failed_at": "app/Dockerfile:2",
        "detail": "exit code 3",
        "log_tail": ["#5 ERROR: exit code: 3"],
        "time": 2.0,
    }


def test_the_rebuild_button_calls_back_only_from_the_page_itself() -> None:
    asked: list[str] = []

    def rebuild(name: str) -> str | None:
        asked.append(name)
        return "a build is running; it is rebuilt after" if name == "app" else None

    page = Page(UiServer(Board(ENTRIES), SVG, rebuild=rebuild))
    try:
        assert page.post_rebuild({"target": "base"}) == (202, {"rebuilding": "base"})
        assert page.post_rebuild({"target": "app"}) == (
            409,
            {"error": "a build is running; it is rebuilt after"},
        )
        for origin in (None, "http://evil.example", f"http://localhost:{page.port}", "null"):
            assert page.post_rebuild({"target": "base"}, origin=origin)[0] == 403, origin
        assert page.post_rebuild({"target": "nope"})[0] == 404
        assert page.post_rebuild({"name": "base"})[0] == 400
        assert page.post_rebuild("base")[0] == 400
        assert page.post_rebuild({"target": "base"}, content_type="text/plain")[0] == 415
        # A simple form POST from elsewhere has the wrong Origin, and no token anyway.
        assert page.request("POST", "/rebuild", headers={"Origin": "own"})[0] == 404
    finally:
        page.ui.stop()
    assert asked == ["base", "app"]


def test_a_callback_that_raises_is_an_answer_not_a_crash() -> None:
    def rebuild(name: str) -> str | None:
        raise RuntimeError("boom")

    page = Page(UiServer(Board(ENTRIES), SVG, rebuild=rebuild))
    try:
        status, answer = page.post_rebuild({"target": "base"})
        assert status == 409 and "boom" in answer["error"]
        assert page.get("")[0] == 200
    finally:
        page.ui.stop()


def test_build_mode_has_no_rebuild() -> None:
    page = Page(UiServer(Board(ENTRIES), None))
    try:
        assert page.post_rebuild({"target": "base"})[0] == 405
        snapshot = json.loads(page.get("state")[2])
        assert (snapshot["mode"], snapshot["picture"]) == ("build", None)
        assert page.get("picture")[0] == 404
    finally:
        page.ui.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.com", "10.0.0.1"])
def test_another_address_than_loopback_is_refused_unless_allowed(host: str) -> None:
    with pytest.raises(ConfigError) as refused:
        UiServer(Board(ENTRIES), None, host=host)
    assert refused.value.exit_code == 2
    [problem] = refused.value.problems
    assert problem.hint is not None and "--ui-allow-remote" in problem.hint
    UiServer(Board(ENTRIES), None, host=host, allow_remote=True)  # allowed: no error


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses_are_loopback(host: str) -> None:
    assert is_loopback(host)


def test_served_on_every_address_when_allowed_any_host_name_is_answered() -> None:
    ui = UiServer(Board(ENTRIES), None, host="0.0.0.0", allow_remote=True)
    page = Page(ui)
    try:
        assert page.url.startswith("http://127.0.0.1:")
        assert page.get("", headers={"Host": f"buildhost.lan:{page.port}"})[0] == 200
        assert page.request("GET", "/")[0] == 404  # the token is still needed
    finally:
        ui.stop()


def test_a_given_port_is_used_and_a_taken_one_is_an_environment_problem(page: Page) -> None:
    with pytest.raises(EnvironmentProblem) as taken:
        UiServer(Board(ENTRIES), None, port=page.port).start()
    assert str(page.port) in str(taken.value)
    with pytest.raises(ConfigError):
        UiServer(Board(ENTRIES), None, port=70000)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    ui = UiServer(Board(ENTRIES), None, port=free)
    try:
        assert ui.start() == f"http://127.0.0.1:{free}/{ui.token}/"
    finally:
        ui.stop()


def test_replan_sends_the_new_targets_and_picture() -> None:
    board = Board(ENTRIES)
    page = Page(UiServer(board, SVG, rebuild=lambda name: None))
    stream = Stream(page)
    try:
        assert stream.next()[1]["picture"] == 0
        board.replan([*ENTRIES, PlanEntry("new", 2, ("base",))])
        page.ui.replan(SVG.replace("base", "new"))
        kind, snapshot = stream.next()
        assert kind == "snapshot"
        assert snapshot["picture"] == 1
        assert [t["name"] for t in snapshot["targets"]] == ["base", "app", "new"]
        assert page.get("picture")[2].decode() == SVG.replace("base", "new")
        board.replan(ENTRIES)
        page.ui.replan(None)
        assert stream.next()[1]["picture"] is None
        assert page.get("picture")[0] == 404
    finally:
        stream.close()
        page.ui.stop()


def test_a_stalled_page_never_slows_the_build_and_gets_a_snapshot_after() -> None:
    board = Board(ENTRIES)
    page = Page(UiServer(board, None))
    # A page that connects and then reads nothing: its socket's buffers fill up.
    stalled = socket.create_connection(("127.0.0.1", page.port), timeout=5)
    stalled.sendall(
        f"GET {page.base}events HTTP/1.0\r\nHost: 127.0.0.1:{page.port}\r\n\r\n".encode()
    )
    time.sleep(0.2)
    line = "x" * 500
    began = time.perf_counter()
    for n in range(100_000):
        page.emit(Event("log", "base", detail=f"{n} {line}"))
    took = time.perf_counter() - began
    stalled.close()
    page.ui.stop()
    # 100,000 events (50 MB of lines) would take minutes through a blocked socket.
    assert took < 20, took


def test_a_stream_that_falls_behind_is_sent_a_snapshot_instead() -> None:
    ui = UiServer(Board(ENTRIES), None)
    stream = ui.open_stream()
    assert stream.wait(0) == "resync"
    ui.resynced(stream)
    assert stream.wait(0) == "idle"
    for n in range(ui_server.PENDING):
        ui.publish(Event("log", "base", detail=str(n)))
    assert stream.wait(0) == "messages"
    ui.publish(Event("log", "base", detail="one too many"))
    assert stream.wait(0) == "resync"


def test_successive_views_of_a_target_merge_while_a_page_is_behind() -> None:
    ui = UiServer(Board(ENTRIES), None)
    stream = ui.open_stream()
    ui.resynced(stream)
    for n in range(50):
        event = Event("step", "base", status="running", detail=f"[base {n}/50] RUN")
        ui.board.apply(event)
        ui.publish(event)
    ui.publish(Event("note", detail="between"))
    event = Event("finished", "base", status="done")
    ui.board.apply(event)
    ui.publish(event)
    sent = stream.take().split("\n\n")[:-1]
    assert len(sent) == 3
    assert '"step": "[base 49/50] RUN"' in sent[0]
    assert '"done"' in sent[2]


def test_stop_ends_the_streams_and_frees_the_port() -> None:
    page = Page(UiServer(Board(ENTRIES), None))
    stream = Stream(page)
    stream.next()
    ended = threading.Event()

    def read_to_the_end() -> None:
        try:
            while True:
                stream.next()
        except (EOFError, OSError):
            ended.set()

    reader = threading.Thread(target=read_to_the_end, daemon=True)
    reader.start()
    page.ui.stop()
    assert ended.wait(5)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", page.port), timeout=2).close()
    page.ui.stop()  # twice is fine


def test_events_of_other_targets_and_kinds_are_ignored(page: Page) -> None:
    page.ui.publish(Event("started", "not-in-the-plan"))
    page.ui.publish(Event("log", "not-in-the-plan", detail="x"))
    page.ui.publish(Event("summary", data={"targets": []}))
    page.ui.publish(Event("started"))
    assert json.loads(page.get("state")[2])["seq"] == 0


def test_nothing_of_the_ui_is_imported_by_the_commands_without_it() -> None:
    code = (
        "import sys\n"
        "import buildgraph.cli.main as m, buildgraph.build.command, buildgraph.changes.watch\n"
        "m.build_parser()\n"
        "print([n for n in sys.modules if n.startswith('buildgraph.ui')])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
