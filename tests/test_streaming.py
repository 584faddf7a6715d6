"""Reading only what the oracle needs (docs/design.md, "Reading answers").

Real servers on 127.0.0.1 (uvicorn in a thread) and in-process apps record how
much of each answer they produced before their client went away, so the tests
see from the server's side that a body was left unread or cut:

* an answer whose status decides it is closed after its headers (server-sent
  events, chunked and content-length bodies alike), and a whole run against a
  streaming server ends long before one stream would;
* other bodies are read up to ``max_body`` bytes, counted after decompression,
  so a gzip bomb yields exactly the cap;
* ``--good-if``/``--bad-if`` naming only status, headers or elapsed read no body;
* an in-process ASGI app is disconnected (and cancelled if it does not stop),
  a WSGI app's iterable is closed;
* ``--json`` and the report say when a body was cut or not read.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
from click.testing import CliRunner
from jsonschema import Draft202012Validator

import reqbisect
from reqbisect.cli import cli
from reqbisect.options import RunOptions
from reqbisect.expressions import Expression, ExpressionOracle
from reqbisect.oracle import BodyRead, SignatureOracle
from reqbisect.reading import read_all
from reqbisect.report.json import result_to_json
from reqbisect.report.markdown import render_markdown
from reqbisect.sender import Sender
from reqbisect.transport import SystemClock, open_transport
from reqbisect.wire import WireRequest

from .conftest import _Server

pytestmark = pytest.mark.network

SCHEMA = json.loads((Path(reqbisect.__file__).parent / "result.schema.json").read_text(encoding="utf-8"))
MiB = 1 << 20
CHUNK = b"x" * 65536
BOMB = gzip.compress(bytes(16 * MiB), compresslevel=9)  # 16 MiB of zeros in about 16 KiB


def never(status: int, headers: tuple[tuple[str, str], ...]) -> bool:
    return False


@dataclass
class Stream:
    """What the server produced for one request: body bytes sent, and whether the client left first."""

    path: str
    sent: int = 0
    left: bool = False
    done: bool = False


@dataclass
class Streams:
    """An ASGI app with one answer per path; it watches for its client leaving while it streams.

    ``/sse`` 200 ``text/event-stream``, 40 events 0.05 s apart, the first after 0.5 s
    (``/sse5``: 5 of them);
    ``/chunked`` 32 MiB without a length; ``/length`` the same with one; ``/small`` 5
    bytes; ``/bomb`` 16 MiB of zeros gzipped; ``/error`` a 400 with a JSON error.
    ``x-ok: 1`` turns ``/v1`` into the SSE answer and anything else into the 400.
    """

    streams: list[Stream] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        path = scope["path"]
        if path == "/v1":
            path = "/sse" if (b"x-ok", b"1") in scope["headers"] else "/error"
        if path == "/error":
            await start(send, 400, b"application/json")
            await send({"type": "http.response.body", "body": b'{"error": {"message": "no"}}'})
            return
        record = Stream(path)
        events = 5 if path == "/sse5" else 40
        path = "/sse" if path == "/sse5" else path
        with self.lock:
            self.streams.append(record)
        headers = {"/sse": [(b"content-type", b"text/event-stream")],
                   "/length": [(b"content-length", str(32 * MiB).encode())],
                   "/small": [(b"content-length", b"5")],
                   "/bomb": [(b"content-encoding", b"gzip"), (b"content-length", str(len(BOMB)).encode())]}
        await send({"type": "http.response.start", "status": 200, "headers": headers.get(path, [])})
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                if (await receive())["type"] == "http.disconnect" and not record.done:
                    record.left = True
                    tg.cancel_scope.cancel()

            tg.start_soon(watch)
            for piece, pause in _pieces(path, events):
                await anyio.sleep(pause)
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                record.sent += len(piece)
            record.done = True
            await send({"type": "http.response.body", "body": b""})
            tg.cancel_scope.cancel()


def _pieces(path: str, events: int) -> Iterator[tuple[bytes, float]]:
    if path == "/sse":
        for n in range(events):
            # The first token of a generation takes a while: long enough that a client which
            # leaves at the headers has left before it, even on a busy machine.
            yield f"event: delta\ndata: {{\"n\": {n}}}\n\n".encode(), 0.5 if n == 0 else 0.05
    elif path in ("/chunked", "/length"):
        for _ in range(32 * MiB // len(CHUNK)):
            yield CHUNK, 0.0
    elif path == "/small":
        yield b"hello", 0.0
    elif path == "/bomb":
        yield BOMB, 0.0


async def start(send: Any, status: int, content_type: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` on 127.0.0.1 (a free port) with uvicorn, in a thread; the receive channel is uvicorn's own."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="error", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert server.ready.wait(timeout=10), "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def streams() -> Iterator[tuple[str, Streams]]:
    app = Streams()
    with serve(app) as url:
        yield url, app


async def fetch(url: str, *, reads_body: Any = read_all, max_body: int = MiB, app: Any = None) -> Any:
    transport = open_transport(app=app, timeout=10, max_body=max_body)
    try:
        return await transport.send(WireRequest("GET", url, (), b""), reads_body=reads_body)
    finally:
        await transport.aclose()


async def wait_for(condition: Any) -> None:
    with anyio.fail_after(5):
        while not condition():
            await anyio.sleep(0.01)


# -- over sockets -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sse", "/chunked", "/length"])
async def test_a_body_the_oracle_does_not_need_is_not_read(streams: tuple[str, Streams], path: str) -> None:
    url, app = streams
    before = len(app.streams)
    reply = await fetch(url + path, reads_body=never)
    assert reply.status == 200 and reply.body == b"" and reply.body_read is BodyRead.UNREAD
    await wait_for(lambda: len(app.streams) > before and app.streams[-1].left)
    record = app.streams[-1]
    assert not record.done and record.sent < 32 * MiB
    if path == "/sse":  # closed at its headers: not one event was produced for it
        assert record.sent == 0 and reply.elapsed < 1.0


@pytest.mark.parametrize("path", ["/chunked", "/length"])
async def test_a_large_body_is_cut_at_max_body_and_the_rest_is_never_read(
    streams: tuple[str, Streams], path: str
) -> None:
    url, app = streams
    reply = await fetch(url + path, max_body=MiB)
    assert reply.body_read is BodyRead.CUT and reply.body == b"x" * MiB
    await wait_for(lambda: app.streams[-1].left)
    assert not app.streams[-1].done


async def test_bodies_within_the_cap_are_read_whole(streams: tuple[str, Streams]) -> None:
    url, _ = streams
    small = await fetch(url + "/small")
    assert (small.body, small.body_read) == (b"hello", BodyRead.WHOLE)
    events = await fetch(url + "/sse5")
    assert events.body_read is BodyRead.WHOLE and events.body.count(b"event: delta") == 5


async def test_the_cap_counts_decompressed_bytes_so_a_gzip_bomb_yields_the_cap(streams: tuple[str, Streams]) -> None:
    url, _ = streams
    reply = await fetch(url + "/bomb", max_body=MiB)
    assert reply.body_read is BodyRead.CUT and reply.body == bytes(MiB)
    whole = await fetch(url + "/bomb", max_body=32 * MiB)
    assert whole.body_read is BodyRead.WHOLE and whole.body == bytes(16 * MiB)


def test_expressions_that_name_only_status_headers_or_elapsed_read_no_body() -> None:
    def oracle(good: str | None = None, bad: str | None = None) -> ExpressionOracle:
        return ExpressionOracle(
            Expression.parse(good, option="--good-if") if good else None,
            Expression.parse(bad, option="--bad-if") if bad else None,
        )

    assert not oracle("status == 200 and elapsed < 5").reads_body(200, ())
    assert not oracle(bad="headers.get('x-error') == 'quota'").reads_body(400, ())
    assert oracle("status == 200", "'Error' in text").reads_body(400, ())
    assert oracle("json['ok']").reads_body(200, ())
    signature = SignatureOracle(200, 400, frozenset(), frozenset())
    assert not signature.reads_body(200, ()) and signature.reads_body(400, ()) and signature.reads_body(500, ())
    same = SignatureOracle(200, 200, frozenset(), frozenset())
    assert same.reads_body(200, ())


async def test_a_run_against_a_streaming_server_reads_no_good_answer(streams: tuple[str, Streams]) -> None:
    url, app = streams
    before = len(app.streams)
    headers = {f"x-h{n}": "1" for n in range(6)}
    good = {"method": "GET", "url": f"{url}/v1", "headers": {"x-ok": "1", **headers}}
    bad = {"method": "GET", "url": f"{url}/v1", "headers": {"x-ok": "0", **headers}}
    started = time.monotonic()
    result = await reqbisect.abisect(good, bad, concurrency=4)
    elapsed = time.monotonic() - started
    assert result.patch == [{"op": "replace", "path": "/headers/x-ok", "value": "1"}]
    assert result.reply_good is not None and result.reply_good.body_read is BodyRead.UNREAD
    assert result.baseline_good is not None and result.baseline_good.body_read is BodyRead.UNREAD
    await wait_for(lambda: all(s.left or s.done for s in app.streams[before:]))
    good_streams = app.streams[before:]
    assert good_streams and all(s.left and s.sent == 0 for s in good_streams)
    assert elapsed < 2.0, f"{elapsed:.2f} s: a stream lasts 2.45 s, so some good answer was read"


async def test_expression_oracles_naming_no_body_leave_streams_unread(streams: tuple[str, Streams]) -> None:
    url, app = streams
    before = len(app.streams)
    good = {"method": "GET", "url": f"{url}/v1", "headers": {"x-ok": "1", "x-a": "1"}}
    bad = {"method": "GET", "url": f"{url}/v1", "headers": {"x-ok": "0", "x-a": "2"}}
    oracle = ExpressionOracle(Expression.parse("status == 200", option="--good-if"), None)
    result = await reqbisect.abisect(good, bad, oracle=oracle)
    assert result.patch == [{"op": "replace", "path": "/headers/x-ok", "value": "1"}]
    await wait_for(lambda: all(s.left or s.done for s in app.streams[before:]))
    assert all(s.left and s.sent == 0 for s in app.streams[before:])


# -- in-process apps ------------------------------------------------------------------------


@dataclass
class Endless:
    """An ASGI app streaming forever; ``polite`` ones watch for the disconnect, others are cancelled."""

    polite: bool
    saw_disconnect: bool = False
    ended: bool = False
    sent: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await start(send, 200, b"text/event-stream")
        try:
            async with anyio.create_task_group() as tg:
                if self.polite:

                    async def watch() -> None:
                        self.saw_disconnect = (await receive())["type"] == "http.disconnect"
                        tg.cancel_scope.cancel()

                    tg.start_soon(watch)
                while True:
                    await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
                    self.sent += 9
                    await anyio.sleep(0.001)
        finally:
            self.ended = True


@pytest.mark.parametrize("polite", [True, False])
async def test_an_in_process_asgi_app_is_left_at_its_headers_and_stops(polite: bool) -> None:
    app = Endless(polite)
    with anyio.fail_after(3):
        reply = await fetch("http://app.local/stream", reads_body=never, app=app)
    assert reply.body_read is BodyRead.UNREAD and reply.status == 200
    assert app.ended  # stopped by itself, or cancelled: nothing outlives the exchange
    assert app.saw_disconnect is polite
    if polite:  # never run ahead of its reader (sends after the disconnect go nowhere, as with uvicorn)
        assert app.sent <= 9


async def test_an_in_process_asgi_body_is_cut_at_max_body() -> None:
    app = Endless(polite=True)
    with anyio.fail_after(3):
        reply = await fetch("http://app.local/stream", max_body=90, app=app)
    assert reply.body_read is BodyRead.CUT and reply.body == b"data: 1\n\n" * 10
    assert app.ended and app.saw_disconnect


async def test_an_in_process_wsgi_iterable_is_read_up_to_the_cap_and_closed() -> None:
    closed: list[int] = []

    class Body:
        def __init__(self) -> None:
            self.produced = 0

        def __iter__(self) -> Iterator[bytes]:
            while True:
                self.produced += 1
                yield CHUNK

        def close(self) -> None:
            closed.append(self.produced)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return Body()

    reply = await fetch("http://app.local/big", max_body=MiB, app=app)
    assert reply.body_read is BodyRead.CUT and len(reply.body) == MiB
    assert closed and closed[0] <= MiB // len(CHUNK) + 2


async def test_a_cached_answer_read_without_its_body_is_sent_again_when_the_body_is_wanted() -> None:
    calls: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        calls.append(1)
        await start(send, 200, b"text/plain")
        await send({"type": "http.response.body", "body": b"body"})

    transport = open_transport(app=app, timeout=5)
    sender = Sender(transport, clock=SystemClock())
    request = WireRequest("GET", "http://app.local/x", (), b"")
    try:
        unread = await sender.fetch(request, reads_body=never)
        again = await sender.fetch(request, reads_body=never)
        whole = await sender.fetch(request)
    finally:
        await transport.aclose()
    assert unread.body_read is BodyRead.UNREAD and again is unread
    assert (whole.body, whole.body_read) == (b"body", BodyRead.WHOLE)
    assert len(calls) == 2 and sender.cache_hits == 1


# -- what the result says ---------------------------------------------------------------------

APP = '''
import json

async def app(scope, receive, send):
    await receive()
    headers = dict(scope["headers"])
    ok = headers.get(b"x-ok") == b"1"
    body = b"data: hello\\n\\n" * 10 if ok else json.dumps({"error": "no", "trace": "x" * 5000}).encode()
    await send({"type": "http.response.start", "status": 200 if ok else 400,
                "headers": [(b"content-type", b"text/event-stream" if ok else b"application/json")]})
    await send({"type": "http.response.body", "body": body})
'''


def test_json_and_report_say_when_a_body_was_cut_or_not_read(tmp_path: Path) -> None:
    (tmp_path / "cut_app.py").write_text(APP, encoding="utf-8")
    for name, value in (("good.json", "1"), ("bad.json", "0")):
        doc = {"method": "GET", "url": "http://api.local/v1", "headers": {"x-ok": value, "x-b": name}}
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    report = tmp_path / "report.md"
    result = CliRunner().invoke(cli, [
        "run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", f"{tmp_path / 'cut_app.py'}:app",
        "--json", "--max-body", "1K", "--report", str(report), "-q",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    Draft202012Validator(SCHEMA).validate(data)
    responses = data["responses"]
    assert responses["baseline_bad"]["body_read"] == "cut" and responses["baseline_bad"]["body_size"] == 1024
    assert responses["minimal_good"]["body_read"] == "unread" and responses["minimal_good"]["body"] == ""
    text = report.read_text(encoding="utf-8")
    assert "not read (its status decided)" in text and "cut (--max-body)" in text


async def test_the_library_takes_max_body_in_run_options(tmp_path: Path) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        ok = (b"x-ok", b"1") in scope["headers"]
        await start(send, 200 if ok else 400, b"text/plain")
        await send({"type": "http.response.body", "body": b"fine" if ok else b"E" * 5000})

    good = {"method": "GET", "url": "http://api.local/v1", "headers": {"x-ok": "1"}}
    bad = {"method": "GET", "url": "http://api.local/v1", "headers": {"x-ok": "0"}}
    result = await reqbisect.abisect(good, bad, app=app, options=RunOptions(max_body=100))
    assert result.reply_bad is not None and result.reply_bad.body == b"E" * 100
    assert result.reply_bad.body_read is BodyRead.CUT
    markdown = render_markdown(result)
    assert "cut (--max-body)" in markdown
    assert result_to_json(result)["responses"]["minimal_bad"]["body_read"] == "cut"
    with pytest.raises(reqbisect.InputError, match="--max-body"):
        RunOptions(max_body=-1)
