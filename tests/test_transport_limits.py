"""Limits that must hold on the wire: budget, pacing, concurrency, deadlines, app crashes, credentials.

Every test talks to a real server on 127.0.0.1 (uvicorn through ``serve``, or
the standard library's ``http.server``) or to an in-process app, and counts
what actually arrived there:

* each redirect hop a transport follows is a request: it counts against
  ``max_requests`` and waits for its own rate slot;
* ``concurrency`` caps requests on the wire, however many are asked for at once,
  and a request waiting out a backoff does not hold a place;
* ``timeout`` is an overall deadline per request, body included, for a server
  that trickles its answer, an ASGI app that never answers and a WSGI app that sleeps;
* an in-process app's exception is a ``500``, not the end of the run;
* a redirect to another origin carries no credential-like header.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest

from reqbisect.oracle import Reply
from reqbisect.budget import BudgetSpent
from reqbisect.sender import Sender
from reqbisect.transport import SystemClock, open_transport
from reqbisect.wire import WireRequest

from .conftest import serve

pytestmark = pytest.mark.network

Send = Any
Receive = Any
Scope = dict[str, Any]


async def answer(send: Send, status: int, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


def get(url: str, *headers: tuple[str, str]) -> WireRequest:
    return WireRequest("GET", url, headers, b"")


# -- redirect hops are requests: budget and pacing ----------------------------------


class Chain:
    """``/chain/N/K`` redirects (302, same origin) to ``/chain/N/K-1``; ``K`` = 0 answers 200.

    Records arrivals and the most requests it was answering at once.
    """

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.now = self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.arrivals.append(time.monotonic())
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await anyio.sleep(0.01)
        finally:
            self.now -= 1
        _, _, chain, left = scope["path"].split("/")
        if int(left) > 0:
            await answer(send, 302, [(b"location", f"/chain/{chain}/{int(left) - 1}".encode())])
        else:
            await answer(send, 200, body=b"landed")


async def test_redirect_hops_count_against_the_budget_and_it_is_a_hard_limit() -> None:
    chain = Chain()
    with serve(chain) as server:
        transport = open_transport(timeout=5, follow_redirects=10)
        sender = Sender(transport, clock=SystemClock(), max_requests=12, retries=0)
        replies: list[Reply] = []
        refused = 0

        async def fetch(n: int) -> None:
            nonlocal refused
            try:
                replies.append(await sender.fetch(get(f"{server.url}/chain/{n}/3")))
            except BudgetSpent:
                refused += 1

        try:
            async with anyio.create_task_group() as tg:
                for n in range(5):  # 5 candidates of 4 requests each: 20 asked, 12 allowed
                    tg.start_soon(fetch, n)
        finally:
            await transport.aclose()
    assert len(server.counter.received) == sender.requests == 12
    assert sender.budget.left == 0
    # A chain cut short by the budget is a spent budget, never the redirect it stopped at.
    assert {reply.status for reply in replies} <= {200}
    assert len(replies) <= 3 and len(replies) + refused == 5


async def test_a_redirect_chain_cut_short_by_the_budget_answers_budget_spent() -> None:
    chain = Chain()
    with serve(chain) as server:
        transport = open_transport(timeout=5, follow_redirects=10)
        sender = Sender(transport, clock=SystemClock(), max_requests=6, retries=0)
        try:
            first = await sender.fetch(get(f"{server.url}/chain/0/3"))
            for _ in range(2):  # a spent budget is not cached: the second try is refused too
                with pytest.raises(BudgetSpent):
                    await sender.fetch(get(f"{server.url}/chain/1/3"))
        finally:
            await transport.aclose()
    assert first.status == 200 and first.body == b"landed"
    assert [target for _, target, _, _ in server.counter.received] == [
        "/chain/0/3", "/chain/0/2", "/chain/0/1", "/chain/0/0", "/chain/1/3", "/chain/1/2",
    ]
    assert sender.requests == 6 and sender.cache_hits == 0


async def test_each_redirect_hop_waits_for_its_own_rate_slot() -> None:
    chain = Chain()
    with serve(chain) as server:
        transport = open_transport(timeout=5, follow_redirects=10)
        sender = Sender(transport, clock=SystemClock(), rate=20)
        try:
            async with anyio.create_task_group() as tg:
                for n in range(2):
                    tg.start_soon(sender.fetch, get(f"{server.url}/chain/{n}/3"))
        finally:
            await transport.aclose()
    assert len(chain.arrivals) == sender.requests == 8
    # Eight slots 0.05 s apart are sent over 0.35 s at least; unpaced hops would take about
    # 0.05 s in all. The margin leaves room for a first request slowed on a loaded machine.
    span = chain.arrivals[-1] - chain.arrivals[0]
    assert span >= 0.25, f"faster than 20/s: {span:.3f} s for 8 requests"


# -- concurrency is a hard cap on requests on the wire ------------------------------


class InFlight:
    """Answers after ``delay`` seconds; ``/busy`` answers 503 with ``Retry-After: 1`` the first time."""

    def __init__(self, delay: float = 0.1) -> None:
        self.delay = delay
        self.now = self.most = 0
        self.busy_once = False
        self.finished: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await anyio.sleep(self.delay)
        finally:
            self.now -= 1
        if scope["path"] == "/busy" and not self.busy_once:
            self.busy_once = True
            await answer(send, 503, [(b"retry-after", b"1")])
            return
        await answer(send, 200, body=b"ok")


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_concurrency_caps_requests_in_flight_however_many_are_asked_at_once(concurrency: int) -> None:
    app = InFlight()
    with serve(app) as server:
        transport = open_transport(timeout=5)
        sender = Sender(transport, clock=SystemClock(), concurrency=concurrency)
        try:
            async with anyio.create_task_group() as tg:
                for n in range(7):  # e.g. baselines or verification checks, all at once
                    tg.start_soon(sender.fetch, get(f"{server.url}/items/{n}"))
        finally:
            await transport.aclose()
    assert len(server.counter.received) == 7
    assert app.most == concurrency


async def test_a_request_waiting_out_a_backoff_leaves_its_place_to_others() -> None:
    app = InFlight(delay=0.0)
    with serve(app) as server:
        transport = open_transport(timeout=5)
        sender = Sender(transport, clock=SystemClock(), concurrency=1, retries=1, backoff=0.01)
        started = time.monotonic()
        done: dict[str, tuple[float, Reply]] = {}

        async def fetch(path: str) -> None:
            reply = await sender.fetch(get(f"{server.url}{path}"))
            done[path] = (time.monotonic() - started, reply)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch, "/busy")
                await anyio.sleep(0.1)  # /busy has had its 503 and sleeps for Retry-After
                tg.start_soon(fetch, "/other")
        finally:
            await transport.aclose()
    assert done["/busy"][1].status == 200 and done["/other"][1].status == 200
    assert done["/other"][0] < 0.8 < done["/busy"][0]


async def test_redirect_hops_stay_within_the_concurrency_cap() -> None:
    chain = Chain()
    with serve(chain) as server:
        transport = open_transport(timeout=5, follow_redirects=10)
        sender = Sender(transport, clock=SystemClock(), concurrency=1)
        replies: list[Reply] = []

        async def fetch(n: int) -> None:
            replies.append(await sender.fetch(get(f"{server.url}/chain/{n}/2")))

        try:
            async with anyio.create_task_group() as tg:
                for n in range(4):
                    tg.start_soon(fetch, n)
        finally:
            await transport.aclose()
    assert [reply.status for reply in replies] == [200] * 4
    assert len(chain.arrivals) == sender.requests == 12
    assert chain.most == 1


# -- timeout is an overall deadline per request --------------------------------------


@contextlib.contextmanager
def trickling(gap: float, size: int) -> Iterator[str]:
    """A server whose 200 answer promises ``size`` bytes and sends one every ``gap`` seconds."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for _ in range(size):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    if stop.wait(gap):
                        return
            except OSError:
                return  # the client gave up

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


async def test_a_server_that_trickles_its_body_is_cut_off_at_the_timeout() -> None:
    with trickling(gap=0.2, size=20) as url:  # each read is quick, the whole body takes 4 s
        transport = open_transport(timeout=0.5)
        started = time.monotonic()
        try:
            reply = await transport.send(get(f"{url}/slow"))
        finally:
            await transport.aclose()
        took = time.monotonic() - started
    assert reply.status is None and reply.error == "timed out"
    assert took < 1.5


async def test_an_asgi_app_that_never_answers_times_out_and_is_retried() -> None:
    calls = 0

    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal calls
        calls += 1
        await anyio.sleep_forever()

    transport = open_transport(app=silent, timeout=0.2)
    sender = Sender(transport, clock=SystemClock(), retries=1, backoff=0.01)
    started = time.monotonic()
    try:
        with anyio.fail_after(10):  # without a deadline this would hang until pytest's timeout
            reply = await sender.fetch(get("http://app.test/wait"))
    finally:
        await transport.aclose()
    assert reply.status is None and reply.error == "timed out"
    assert calls == 2 and sender.requests == 2
    assert time.monotonic() - started < 2.0


async def test_a_sleeping_wsgi_app_is_abandoned_at_the_timeout() -> None:
    release = threading.Event()

    def sleepy(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(3.0)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]

    transport = open_transport(app=sleepy, timeout=0.2)
    started = time.monotonic()
    try:
        reply = await transport.send(get("http://app.test/sleep"))
        took = time.monotonic() - started
    finally:
        release.set()  # let the abandoned worker thread finish now
        await transport.aclose()
    assert reply.status is None and reply.error == "timed out"
    assert took < 1.5


# -- an in-process app's exception is a 500 -------------------------------------------


async def crashing_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


def crashing_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("boom")


@pytest.mark.parametrize("app", [crashing_asgi, crashing_wsgi], ids=["asgi", "wsgi"])
async def test_an_app_exception_is_a_500(app: Any) -> None:
    transport = open_transport(app=app, timeout=5)
    try:
        reply = await transport.send(get("http://app.test/crash"))
    finally:
        await transport.aclose()
    assert reply.status == 500 and reply.error is None


# -- credentials stay on their origin ---------------------------------------------------

#: Credential-like header names: the ones a short word list let through, and the usual ones.
CREDENTIALS = [
    "x-credentials", "x-jwt", "x-csrf", "x-hmac", "x-otp", "x-pass", "x-access", "x-client-cert", "bearer",
    "authorization", "cookie", "x-api-key", "x-auth-token", "x-session-id", "x-xsrf-token", "x-signature",
]
ORDINARY = {"content-type": "application/json", "accept": "application/json", "user-agent": "reqbisect-test"}


async def test_a_cross_origin_redirect_drops_every_credential_like_header_and_keeps_ordinary_ones() -> None:
    async def landing(scope: Scope, receive: Receive, send: Send) -> None:
        await answer(send, 200, body=b"landed")

    with serve(landing) as other:

        async def redirecting(scope: Scope, receive: Receive, send: Send) -> None:
            await answer(send, 302, [(b"location", f"{other.url}/landing".encode())])

        with serve(redirecting) as origin:
            transport = open_transport(timeout=5, follow_redirects=3)
            headers = [(name, "secret-value") for name in CREDENTIALS] + list(ORDINARY.items())
            try:
                reply = await transport.send(get(f"{origin.url}/start", *headers))
            finally:
                await transport.aclose()
    assert reply.status == 200
    ((_, _, sent, _),) = origin.counter.received
    ((_, _, arrived, _),) = other.counter.received
    assert {name.decode() for name, _ in sent} >= set(CREDENTIALS)
    names = {name.decode() for name, _ in arrived}
    assert sorted(names & set(CREDENTIALS)) == [], "credentials reached another origin"
    assert names >= set(ORDINARY)
