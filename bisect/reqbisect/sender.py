"""Sending wire requests politely: exact cache, budget, pacing, retries, backoff.

Every request of a run goes through one :class:`Sender`. An identical request
(same method, URL, header lines and body bytes) is sent once and answered from
the cache after that. The :class:`~reqbisect.budget.Budget` is a hard limit on
what the server receives: a request is reserved before it waits for its rate
slot (so requests waiting together cannot overrun it), committed when it
reaches the server, and released if it is withdrawn before; each redirect hop a
transport follows is reserved, paced and committed as a request of its own.
``concurrency`` caps the requests on the wire at once, whoever sends them
(search, baselines, verification). Transport errors, 429 and 503 are retried
with exponential backoff and seeded jitter, waiting at least what
``Retry-After`` asks (RFC 9110, section 10.2.3). While the server signals
overload the number of requests allowed in flight halves, and it grows back by
one per round of successes (additive increase, multiplicative decrease). Time
comes from an injected :class:`~reqbisect.transport.Clock`.

Each fetch carries the oracle's ``reads_body`` policy down to the transport
(``reqbisect.reading``); a cached answer whose body was not read is sent again
if a later fetch wants that body.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import anyio

from reqbisect.budget import Budget, BudgetSpent
from reqbisect.oracle import OVERLOAD, BodyRead, Reply
from reqbisect.reading import BodyPolicy, read_all
from reqbisect.transport import Admit, Clock, HttpxTransport, Transport
from reqbisect.wire import WireRequest

__all__ = ["Sender", "wire_key"]

def wire_key(wire: WireRequest) -> str:
    digest = hashlib.sha256()
    for part in (wire.method, wire.url, repr(wire.headers)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(wire.body)
    if wire.http is not None:  # the same lines over HTTP/2 are another request (keys without it unchanged)
        digest.update(b"\0http/" + wire.http.encode())
    return digest.hexdigest()


def _retry_after(reply: Reply) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date.

    An HTTP-date (RFC 9110, section 10.2.3) is taken relative to the response's
    own ``Date`` header, so neither clock skew nor the local wall clock matters;
    without a ``Date`` the local wall clock stands in.
    """
    value = reply.header("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    date = reply.header("date")
    try:
        now = parsedate_to_datetime(date).timestamp() if date else time.time()
    except (TypeError, ValueError, IndexError):
        now = time.time()
    return max(0.0, when - now)


class Sender:
    """Send wire requests with a cache, a budget, a rate limit and retries.

    Args:
        transport: where requests go.
        clock: time source for pacing and backoff.
        budget: the run's request budget (a new one of ``max_requests`` by default).
        max_requests: hard limit on requests sent, retries included.
        rate: requests per second at most (None: no limit).
        retries: extra attempts after a transport error, 429 or 503.
        backoff: first backoff delay in seconds; doubles per attempt.
        concurrency: requests on the wire at once at most (None: no limit).
        retry_on: statuses retried like a transport error (429 and 503 by default).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        budget: Budget | None = None,
        max_requests: int | None = None,
        rate: float | None = None,
        retries: int = 2,
        backoff: float = 0.5,
        concurrency: int | None = None,
        retry_on: frozenset[int] = OVERLOAD,
    ) -> None:
        self._transport = transport
        # Held only while a request is on the wire, never across pacing or backoff sleeps.
        self._on_wire = anyio.CapacityLimiter(concurrency) if concurrency is not None else None
        self._clock = clock
        self.budget = budget if budget is not None else Budget(max_requests)
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = -math.inf
        self._retries = retries
        self._retry_on = retry_on
        self._backoff = backoff
        # Seeded: jitter spreads retries out without making runs irreproducible.
        self._jitter = random.Random(0)
        self._cache: dict[str, Reply] = {}
        self._allowed: float | None = None
        self._ceiling = 64
        self._pending: dict[str, anyio.Event] = {}
        self.cache_hits = 0

    @property
    def requests(self) -> int:
        """Requests that reached the server (or the in-process app), retries and redirect hops included."""
        return self.budget.sent

    def allowed(self, concurrency: int) -> int:
        """How many requests may be in flight now: halved on 429/503, regrown on success (AIMD)."""
        self._ceiling = concurrency
        if self._allowed is None:
            return concurrency
        return max(1, min(concurrency, int(self._allowed)))

    def _signal(self, reply: Reply) -> None:
        if reply.status in OVERLOAD:
            self._allowed = max(1.0, (self._allowed or float(self._ceiling)) / 2)
        elif self._allowed is not None:
            self._allowed += 1.0 / self._allowed
            if self._allowed >= self._ceiling:
                self._allowed = None

    async def fetch(self, wire: WireRequest, *, fresh: bool = False, reads_body: BodyPolicy = read_all) -> Reply:
        """The reply to ``wire``: from the cache unless ``fresh``, else sent.

        ``reads_body(status, headers)`` says whether the answer's body is read
        (see ``reqbisect.reading``).

        Raises:
            BudgetSpent: the budget ran out before an answer came (a redirect chain
                cut short by it included: the hop it stopped at is not the answer).
        """
        if fresh:
            return await self._send_with_retries(wire, reads_body)
        key = wire_key(wire)
        while key in self._pending:
            await self._pending[key].wait()
        cached = self._cache.get(key)
        if cached is not None and not _lacks_body(cached, reads_body):
            self.cache_hits += 1
            return cached
        event = self._pending[key] = anyio.Event()
        try:
            reply = self._cache[key] = await self._send_with_retries(wire, reads_body)
            return reply
        finally:
            del self._pending[key]
            event.set()

    async def _send_with_retries(self, wire: WireRequest, reads_body: BodyPolicy) -> Reply:
        attempt = 0
        while True:
            reply = await self._send_once(wire, reads_body)
            self._signal(reply)
            retry = reply.retryable or reply.status in self._retry_on
            if not retry or attempt >= self._retries:
                return reply
            delay = self._backoff * (2**attempt) * (1.0 + 0.25 * self._jitter.random())
            hinted = _retry_after(reply)
            if hinted is not None:
                delay = max(delay, min(hinted, 120.0))
            attempt += 1
            await self._clock.sleep(delay)

    async def _send_once(self, wire: WireRequest, reads_body: BodyPolicy) -> Reply:
        """One attempt, its redirect hops included; each hop is reserved, paced and committed on its own."""
        limiter = self._on_wire
        ticket = self.budget.reserve()
        held = False

        async def take_place() -> None:
            nonlocal held
            await self._pace()
            if limiter is not None:
                await limiter.acquire()
                held = True

        async def admit() -> bool:
            # Between hops nothing of this attempt is on the wire: its place is
            # given up while the next hop waits for its slot, and taken again to send.
            nonlocal ticket, held
            if held and limiter is not None:
                limiter.release()
                held = False
            ticket.release()  # the hop before was committed, or never reached the server
            try:
                ticket = self.budget.reserve()
            except BudgetSpent:
                raise _HopRefused from None
            await take_place()
            return True

        def arrived() -> None:
            ticket.commit()

        try:
            await take_place()
            reply = await self._deliver(wire, admit, arrived, reads_body)
            if reply.status is not None:
                ticket.commit()  # whatever the transport could tell, an answer means it arrived
            return reply
        except _HopRefused:
            raise BudgetSpent(f"the request budget ({self.budget.limit}) ran out in a redirect chain") from None
        finally:
            ticket.release()
            if held and limiter is not None:
                limiter.release()

    async def _deliver(
        self, wire: WireRequest, admit: Admit, arrived: Callable[[], None], reads_body: BodyPolicy
    ) -> Reply:
        if isinstance(self._transport, HttpxTransport):  # it follows redirects and sees the wire itself
            return await self._transport.send(wire, admit=admit, arrived=arrived, reads_body=reads_body)
        reply = await self._transport.send(wire)
        arrived()  # it cannot tell; counting it keeps the budget a hard limit
        return reply

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock.now()
        slot = max(now, self._next_slot + self._interval)
        self._next_slot = slot
        if slot > now:
            await self._clock.sleep(slot - now)


def _lacks_body(reply: Reply, reads_body: BodyPolicy) -> bool:
    """A cached answer read without its body, asked for by a fetch that wants the body."""
    return reply.body_read is BodyRead.UNREAD and reply.status is not None and reads_body(reply.status, reply.headers)


class _HopRefused(Exception):
    """A redirect hop found the budget spent (raised through the transport, turned into BudgetSpent)."""
