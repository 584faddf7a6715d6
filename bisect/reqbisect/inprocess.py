"""Exchanges with an application in this process: ASGI or WSGI, no network.

An exchange takes a request, the oracle's :data:`~reqbisect.reading.BodyPolicy`
and the body cap, and gives back an :class:`Answer`. It reads the app's answer
as a client reads a socket: headers first, then body pieces until the policy or
the cap says stop, and then it goes away.

* ASGI (``--app``): the app runs in a task of its own for the exchange. Its
  ``send`` hands messages over one at a time (no buffering ahead), so an app
  streaming for minutes is never run ahead of the reader. When the reader stops,
  the app sees a disconnect as it would from uvicorn: ``receive()`` answers
  ``http.disconnect`` and further ``send`` calls are ignored. An app that does
  not end by itself within :data:`GRACE` seconds is cancelled; so is any app
  when the exchange's deadline passes. Nothing outlives the exchange.
* WSGI: the app runs in a worker thread, its iterable is read lazily up to what
  is wanted, and then closed (PEP 3333 ``close()``). A thread cannot be
  cancelled: when the deadline passes it is abandoned.

An exception from the app is answered ``500`` when no answer had started, as a
server would, so one crashing candidate does not end the run; once an answer has
started, its body ends there.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
import httpx

from reqbisect.oracle import BodyRead
from reqbisect.reading import BodyDecodingError, BodyPolicy, BodyReader, Headers

__all__ = ["GRACE", "Answer", "Exchange", "asgi_exchange", "is_asgi", "wsgi_exchange"]

#: Seconds an ASGI app gets to end by itself after its client went away.
GRACE = 0.1


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as read: status, headers, the body kept and how much of it that is."""

    status: int
    headers: Headers
    body: bytes = b""
    read: BodyRead = BodyRead.WHOLE


#: ``(request, policy, max_body) -> Answer``: one request to an in-process app.
Exchange = Callable[[httpx.Request, BodyPolicy, int], Awaitable[Answer]]

_FAILED = Answer(500, ())


def is_asgi(app: object) -> bool:
    """True for an ASGI app (an async callable), False for WSGI."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)
    return inspect.iscoroutinefunction(call)


def _decode_headers(raw: Any) -> Headers:
    return tuple((bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in raw)


def asgi_exchange(app: Callable[..., Any]) -> Exchange:
    """The exchange for an ASGI 3 app (see the module docstring)."""

    async def exchange(request: httpx.Request, wants: BodyPolicy, limit: int) -> Answer:
        body = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": request.extensions.get("http_version", "1.1"),
            "method": request.method,
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        outbox, inbox = anyio.create_memory_object_stream[dict[str, Any]](0)
        gone, finished = anyio.Event(), anyio.Event()
        asked = False

        async def receive() -> dict[str, Any]:
            nonlocal asked
            if not asked:
                asked = True
                return {"type": "http.request", "body": body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if gone.is_set():
                return  # as a server does once its client is gone
            try:
                await outbox.send(dict(message))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass

        async def run() -> None:
            try:
                await app(scope, receive, send)
            except Exception:  # the app's own failure: a 500, or the end of its body
                pass
            finally:
                outbox.close()
                finished.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                answer = await _read_asgi(inbox, wants, limit, head=request.method == "HEAD")
            finally:
                gone.set()
                inbox.close()
                with anyio.move_on_after(GRACE):
                    await finished.wait()
                tg.cancel_scope.cancel()
        return answer

    return exchange


async def _read_asgi(
    inbox: anyio.abc.ObjectReceiveStream[dict[str, Any]], wants: BodyPolicy, limit: int, *, head: bool
) -> Answer:
    status: int | None = None
    headers: Headers = ()
    reader: BodyReader | None = None
    async for message in inbox:
        if message.get("type") == "http.response.start" and status is None:
            status, headers = int(message["status"]), _decode_headers(message.get("headers", []))
            if head or not wants(status, headers):
                return Answer(status, headers, b"", BodyRead.WHOLE if head else BodyRead.UNREAD)
            reader = BodyReader(headers, limit)
        elif message.get("type") == "http.response.body" and reader is not None:
            if reader.add(bytes(message.get("body", b""))) or not message.get("more_body", False):
                break
    if status is None or reader is None:
        return _FAILED
    return Answer(status, headers, reader.body, reader.read)


def wsgi_exchange(app: Callable[..., Any]) -> Exchange:
    """The exchange for a WSGI app (see the module docstring)."""
    sync = httpx.WSGITransport(app=app, raise_app_exceptions=False)

    async def exchange(request: httpx.Request, wants: BodyPolicy, limit: int) -> Answer:
        body = await request.aread()
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        def call() -> Answer:
            try:
                response = sync.handle_request(sync_request)
            except Exception:  # the app's own failure, whatever it is
                return _FAILED
            try:
                headers = _decode_headers(response.headers.raw)
                if not wants(response.status_code, headers):
                    return Answer(response.status_code, headers, b"", BodyRead.UNREAD)
                reader = BodyReader(headers, limit)
                for chunk in response.iter_raw():
                    if reader.add(chunk):
                        break
                return Answer(response.status_code, headers, reader.body, reader.read)
            except BodyDecodingError:
                raise
            except Exception:  # failed while producing its body: a server would drop the answer
                return _FAILED
            finally:
                response.close()

        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)

    return exchange
