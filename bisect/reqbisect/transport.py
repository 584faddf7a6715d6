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

Answers are streamed, never buffered whole (``reqbisect.reading``): once the
headers are in, the caller's ``reads_body`` policy says whether the body can
matter; if not, the response is closed unread (the connection goes with it, so
a server streaming a generation sees its client leave). Otherwise at most
``max_body`` decoded bytes are kept and the rest is not read. In-process apps
get the same treatment through ``reqbisect.inprocess``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx

from reqbisect.errors import InputError
from reqbisect.inprocess import Answer, Exchange, asgi_exchange, is_asgi, wsgi_exchange
from reqbisect.oracle import BodyRead, Reply
from reqbisect.reading import DEFAULT_MAX_BODY, BodyDecodingError, BodyPolicy, BodyReader, read_all
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
    """Send with an ``httpx.AsyncClient`` (network, or a client given), or to an in-process app."""

    client: httpx.AsyncClient | None
    target: str | None = None
    owns_client: bool = False
    #: Follow up to this many redirects (0: a redirect is an answer like any other).
    follow_redirects: int = 0
    #: Seconds each request on the wire may take in all, body included (None: no deadline).
    timeout: float | None = None
    #: The client's transport is an app in this process (a request reaches it when sent).
    in_process: bool = False
    #: Bytes of a body kept at most, after decoding; the rest is not read.
    max_body: int = DEFAULT_MAX_BODY
    #: An in-process app to exchange with instead of the client.
    app: Exchange | None = None
    #: The client for requests whose document asks for HTTP/2 (``transport.http``); it offers
    #: h2 by ALPN over TLS, as browsers do. None: every request goes through ``client``.
    http2: httpx.AsyncClient | None = None

    async def send(
        self,
        wire: WireRequest,
        *,
        admit: Admit | None = None,
        arrived: Callable[[], None] | None = None,
        reads_body: BodyPolicy = read_all,
    ) -> Reply:
        """Send ``wire`` (following redirects if asked; ``admit`` is asked before each extra hop).

        ``arrived`` is called when a hop has reached the server: when its body is
        written to the connection, or at once for an in-process app (which is
        called as soon as it is sent to). A hop whose connection was never made
        does not arrive. ``reads_body(status, headers)`` says whether an answer's
        body is read (up to ``max_body`` bytes) or the answer is closed unread.
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
                if wire.http == "2":
                    request.extensions["http_version"] = "2"  # read by an in-process app's scope
                if self.in_process and arrived is not None:
                    arrived()
                with anyio.move_on_after(self.timeout) as deadline:
                    answer = await self._exchange(request, reads_body)
                if deadline.cancelled_caught:
                    return Reply(status=None, error="timed out", elapsed=time.perf_counter() - started)
                location = next((v for k, v in answer.headers if k.lower() == "location"), None)
                if hop == self.follow_redirects or answer.status not in _REDIRECTS or not location:
                    break
                if admit is not None and not await admit():
                    break
                next_url = str(httpx.URL(url).join(location))
                if _origin(next_url) != _origin(url):
                    headers = [(k, v) for k, v in headers if not is_credential_header(k)]
                if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                    method, content = "GET", b""
                    headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-encoding")]
                url = next_url
        except httpx.TimeoutException:
            return Reply(status=None, error="timed out", elapsed=time.perf_counter() - started)
        except (httpx.TransportError, httpx.StreamError, BodyDecodingError) as exc:
            return Reply(status=None, error=_describe(exc), elapsed=time.perf_counter() - started)
        return Reply(
            status=answer.status, headers=answer.headers, body=answer.body,
            elapsed=time.perf_counter() - started, body_read=answer.read,
        )

    async def _exchange(self, request: httpx.Request, wants: BodyPolicy) -> Answer:
        if self.app is not None:
            return await self.app(request, wants, self.max_body)
        assert self.client is not None, "a transport has a client or an app"
        client = self.http2 if self.http2 is not None and request.extensions.get("http_version") == "2" else self.client
        response = await client.send(request, follow_redirects=False, stream=True)
        try:
            status = response.status_code
            headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw)
            if request.method == "HEAD":
                return Answer(status, headers)
            if not wants(status, headers):
                return Answer(status, headers, b"", BodyRead.UNREAD)  # closed below: the server sees us go
            if response.is_stream_consumed:  # an answer made in memory (httpx.MockTransport), decoded already
                reader = BodyReader((), self.max_body)
                reader.add(response.content)
            else:
                reader = BodyReader(headers, self.max_body)
                async for chunk in response.aiter_raw():
                    if reader.add(chunk):
                        break
            return Answer(status, headers, reader.body, reader.read)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self.owns_client and self.client is not None:
            await self.client.aclose()
        if self.http2 is not None:
            await self.http2.aclose()


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
    max_body: int = DEFAULT_MAX_BODY,
    verify: ssl.SSLContext | bool = True,
) -> HttpxTransport:
    """The transport for a run: a given client, an in-process app, or the network.

    Over the network a request whose document says ``transport.http: "2"`` goes
    through a second client that offers HTTP/2 by ALPN (h2 over TLS); ``verify``
    is the TLS verification of both (an ``ssl.SSLContext`` that trusts a private CA).

    Redirects are answers unless ``follow_redirects`` > 0; when followed to
    another origin, credential headers (authorization, cookies, keys, tokens)
    are dropped, so they never reach an origin other than the request's own.
    Each request on the wire gets ``timeout`` seconds in all, body included,
    whatever the destination; an in-process app's exception is answered ``500``,
    as a server's would be. At most ``max_body`` bytes of a body are read.
    """
    if app is not None and target is not None:
        raise InputError("--app and --target exclude each other (an in-process app has no address)",
                         source="--target")
    if target is not None:
        _check_target(target)
    if client is not None:
        return HttpxTransport(
            client, target=target, follow_redirects=follow_redirects, timeout=timeout, max_body=max_body
        )
    if app is not None:
        if isinstance(app, str):
            app = load_app(app)
        return HttpxTransport(
            None,
            target=target,
            follow_redirects=follow_redirects,
            timeout=timeout,
            in_process=True,
            max_body=max_body,
            app=asgi_exchange(app) if is_asgi(app) else wsgi_exchange(app),
        )
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=32)
    return HttpxTransport(
        httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False, verify=verify),
        target=target,
        owns_client=True,
        follow_redirects=follow_redirects,
        timeout=timeout,
        max_body=max_body,
        http2=httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False, verify=verify, http2=True),
    )
