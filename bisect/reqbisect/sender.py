"""Sending wire requests politely: exact cache, budget, pacing, retries, backoff.

Every request of a run goes through one :class:`Sender`. An identical request
(same method, URL, header lines and body bytes) is sent once and answered from
the cache after that. The budget is a hard limit on what the server receives:
a request is counted before it waits for its slot, so requests waiting together
cannot overrun it, and each redirect hop a transport follows is counted and
paced as a request of its own. ``concurrency`` caps the requests on the wire at
once, whoever sends them (search, baselines, verification). Transport
errors, 429 and 503 are retried with exponential backoff and seeded jitter,
waiting at least what ``Retry-After`` asks (RFC 9110, section 10.2.3). While the
server signals overload the number of requests allowed in flight halves, and it
grows back by one per round of successes (additive increase, multiplicative
decrease). Time comes from an injected :class:`~reqbisect.transport.Clock`.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from email.utils import parsedate_to_datetime

import anyio

from reqbisect.oracle import Reply
from reqbisect.transport import Admit, Clock, HttpxTransport, Transport
from reqbisect.wire import WireRequest

__all__ = ["Sender", "wire_key"]

_SPENT = Reply(status=None, error="request budget spent")


def wire_key(wire: WireRequest) -> str:
    digest = hashlib.sha256()
    for part in (wire.method, wire.url, repr(wire.headers)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(wire.body)
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
        max_requests: hard limit on requests sent, retries included.
        rate: requests per second at most (None: no limit).
        retries: extra attempts after a transport error, 429 or 503.
        backoff: first backoff delay in seconds; doubles per attempt.
        concurrency: requests on the wire at once at most (None: no limit).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        max_requests: int | None = None,
        rate: float | None = None,
        retries: int = 2,
        backoff: float = 0.5,
        concurrency: int | None = None,
    ) -> None:
        self._transport = transport
        # Held only while a request is on the wire, never across pacing or backoff sleeps.
        self._on_wire = anyio.CapacityLimiter(concurrency) if concurrency is not None else None
        self._clock = clock
        self._max_requests = max_requests
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = -math.inf
        self._retries = retries
        self._backoff = backoff
        # Seeded: jitter spreads retries out without making runs irreproducible.
        self._jitter = random.Random(0)
        self._cache: dict[str, Reply] = {}
        self._allowed: float | None = None
        self._ceiling = 64
        self._pending: dict[str, anyio.Event] = {}
        self.requests = 0
        self.cache_hits = 0

    def allowed(self, concurrency: int) -> int:
        """How many requests may be in flight now: halved on 429/503, regrown on success (AIMD)."""
        self._ceiling = concurrency
        if self._allowed is None:
            return concurrency
        return max(1, min(concurrency, int(self._allowed)))

    def _signal(self, reply: Reply) -> None:
        if reply.status in (429, 503):
            self._allowed = max(1.0, (self._allowed or float(self._ceiling)) / 2)
        elif self._allowed is not None:
            self._allowed += 1.0 / self._allowed
            if self._allowed >= self._ceiling:
                self._allowed = None

    @property
    def budget_left(self) -> int | None:
        return None if self._max_requests is None else self._max_requests - self.requests

    async def fetch(self, wire: WireRequest, *, fresh: bool = False) -> Reply:
        """The reply to ``wire``: from the cache unless ``fresh``, else sent."""
        if fresh:
            return await self._send_with_retries(wire)
        key = wire_key(wire)
        while key in self._pending:
            await self._pending[key].wait()
        if key in self._cache:
            self.cache_hits += 1
            return self._cache[key]
        event = self._pending[key] = anyio.Event()
        try:
            reply = await self._send_with_retries(wire)
            if reply.error != _SPENT.error:
                self._cache[key] = reply
            return reply
        finally:
            del self._pending[key]
            event.set()

    async def _send_with_retries(self, wire: WireRequest) -> Reply:
        attempt = 0
        while True:
            if not await self._take_slot():
                return _SPENT
            reply = await self._send_once(wire)
            if reply is _SPENT:
                return reply
            self._signal(reply)
            retryable = reply.error is not None or reply.status in (429, 503)
            if not retryable or attempt >= self._retries:
                return reply
            delay = self._backoff * (2**attempt) * (1.0 + 0.25 * self._jitter.random())
            hinted = _retry_after(reply)
            if hinted is not None:
                delay = max(delay, min(hinted, 120.0))
            attempt += 1
            await self._clock.sleep(delay)

    async def _take_slot(self) -> bool:
        """Count one request against the budget and wait for its rate slot; False if the budget is spent.

        Counted before waiting, so that requests waiting together can never
        overrun the budget.
        """
        if self._max_requests is not None and self.requests >= self._max_requests:
            return False
        self.requests += 1
        try:
            await self._pace()
        except BaseException:
            self.requests -= 1  # withdrawn before it was sent
            raise
        return True

    async def _send_once(self, wire: WireRequest) -> Reply:
        """One attempt (its first request already counted); every redirect hop after it takes a slot too.

        A hop refused for want of budget makes the whole attempt a spent budget:
        the redirect it stopped at is not the answer to ``wire``.
        """
        limiter = self._on_wire
        refused = held = False

        async def admit() -> bool:
            # Between hops nothing of this attempt is on the wire: its place is
            # given up while it waits for the next slot, and taken again to send.
            nonlocal refused, held
            if limiter is not None:
                limiter.release()
                held = False
            refused = not await self._take_slot()
            if not refused and limiter is not None:
                await limiter.acquire()
                held = True
            return not refused

        try:
            if limiter is not None:
                await limiter.acquire()
                held = True
            reply = await self._deliver(wire, admit)
        finally:
            if held and limiter is not None:
                limiter.release()
        return _SPENT if refused else reply

    async def _deliver(self, wire: WireRequest, admit: Admit) -> Reply:
        if isinstance(self._transport, HttpxTransport):  # the one that follows redirects itself
            return await self._transport.send(wire, admit=admit)
        return await self._transport.send(wire)

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock.now()
        slot = max(now, self._next_slot + self._interval)
        self._next_slot = slot
        if slot > now:
            await self._clock.sleep(slot - now)
