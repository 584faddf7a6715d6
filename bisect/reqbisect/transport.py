"""Getting a wire request to a server and a :class:`Reply` back.

Three destinations, one interface (:class:`Transport`):

* the request's own origin over the network, with one ``httpx.AsyncClient``;
* ``--target URL``: every request goes to that origin instead (path and query kept);
* ``--app module:attr``: an in-process ASGI or WSGI application, no network.

Requests are built as ``httpx.Request`` and sent with ``client.send``, which
adds nothing but ``Host`` and ``Content-Length`` (RFC 9110, section 7.2 and 8.6):
no default ``User-Agent``, ``Accept`` or cookie jar, so what goes out is what the
document says. Redirects are answers unless ``follow_redirects`` is set; then
each hop after the first asks ``admit`` (the Sender's budget and pacing) before
it goes out. Every hop has an overall deadline of ``timeout`` seconds, body
included: httpx's own timeouts are per read, and an in-process app has none.
Transport failures and missed deadlines become a ``Reply`` with ``error`` set;
an in-process app's exception becomes a ``500``. They are translated here, at
the seam, and nowhere else.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import anyio
import anyio.to_thread
import httpx

from reqbisect.errors import InputError
from reqbisect.oracle import Reply
from reqbisect.secret_names import is_credential_header
from reqbisect.wire import WireRequest

__all__ = ["Admit", "Clock", "SystemClock", "Transport", "HttpxTransport", "load_app", "open_transport", "retarget"]

#: Asked before each redirect hop after the first: True to send it, False to stop
#: following (the redirect is then the answer). The Sender counts and paces hops here.
Admit = Callable[[], Awaitable[bool]]


class Clock(Protocol):
    """Time as the runner sees it; tests inject a fake one."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The event loop's monotonic clock."""

    def now(self) -> float:
        return anyio.current_time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class Transport(Protocol):
    """Where wire requests go; the Sender adds caching, budget, pacing and retries on top."""

    async def send(self, wire: WireRequest) -> Reply: ...

    async def aclose(self) -> None: ...


def retarget(url: str, target: str) -> str:
    """``url`` with its scheme, host and port replaced by ``target``'s (a path prefix is prepended)."""
    parts, dest = urlsplit(url), urlsplit(target)
    path = dest.path.rstrip("/") + parts.path if dest.path not in ("", "/") else parts.path
    return urlunsplit((dest.scheme, dest.netloc, path, parts.query, ""))


@dataclass(slots=True)
class HttpxTransport:
    """Send with an ``httpx.AsyncClient`` (network, or an app mounted as its transport)."""

    client: httpx.AsyncClient
    target: str | None = None
    owns_client: bool = False
    #: Follow up to this many redirects (0: a redirect is an answer like any other).
    follow_redirects: int = 0
    #: Seconds each request on the wire may take in all, body included (None: no deadline).
    timeout: float | None = None
    #: The client's transport is an app in this process (a request reaches it when sent).
    in_process: bool = False

    async def send(
        self, wire: WireRequest, *, admit: Admit | None = None, arrived: Callable[[], None] | None = None
    ) -> Reply:
        """Send ``wire`` (following redirects if asked; ``admit`` is asked before each extra hop).

        ``arrived`` is called when a hop has reached the server: when its body is
        written to the connection, or at once for an in-process app (which is
        called as soon as it is sent to). A hop whose connection was never made
        does not arrive.
        """
        url = retarget(wire.url, self.target) if self.target else wire.url
        started = time.perf_counter()
        method, headers, content = wire.method, list(wire.headers), wire.body

        async def trace(event: str, info: dict[str, Any]) -> None:
            if arrived is not None and event.endswith("send_request_body.complete"):
                arrived()

        try:
            for hop in range(self.follow_redirects + 1):
                request = _exact_request(method, url, headers, content)
                request.extensions["trace"] = trace
                if self.in_process and arrived is not None:
                    arrived()
                with anyio.move_on_after(self.timeout) as deadline:
                    response, body = await self._exchange(request)
                if deadline.cancelled_caught:
                    return Reply(status=None, error="timed out", elapsed=time.perf_counter() - started)
                location = response.headers.get("location")
                if hop == self.follow_redirects or response.status_code not in _REDIRECTS or not location:
                    break
                if admit is not None and not await admit():
                    break
                next_url = str(httpx.URL(url).join(location))
                if _origin(next_url) != _origin(url):
                    headers = [(k, v) for k, v in headers if not is_credential_header(k)]
                if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                    method, content = "GET", b""
                    headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-encoding")]
                url = next_url
        except httpx.TimeoutException:
            return Reply(status=None, error="timed out", elapsed=time.perf_counter() - started)
        except (httpx.TransportError, httpx.StreamError) as exc:
            return Reply(status=None, error=_describe(exc), elapsed=time.perf_counter() - started)
        return Reply(
            status=response.status_code,
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw),
            body=body,
            elapsed=time.perf_counter() - started,
        )

    async def _exchange(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        response = await self.client.send(request, follow_redirects=False)
        try:
            return response, await response.aread()
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self.owns_client:
            await self.client.aclose()


def _exact_request(method: str, url: str, headers: list[tuple[str, str]], content: bytes) -> httpx.Request:
    """An ``httpx.Request`` that goes out byte for byte as the document says.

    httpx would otherwise upper-case the method, remove dot segments and
    re-quote the path and query, and refuse non-ASCII header values; the
    ``target`` extension makes httpcore send the request target as given.
    """
    raw = [(name.encode("latin-1"), value.encode("utf-8", "surrogateescape")) for name, value in headers]
    target = _TARGET.sub("", url, count=1) or "/"
    request = httpx.Request(
        method, url, headers=raw, content=content,
        extensions={"target": target.encode("utf-8", "surrogateescape")},
    )
    request.method = method
    return request


_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "connect" in type(exc).__name__.lower():
        return f"cannot connect ({text})"
    return text


class _WSGIThreadTransport(httpx.AsyncBaseTransport):
    """A WSGI app behind an async client: each request runs in a worker thread.

    The thread is abandoned when the caller's deadline passes (a thread cannot
    be cancelled), and an exception in the app is answered ``500`` as a server
    would, so one crashing candidate does not end the run.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self._sync = httpx.WSGITransport(app=app, raise_app_exceptions=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        sync_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)

        def call() -> httpx.Response:
            try:
                response = self._sync.handle_request(sync_request)
                response.read()
            except Exception:  # the app's own failure, whatever it is
                return httpx.Response(500)
            return response

        response = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        return httpx.Response(response.status_code, headers=response.headers, content=response.content)


def is_asgi(app: object) -> bool:
    """True for an ASGI app (an async callable), False for WSGI."""
    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)
    return inspect.iscoroutinefunction(call)


def load_app(
    spec: str,
    *,
    option: str = "--app",
    example: str = "myapp.main:app or cases/x/app.py:app",
    thing: str = "function or object taking ASGI or WSGI calls",
) -> Any:
    """Import ``module:attr`` or ``path/to/file.py:attr``.

    Raises:
        InputError: the module cannot be imported, or the attribute is missing or not callable.
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise InputError(f"expected MODULE:ATTR, e.g. {example}", source=option, got=repr(spec))
    try:
        if module_name.endswith(".py") or "/" in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise InputError(f"no such file: {module_name}", source=option)
            name = f"_reqbisect_app_{abs(hash(path.resolve()))}"
            spec_obj = importlib.util.spec_from_file_location(name, path)
            if spec_obj is None or spec_obj.loader is None:
                raise InputError(f"cannot import {module_name}", source=option)
            module = importlib.util.module_from_spec(spec_obj)
            sys.modules[name] = module
            spec_obj.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except InputError:
        raise
    except ImportError as exc:
        raise InputError(f"cannot import {module_name}: {exc}", source=option) from None
    except Exception as exc:  # the module's own code failed while importing
        raise InputError(f"importing {module_name} failed: {type(exc).__name__}: {exc}", source=option) from None
    try:
        found = getattr(module, attr)
    except AttributeError:
        raise InputError(f"{module_name} has no attribute {attr!r}", source=option) from None
    if not callable(found):
        raise InputError(f"{spec} is not callable", source=option, expected=f"a {thing}", got=type(found).__name__)
    return found


def _check_target(target: str) -> None:
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as exc:
        raise InputError(f"not a valid URL: {exc}", source="--target") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError("not an origin to send to", source="--target",
                         expected="scheme://host[:port], e.g. http://127.0.0.1:8000", got=repr(target))


def open_transport(
    *,
    client: httpx.AsyncClient | None = None,
    app: Any = None,
    target: str | None = None,
    timeout: float = 30.0,
    follow_redirects: int = 0,
) -> HttpxTransport:
    """The transport for a run: a given client, an in-process app, or the network.

    Redirects are answers unless ``follow_redirects`` > 0; when followed to
    another origin, credential headers (authorization, cookies, keys, tokens)
    are dropped, so they never reach an origin other than the request's own.
    Each request on the wire gets ``timeout`` seconds in all, body included,
    whatever the destination; an in-process app's exception is answered ``500``,
    as a server's would be.
    """
    if app is not None and target is not None:
        raise InputError("--app and --target exclude each other (an in-process app has no address)",
                         source="--target")
    if target is not None:
        _check_target(target)
    if client is not None:
        return HttpxTransport(client, target=target, follow_redirects=follow_redirects, timeout=timeout)
    if app is not None:
        if isinstance(app, str):
            app = load_app(app)
        mounted: httpx.AsyncBaseTransport
        if is_asgi(app):
            mounted = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        else:
            mounted = _WSGIThreadTransport(app)
        return HttpxTransport(
            httpx.AsyncClient(transport=mounted, timeout=timeout),
            target=target,
            owns_client=True,
            follow_redirects=follow_redirects,
            timeout=timeout,
            in_process=True,
        )
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=32)
    return HttpxTransport(
        httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False),
        target=target,
        owns_client=True,
        follow_redirects=follow_redirects,
        timeout=timeout,
    )
