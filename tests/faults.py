"""Fault injection for reliability tests: a real HTTP server on 127.0.0.1 that misbehaves.

:func:`serve_faults` runs a stdlib ``ThreadingHTTPServer`` in a thread. Each request
is answered the way a case's ASGI app answers it (the app is called in the handler
thread, in-process), and then, for a share of the requests, a fault replaces or
damages that answer:

* ``"429"``: ``429 Too Many Requests`` with ``Retry-After`` (delay-seconds, or an
  HTTP-date equal to the response's ``Date``), both meaning "now";
* ``"503"``: a burst: this request and the next ``burst - 1`` received get ``503``;
* ``"reset"``: the connection is reset (``SO_LINGER`` 0, then close: a TCP RST);
* ``"slow"``: the answer comes ``slow`` seconds late (longer than the client waits);
* ``"cut"``: ``Content-Length`` promises more than is written, then the connection closes;
* ``"wrong"``: the other baseline's kind of answer (GOOD's answer for anything
  that is not GOOD, BAD's answer for a GOOD one). The two baseline requests
  themselves are answered truthfully: they define what GOOD and BAD are. (``spare``
  names the faults the baselines never get; ``"wrong"`` by default.)

Which fault a request gets depends only on the seed, the request's bytes and how
many times the same request was received before, never on arrival order, with two
exceptions: a ``503`` burst, once drawn, takes whatever arrives next; and (with
``force_first``) until some fault has been injected, a request that drew none gets
the mix's main fault, so that every run sees its fault at least once.

The server speaks HTTP/1.0 and closes every connection after one exchange (no
idle keep-alive connection for a client to find closed), and its backlog is deep,
so every request a client writes is received here: :attr:`FaultServer.received`
records each one, with the fault it got, and :meth:`FaultServer.settle` waits
until every accepted connection has been read.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx

from reqbisect.document import Capture
from reqbisect.wire import to_wire

FAULTS = ("429", "503", "reset", "slow", "cut", "wrong")
Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the server read it, and the fault it was given (None: answered truly)."""

    method: str
    target: str
    headers: Headers
    body: bytes
    fault: str | None

    @property
    def key(self) -> tuple[str, str, Headers, bytes]:
        return self.method, self.target, self.headers, self.body

    @property
    def identity(self) -> tuple[Any, ...]:
        """The request without ``Host`` and ``Content-Length``: the same on any server and port."""
        return _identity(self.method, self.target, self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Headers
    body: bytes


async def _ask_app(app: Any, method: str, target: str, headers: Headers, body: bytes) -> Answer:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as client:
        request = httpx.Request(method, f"http://127.0.0.1{target}", headers=list(headers), content=body)
        response = await client.send(request)
        content = await response.aread()
    kept = tuple(
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-length", "transfer-encoding", "connection", "date")
    )
    return Answer(response.status_code, kept, content)


def ask_app(app: Any, method: str, target: str, headers: Headers, body: bytes) -> Answer:
    """The app's answer to one request (runs its own event loop: call it from a plain thread)."""
    return anyio.run(_ask_app, app, method, target, headers, body)


def _identity(method: str, target: str, headers: Headers, body: bytes) -> tuple[Any, ...]:
    """A request without the headers HTTP derives (``Host`` names the port, which changes every run)."""
    kept = tuple((k.lower(), v) for k, v in headers if k.lower() not in ("host", "content-length"))
    return method, target, kept, body


def _wire_request(capture: Capture) -> tuple[str, str, Headers, bytes]:
    wire = to_wire(capture.document, like=[capture])
    parts = urlsplit(wire.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return wire.method, target, wire.headers, wire.body


@dataclass
class FaultServer:
    """The state shared by the handler threads: the plan, the answers, the record."""

    app: Any
    seed: int
    #: Probability of each fault per request (the rest are answered truly).
    mix: Mapping[str, float]
    good: Capture
    bad: Capture
    burst: int = 3
    slow: float = 1.0
    #: Faults the two baseline requests never get.
    spare: frozenset[str] = frozenset({"wrong"})
    #: Give the mix's main fault to the first request that may get it.
    force_first: bool = True
    url: str = ""
    received: list[Received] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    #: Connections accepted whose request is not yet recorded (or known to be absent).
    _unread: int = 0
    _seen: Counter[str] = field(default_factory=Counter)
    _burst_left: int = 0
    _forced: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.mix) - set(FAULTS)
        assert not unknown, f"unknown faults: {unknown}"
        assert sum(self.mix.values()) <= 1.0
        self._good_request = _wire_request(self.good)
        self._bad_request = _wire_request(self.bad)
        self._baselines = {_identity(*self._good_request), _identity(*self._bad_request)}
        self._good_status: int | None = None

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every accepted connection's request is recorded; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._unread == 0, timeout)

    def _accepted(self) -> None:
        with self._lock:
            self._unread += 1

    def _nothing_read(self) -> None:
        with self._lock:
            self._unread -= 1
            self._lock.notify_all()

    def injected(self) -> Counter[str | None]:
        with self._lock:
            return Counter(r.fault for r in self.received)

    def draw(self, method: str, target: str, headers: Headers, body: bytes) -> str | None:
        """Record a request and choose its fault."""
        identity = _identity(method, target, headers, body)
        digest = hashlib.sha256(repr(identity).encode()).hexdigest()
        spared = self.spare if identity in self._baselines else frozenset()
        with self._lock:
            occurrence = self._seen[digest]
            self._seen[digest] += 1
            roll = random.Random(f"{self.seed}/{digest}/{occurrence}").random()
            fault: str | None = None
            if self._burst_left and "503" not in spared:
                self._burst_left -= 1
                fault = "503"
            else:
                edge = 0.0
                for name, share in self.mix.items():
                    edge += share
                    if roll < edge:
                        fault = None if name in spared else name
                        break
                # A seed that injects nothing tests nothing.
                if fault is None and self.force_first and not self._forced and self.mix:
                    main = max(self.mix, key=lambda name: self.mix[name])
                    if main not in spared:
                        fault = main
                if fault is not None:
                    self._forced = True
                if fault == "503":
                    self._burst_left = self.burst - 1
            self.received.append(Received(method, target, headers, body, fault))
            self._unread -= 1
            self._lock.notify_all()
        return fault

    def answer(self, method: str, target: str, headers: Headers, body: bytes, fault: str | None) -> Answer:
        if fault == "429":
            date = email.utils.formatdate(usegmt=True)
            # Both forms of RFC 9110 section 10.2.3, chosen by the request, both meaning "now".
            retry_after = "0" if hashlib.sha256(body + target.encode()).digest()[0] % 2 else date
            busy = (("Date", date), ("Retry-After", retry_after), ("Content-Type", "text/plain"))
            return Answer(429, busy, b"slow down")
        if fault == "503":
            return Answer(503, (("Content-Type", "text/plain"),), b"service unavailable")
        truth = ask_app(self.app, method, target, headers, body)
        if fault == "wrong":
            if self._good_status is None:
                self._good_status = ask_app(self.app, *self._good_request).status
            other = self._bad_request if truth.status == self._good_status else self._good_request
            return ask_app(self.app, *other)
        return truth


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        self.recorded = False
        try:
            super().handle()
        finally:
            if not self.recorded:
                self.server.faults._nothing_read()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = tuple(self.headers.items())
        faults = self.server.faults
        fault = faults.draw(self.command, self.path, headers, body)
        self.recorded = True
        if fault == "reset":
            self.rfile.close()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        if fault == "slow" and faults.stopping.wait(faults.slow):
            return
        answer = faults.answer(self.command, self.path, headers, body, fault)
        length_sent = len(answer.body) + (1000 if fault == "cut" else 0)
        body_sent = answer.body[: len(answer.body) // 2] if fault == "cut" else answer.body
        lines = [f"HTTP/1.0 {answer.status} {_reason(answer.status)}"]
        if not any(name.lower() == "date" for name, _ in answer.headers):
            lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        lines += [f"{name}: {value}" for name, value in answer.headers]
        lines += [f"Content-Length: {length_sent}", "Connection: close", "", ""]
        with contextlib.suppress(OSError):
            self.wfile.write("\r\n".join(lines).encode("latin-1") + body_sent)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Room for every connection a run opens at once: with the default of 5, a
    # burst of connections overflows the backlog and a client times out on a
    # request this server never saw.
    request_queue_size = 256
    faults: FaultServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.faults._accepted()
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) or a connection this server reset on purpose.
        pass


@contextlib.contextmanager
def serve_faults(
    app: Any,
    *,
    good: Capture,
    bad: Capture,
    seed: int,
    mix: Mapping[str, float],
    burst: int = 3,
    slow: float = 1.0,
    spare: frozenset[str] = frozenset({"wrong"}),
    force_first: bool = True,
) -> Iterator[FaultServer]:
    """Serve ``app`` with faults on 127.0.0.1 (a free port) in a thread; yield the server state."""
    faults = FaultServer(
        app=app, seed=seed, mix=mix, good=good, bad=bad, burst=burst, slow=slow, spare=spare, force_first=force_first
    )
    server = _Server(("127.0.0.1", 0), _Handler)
    server.faults = faults
    faults.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield faults
    finally:
        faults.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
