"""The page's HTTP server: the standard library's threading server, in a daemon thread, on
the loopback interface only (unless `allow_remote`), every path under a random token.

    /TOKEN/                  the page (assets/index.html), its script and style sheet
    /TOKEN/assets/NAME       app.js, style.css, icon.svg
    /TOKEN/state             every target's view, as JSON (what the stream starts with)
    /TOKEN/picture           the plan's SVG, as Graphviz drew it (404 when there is none)
    /TOKEN/log?target=NAME   the target's log so far, as JSON
    /TOKEN/events            server-sent events: a snapshot, then what changes
    /TOKEN/rebuild           POST {"target": NAME}: watch mode's rebuild button

What it refuses, and why: a path without the token (404), so that other users of the
machine, who can reach the port, cannot read the logs; a Host header that is not this
server's address (421), so that a web page whose name an attacker points at 127.0.0.1 (DNS
rebinding) is not answered; a POST whose Origin is not the page's own (403), so that no
other site can press the rebuild button. Every answer carries a Content-Security-Policy
that lets the page run only its own script file and connect only to this server.

The run feeds it through `publish`, after `Board.apply` in the same fan-out. Each stream
has a queue of its own, bounded: `publish` only appends to it (a target's successive
views merge into one), and a stream that falls too far behind is cleared and sent a
whole snapshot instead, so a slow or stalled browser never slows the build. Every
message carries a sequence number: the page drops a log line already in the log it
fetched.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from buildgraph.errors import ConfigError, EnvironmentProblem

if TYPE_CHECKING:
    from buildgraph.report.board import Board, TargetView
    from buildgraph.report.events import Event

PENDING = 20_000  # messages a stream may have waiting; past that it gets a new snapshot
NOTES_KEPT = 100  # notes, errors and changes kept for a page that connects later
KEEPALIVE = 15.0  # seconds between comments on an idle stream (finds closed ones)
WRITE_TIMEOUT = 60.0  # seconds a socket may block; past that the page is let go
MAX_BODY = 4_096  # bytes of a POST body
TOKEN_BYTES = 24
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
# Events that change a target's view; log lines are sent as lines; the rest are notes.
TARGET_EVENTS = frozenset({"queued", "started", "step", "skipped", "finished", "rebuild"})
NOTE_EVENTS = frozenset({"note", "error", "change", "plan", "batch"})
_WILDCARDS = ("0.0.0.0", "::", "")

Rebuild = Callable[[str], "str | None"]


class UiServer:
    """The page of one run. `picture` is the plan's SVG (None: the page lists the targets by
    wave). `rebuild`, in watch mode, is called with a target's name when its button is
    pressed, and returns None or why it cannot (shown on the page); without it the page
    has no rebuild buttons. `port` 0 takes a free one."""

    def __init__(
        self,
        board: Board,
        picture: str | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        rebuild: Rebuild | None = None,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ConfigError.one(
                f"the page would be served on {host!r}, which is not this machine's loopback"
                " address: anyone who can reach it could read the build's logs",
                key="--ui-host",
                hint="leave --ui-host out (127.0.0.1), or add --ui-allow-remote to serve the"
                " page beyond this machine on purpose (the URL's token is then all that"
                " guards it)",
            )
        if not 0 <= port <= 65535:
            raise ConfigError.one(f"--ui-port {port} is no port", hint="a port 1-65535, or 0")
        self.board = board
        self.host = host
        self.port = port
        self.allow_remote = allow_remote
        self.rebuild = rebuild
        self.token = secrets.token_urlsafe(TOKEN_BYTES)
        self.url = ""
        self._lock = threading.Lock()  # the fields below, and the order of messages
        self._picture = picture
        self._generation = 0  # of the picture: the page reloads it when this changes
        self._seq = 0
        self._streams: list[_Stream] = []
        self._notes: deque[dict[str, Any]] = deque(maxlen=NOTES_KEPT)
        self._failures: dict[str, dict[str, Any]] = {}
        self._hosts: frozenset[str] = frozenset()
        self._httpd: _Httpd | None = None
        self._thread: threading.Thread | None = None
        self._files = {name: _asset(name) for name in (*ASSETS, "index.html")}

    # The run's side -------------------------------------------------------------------

    def start(self) -> str:
        """Bind, serve in a daemon thread; the page's URL (also `self.url`)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            httpd = _Httpd((self.host, self.port), _Handler, family, self)
        except OSError as exc:
            raise EnvironmentProblem(
                f"the page cannot be served on {self.host}:{self.port}: {exc.strerror or exc}"
                "; leave --ui-port out for a free port, or name another"
            ) from exc
        port = httpd.server_address[1]
        shown = "127.0.0.1" if self.host in _WILDCARDS else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        self._hosts = frozenset(
            {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"{shown}:{port}"}
        )
        self.port = port
        self.url = f"http://{shown}:{port}/{self.token}/"
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="ui", daemon=True
        )
        self._thread.start()
        return self.url

    def publish(self, event: Event) -> None:
        """Tell every open page about `event` (already applied to the board). Cheap: one
        view read and one JSON text, appended to each stream's queue."""
        kind = event.event
        if kind in TARGET_EVENTS:
            if event.target is None:
                return
            with self._lock:  # read under the lock: the views go out in the order read
                view = self.board.view(event.target)
                if view is None:
                    return
                if kind == "finished" and view.state == "failed":
                    self._failures[view.name] = _failure(view, event.time)
                self._send("target", view.name, self._view_data(view))
        elif kind == "log":
            if event.target is None or self.board.view(event.target) is None:
                return
            with self._lock:
                self._send("log", None, {"target": event.target, "line": event.detail or ""})
        elif kind in NOTE_EVENTS:
            note = _note(event)
            with self._lock:
                self._notes.append(note)
                self._send("note", None, note)

    def replan(self, picture: str | None) -> None:
        """Watch re-planned (call after `board.replan`): every page is sent the new
        targets, and reloads the picture, `picture` (None: none)."""
        with self._lock:
            self._picture = picture
            self._generation += 1
            self._failures = {
                name: failure
                for name, failure in self._failures.items()
                if self.board.view(name) is not None
            }
            for stream in self._streams:
                stream.resync()

    def stop(self) -> None:
        """Close every stream and stop serving; the port is free on return."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        with self._lock:
            streams, self._streams = self._streams, []
        for stream in streams:
            stream.close()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # What the handler asks -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot()

    def picture(self) -> str | None:
        with self._lock:
            return self._picture

    def log(self, name: str) -> dict[str, Any] | None:
        """The target's log so far, and the sequence number it is as of: a streamed line
        numbered at or below it is in these lines already (the number is read before the
        lines, so a line is never missed; one written at that very moment may show twice)."""
        with self._lock:
            seq = self._seq
        view = self.board.view(name)
        if view is None:
            return None
        return {"target": name, "seq": seq, "started": view.started, "lines": self.board.log(name)}

    def open_stream(self) -> _Stream:
        stream = _Stream()
        with self._lock:
            self._streams.append(stream)
        return stream

    def close_stream(self, stream: _Stream) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)

    def resynced(self, stream: _Stream) -> str:
        """The snapshot a stream starts with (or restarts with, having fallen behind), as
        one event; whatever it had waiting is dropped, the snapshot holding it."""
        with self._lock:
            stream.take()
            return _sse("snapshot", self._snapshot())

    def asset(self, name: str) -> bytes:
        return self._files[name]

    def allowed_host(self, host: str | None) -> bool:
        if self.allow_remote and self.host in _WILDCARDS:
            return True  # whatever name reaches this machine: the token guards it
        return host is not None and host.lower() in self._hosts

    def is_token(self, text: str) -> bool:
        return hmac.compare_digest(text.encode(), self.token.encode())

    # Under self._lock ----------------------------------------------------------------

    def _send(self, kind: str, key: str | None, data: dict[str, Any]) -> None:
        self._seq += 1
        data["seq"] = self._seq
        text = _sse(kind, data)
        for stream in self._streams:
            stream.push(key, text)

    def _snapshot(self) -> dict[str, Any]:
        return {
            "seq": self._seq,
            "now": time.time(),
            "mode": "watch" if self.rebuild is not None else "build",
            "picture": self._generation if self._picture is not None else None,
            "targets": [self._view_data(view) for view in self.board.views()],
            "notes": list(self._notes),
        }

    def _view_data(self, view: TargetView) -> dict[str, Any]:
        return {
            "name": view.name,
            "wave": view.wave,
            "needs": list(view.needs),
            "state": view.state,
            "cached": view.cached,
            "step": view.step,
            "step_index": view.step_index,
            "step_count": view.step_count,
            "running": list(view.running),
            "steps_done": view.steps_done,
            "steps_cached": view.steps_cached,
            "started": view.started,
            "seconds": view.seconds,
            "detail": view.detail,
            "reason": view.reason,
            "failed_at": view.failed_at,
            "failure": self._failures.get(view.name),
        }


def is_loopback(host: str) -> bool:
    """Whether `host` (an address, or the name localhost) is this machine's own."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another name: it may resolve anywhere


class _Stream:
    """One page's queue of server-sent events, waiting to be written."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[str | None, str]] = []  # (target of a view, or None; text)
        self._resync = True  # a stream starts with a snapshot
        self.closed = False

    def push(self, key: str | None, text: str) -> None:
        with self._cond:
            if self._resync or self.closed:
                return  # the snapshot to come holds it
            queue = self._queue
            if key is not None and queue and queue[-1][0] == key:
                queue[-1] = (key, text)  # a newer view of the same target: one is enough
            elif len(queue) >= PENDING:
                queue.clear()
                self._resync = True
            else:
                queue.append((key, text))
            self._cond.notify()

    def resync(self) -> None:
        with self._cond:
            self._queue.clear()
            self._resync = True
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify()

    def wait(self, timeout: float) -> str:
        """Until something is due: "closed", "resync", "messages", or "idle" on timeout."""
        with self._cond:
            self._cond.wait_for(lambda: self.closed or self._resync or self._queue, timeout)
            if self.closed:
                return "closed"
            if self._resync:
                return "resync"
            return "messages" if self._queue else "idle"

    def take(self) -> str:
        with self._cond:
            texts = "".join(text for _, text in self._queue)
            self._queue.clear()
            self._resync = False
            return texts


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        family: socket.AddressFamily,
        ui: UiServer,
    ) -> None:
        self.address_family = family
        self.ui = ui
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page that went away mid-answer is no error; anything else is a bug, shown."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server_version = "buildgraph"
    sys_version = ""
    timeout = WRITE_TIMEOUT  # a page that stops reading is let go, not waited on forever

    @property
    def ui(self) -> UiServer:
        server = self.server
        assert isinstance(server, _Httpd)
        return server.ui

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the run's output is the build's, not the page's."""

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return
        path, query = route
        ui = self.ui
        if path == "":
            self._reply(HTTPStatus.OK, "text/html; charset=utf-8", ui.asset("index.html"))
        elif path.startswith("assets/") and path[7:] in ASSETS:
            self._reply(HTTPStatus.OK, ASSETS[path[7:]], ui.asset(path[7:]))
        elif path == "state":
            self._json(HTTPStatus.OK, ui.snapshot())
        elif path == "picture":
            picture = ui.picture()
            if picture is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": "no picture of the graph"})
            else:
                self._reply(HTTPStatus.OK, "image/svg+xml; charset=utf-8", picture.encode())
        elif path == "log":
            name = (query.get("target") or [""])[0]
            log = ui.log(name)
            if log is None:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no target {name!r}"})
            else:
                self._json(HTTPStatus.OK, log)
        elif path == "events":
            self._stream()
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such page"})

    def do_POST(self) -> None:
        route = self._route()
        if route is None:
            return
        path, _ = route
        ui = self.ui
        if self.headers.get("Origin") != f"http://{self.headers.get('Host')}":
            self._json(HTTPStatus.FORBIDDEN, {"error": "not from this page"})
            return
        if path != "rebuild":
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such page"})
            return
        if ui.rebuild is None:
            self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "rebuilds are for watch mode"})
            return
        name = self._posted_target()
        if name is None:
            return
        if ui.board.view(name) is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no target {name!r}"})
            return
        try:
            refused = ui.rebuild(name)
        except Exception as exc:  # the page shows it; the run goes on
            refused = f"the rebuild failed to start: {exc}"
        if refused is not None:
            self._json(HTTPStatus.CONFLICT, {"error": refused})
        else:
            self._json(HTTPStatus.ACCEPTED, {"rebuilding": name})

    def _route(self) -> tuple[str, dict[str, list[str]]] | None:
        """The path after the token and the query; None when refused (answered here)."""
        if not self.ui.allowed_host(self.headers.get("Host")):
            self._json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "unexpected Host header"})
            return None
        parts = urlsplit(self.path)
        token, slash, rest = parts.path.lstrip("/").partition("/")
        if not self.ui.is_token(token):
            self._json(HTTPStatus.NOT_FOUND, {"error": "no such page"})
            return None
        if not slash:  # /TOKEN: the page is /TOKEN/, whose relative links work
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", f"/{token}/")
            self._common_headers()
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return rest, parse_qs(parts.query)

    def _posted_target(self) -> str | None:
        if self.headers.get_content_type() != "application/json":
            self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
            return None
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "a JSON body of at most 4 KiB"})
            return None
        try:
            body = json.loads(self.rfile.read(length))
        except ValueError:
            body = None
        name = body.get("target") if isinstance(body, dict) else None
        if not isinstance(name, str):
            self._json(HTTPStatus.BAD_REQUEST, {"error": 'send {"target": NAME}'})
            return None
        return name

    def _stream(self) -> None:
        ui = self.ui
        stream = ui.open_stream()
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self._common_headers()
            self.end_headers()
            self.wfile.write(b"retry: 1000\n\n")
            while True:
                due = stream.wait(KEEPALIVE)
                if due == "closed":
                    return
                if due == "resync":
                    text = ui.resynced(stream)
                elif due == "messages":
                    text = stream.take()
                else:
                    text = ": idle\n\n"
                self.wfile.write(text.encode())
                self.wfile.flush()
        except OSError:  # the page went away
            return
        finally:
            ui.close_stream(stream)
            self.close_connection = True

    def _json(self, status: HTTPStatus, data: dict[str, Any]) -> None:
        self._reply(status, "application/json", json.dumps(data).encode())

    def _reply(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(body)

    def _common_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")  # the URL holds the token
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Frame-Options", "DENY")


def _sse(kind: str, data: dict[str, Any]) -> str:
    # json.dumps escapes every line break, so the data is one line, as SSE needs.
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def _note(event: Event) -> dict[str, Any]:
    text = event.detail or ""
    if event.event == "batch":
        seconds = f" in {event.seconds:.1f}s" if event.seconds is not None else ""
        text = f"build {event.status}{seconds}; watching"
    return {"kind": event.event, "status": event.status, "text": text, "time": event.time}


def _failure(view: TargetView, at: float) -> dict[str, Any]:
    return {
        "step": view.step,
        "failed_at": view.failed_at,
        "detail": view.detail,
        "log_tail": list(view.log_tail),
        "time": at,
    }


def _asset(name: str) -> bytes:
    return resources.files("buildgraph.ui").joinpath("assets").joinpath(name).read_bytes()
