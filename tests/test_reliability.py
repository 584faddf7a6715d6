"""Reliability against real servers: injected faults, and the Sender's timing on a fake clock.

Two halves:

* Fault injection over HTTP on 127.0.0.1 (``tests/faults.py``): 429s with
  ``Retry-After``, 503 bursts, connection resets, answers slower than the
  timeout, bodies cut short, and a server that lies one time in ten. Whatever
  happens, a run ends with the expected patch and outcome ``found``, or raises
  :class:`Inconclusive` with the best result so far and a reason; never a wrong
  patch called found. The request budget holds, ``stats.requests`` is exactly
  what the server received, and retries are bounded.
* :class:`Sender` driven directly with a scripted transport on virtual time:
  pacing, backoff and jitter, ``Retry-After`` in both forms, the retry limit,
  the budget, adaptive concurrency. Sequential sends use :class:`FakeClock`;
  concurrent ones run on trio's ``MockClock`` (autojump), whose time only moves
  when every task waits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import pytest
import trio.testing

from reqbisect import BaselineError, Inconclusive, ReqbisectError, abisect
from reqbisect.budget import BudgetSpent
from reqbisect.formats import load_request
from reqbisect.oracle import Reply
from reqbisect.result import Result
from reqbisect.sender import Sender
from reqbisect.transport import SystemClock
from reqbisect.wire import WireRequest

from .conftest import case_expected, case_file, load_case_app, serve
from .faults import FaultServer, serve_faults

pytestmark = pytest.mark.network

CASES = ["waf-header", "login-form"]
SEEDS = [0, 1, 2]
MAX_REQUESTS = 150
RETRIES = 3
BASELINE_REPEATS = 2

#: Each fault alone, then all of them together.
MIXES: dict[str, dict[str, float]] = {
    "429": {"429": 0.25},
    "503": {"503": 0.08},
    "reset": {"reset": 0.25},
    "slow": {"slow": 0.1},
    "cut": {"cut": 0.25},
    "all": {"429": 0.08, "503": 0.04, "reset": 0.08, "slow": 0.04, "cut": 0.08},
}


async def bisect_over(
    server: FaultServer, name: str, *, repeat: int = 1, concurrency: int = 4
) -> tuple[Result, str | None]:
    """Run fix mode against ``server``: the result, and the Inconclusive message (None when found)."""
    try:
        result = await abisect(
            load_request(case_file(name, "good")), load_request(case_file(name, "bad")),
            target=server.url, concurrency=concurrency, max_requests=MAX_REQUESTS, timeout=0.5,
            retries=RETRIES, backoff=0.01, repeat=repeat, baseline_repeats=BASELINE_REPEATS,
        )
    except Inconclusive as exc:
        assert exc.result is not None, "Inconclusive must carry the best result so far"
        return exc.result, exc.message
    return result, None


def assert_right_or_inconclusive(
    name: str, server: FaultServer, result: Result, message: str | None, *, repeat: int = 1
) -> None:
    if message is None:
        assert result.outcome == "found" and result.verified and result.minimal
        assert result.patch == case_expected(name)["patch"], "a wrong patch was reported as found"
    else:
        assert result.outcome == "inconclusive"
        assert result.reason == message
        assert any(why in message for why in ("budget", "re-verification failed", "were unresolved")), message
    assert server.settle()
    assert server.count <= MAX_REQUESTS
    assert result.stats.requests == server.count
    # Every send of a request is retried at most RETRIES times, and no request is
    # sent more often than its baseline/candidate sends plus its re-verification.
    per_request = Counter(received.key for received in server.received)
    assert max(per_request.values()) <= (RETRIES + 1) * (max(BASELINE_REPEATS, repeat) + repeat)


#: The baselines never get a lie or an overload status here: a lie about a baseline is
#: a different question (see the BaselineError test), and so is a server too busy
#: to answer them at all (see the overload test). Resets, slow answers and cut
#: bodies do reach the baselines.
SPARED = frozenset({"wrong", "429", "503"})


def fault_server(name: str, seed: int, mix: dict[str, float], **options: Any) -> Any:
    options.setdefault("spare", SPARED)
    return serve_faults(
        load_case_app(name), good=load_request(case_file(name, "good")), bad=load_request(case_file(name, "bad")),
        seed=seed, mix=mix, burst=4, slow=1.0, **options,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("fault", list(MIXES))
async def test_transient_faults_give_the_expected_patch_or_an_inconclusive_result(
    fault: str, name: str, seed: int
) -> None:
    with fault_server(name, seed, MIXES[fault]) as server:
        result, message = await bisect_over(server, name)
        injected = server.injected()
    assert_right_or_inconclusive(name, server, result, message)
    if fault == "all":
        assert len(set(injected) - {None}) >= 2, injected
    else:
        assert injected[fault] > 0, injected


@pytest.mark.parametrize("repeat", [1, 3])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CASES)
async def test_a_server_wrong_one_time_in_ten_never_yields_a_wrong_found(name: str, seed: int, repeat: int) -> None:
    with fault_server(name, seed, {"wrong": 0.1}) as server:
        result, message = await bisect_over(server, name, repeat=repeat)
        injected = server.injected()
    assert_right_or_inconclusive(name, server, result, message, repeat=repeat)
    assert injected["wrong"] > 0, injected


async def test_a_lie_repeated_on_reverification_is_not_reported_as_found() -> None:
    # Seed 17: the server answers BAD + {pragma} as GOOD during the search and
    # again when it is re-verified; the true fix is removing x-forwarded-for.
    name = "waf-header"
    with fault_server(name, 17, {"wrong": 0.1}, force_first=False) as server:
        result, message = await bisect_over(server, name, concurrency=1)
    assert_right_or_inconclusive(name, server, result, message)


async def test_a_wrong_answer_to_a_baseline_is_a_baseline_error_naming_it() -> None:
    name = "waf-header"
    with fault_server(name, 0, {"wrong": 0.5}, spare=frozenset()) as server:
        with pytest.raises(BaselineError) as raised:
            await abisect(
                load_request(case_file(name, "good")), load_request(case_file(name, "bad")),
                target=server.url, max_requests=MAX_REQUESTS, timeout=0.5, baseline_repeats=4,
            )
    assert "flaky" in raised.value.message
    assert raised.value.result is not None and raised.value.result.outcome == "baselines-failed"


async def test_a_server_that_only_answers_503_is_called_overloaded() -> None:
    name = "waf-header"
    with fault_server(name, 0, {"503": 1.0}, spare=frozenset()) as server:
        with pytest.raises(ReqbisectError) as raised:
            await abisect(
                load_request(case_file(name, "good")), load_request(case_file(name, "bad")),
                target=server.url, max_requests=MAX_REQUESTS, timeout=0.5, retries=1, backoff=0.01,
            )
    message = raised.value.message
    assert "503" in message and "overloaded" in message, message
    assert "flaky" not in message and "same answer" not in message, message


async def test_the_budget_holds_with_a_rate_limit_and_retries_in_flight() -> None:
    name = "waf-header"
    overruns, miscounts = [], []
    for seed in (3, 5, 8):
        with fault_server(name, seed, {"503": 0.1, "reset": 0.1}) as server:
            for budget in (14, 20, 26):
                before = server.count
                try:
                    result = await abisect(
                        load_request(case_file(name, "good")), load_request(case_file(name, "bad")),
                        target=server.url, concurrency=8, max_requests=budget, rate=200, timeout=0.5, backoff=0.01,
                    )
                except Inconclusive as exc:
                    result = exc.result
                assert server.settle()
                received = server.count - before
                if received > budget:
                    overruns.append((seed, budget, received))
                if result.stats.requests != received:
                    miscounts.append((seed, budget, result.stats.requests, received))
    assert overruns == []
    assert miscounts == []


async def test_requests_withdrawn_before_they_were_sent_are_not_counted() -> None:
    name = "login-form"
    with serve(load_case_app(name)) as server:
        result = await abisect(
            load_request(case_file(name, "good")), load_request(case_file(name, "bad")),
            target=server.url, concurrency=8, rate=5, timeout=0.1,
        )
        received = len(server.counter.received)
    assert result.patch == case_expected(name)["patch"]
    assert result.stats.cancelled > 0
    assert result.stats.requests == received


# -- the Sender on virtual time -----------------------------------------------------


class FakeClock:
    """Virtual time for one task at a time: ``sleep`` moves ``now`` forward and yields."""

    def __init__(self, start: float = 0.0) -> None:
        self.time = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await anyio.lowlevel.checkpoint()


@dataclass
class ScriptedTransport:
    """Answers with ``script`` in order (the last answer repeats); records when each send happened."""

    script: Sequence[Reply]
    clock: Any
    sent: list[tuple[float, WireRequest]] = field(default_factory=list)

    async def send(self, wire: WireRequest) -> Reply:
        reply = self.script[min(len(self.sent), len(self.script) - 1)]
        self.sent.append((self.clock.now(), wire))
        await anyio.lowlevel.checkpoint()
        return reply

    async def aclose(self) -> None:
        pass

    @property
    def times(self) -> list[float]:
        return [when for when, _ in self.sent]


def wire(n: int = 0) -> WireRequest:
    return WireRequest("GET", f"http://127.0.0.1/items/{n}", (("accept", "application/json"),), b"")


OK = Reply(status=200, body=b"{}")
RESET = Reply(status=None, error="connection reset")
#: RFC 9110 section 10.2.3: an HTTP-date 30 s after the response's own Date.
DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
THIRTY_SECONDS_LATER = "Wed, 21 Oct 2015 07:28:30 GMT"


def sender(
    script: Iterable[Reply], *, start: float = 0.0, **options: Any
) -> tuple[Sender, ScriptedTransport, FakeClock]:
    clock = FakeClock(start)
    transport = ScriptedTransport(list(script), clock)
    return Sender(transport, clock=clock, **options), transport, clock


async def test_rate_4_spaces_five_sends_exactly_a_quarter_second_apart() -> None:
    s, transport, clock = sender([OK], start=100.0, rate=4)
    for n in range(5):
        assert (await s.fetch(wire(n))).status == 200
    assert transport.times == [100.0, 100.25, 100.5, 100.75, 101.0]
    assert clock.sleeps == [0.25] * 4


def test_rate_4_spaces_five_concurrent_sends_exactly_a_quarter_second_apart() -> None:
    async def main() -> list[float]:
        transport = ScriptedTransport([OK], SystemClock())
        s = Sender(transport, clock=SystemClock(), rate=4)
        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(s.fetch, wire(n))
        return transport.times

    clock = trio.testing.MockClock(autojump_threshold=0)
    assert anyio.run(main, backend="trio", backend_options={"clock": clock}) == [0.0, 0.25, 0.5, 0.75, 1.0]


async def test_backoff_doubles_per_attempt_with_at_most_a_quarter_of_jitter() -> None:
    s, transport, clock = sender([RESET], retries=4, backoff=0.5)
    reply = await s.fetch(wire())
    assert reply.error == "connection reset"
    assert len(transport.sent) == 5
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        base = 0.5 * 2**attempt
        assert base <= slept <= base * 1.25
    assert len(set(s / 2**i for i, s in enumerate(clock.sleeps))) > 1, "no jitter at all"
    assert transport.times == [sum(clock.sleeps[:i]) for i in range(5)]


async def test_backoff_jitter_is_the_same_on_every_run() -> None:
    first, _, clock_a = sender([RESET], retries=3, backoff=0.5)
    second, _, clock_b = sender([RESET], retries=3, backoff=0.5)
    await first.fetch(wire())
    await second.fetch(wire())
    assert clock_a.sleeps == clock_b.sleeps


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_in_seconds_is_waited_exactly(status: int) -> None:
    busy = Reply(status=status, headers=(("Retry-After", "7"),))
    s, transport, _ = sender([busy, OK], retries=2, backoff=0.5)
    assert (await s.fetch(wire())).status == 200
    assert transport.times == [0.0, 7.0]


async def test_retry_after_as_an_http_date_counts_from_the_response_date() -> None:
    busy = Reply(status=429, headers=(("Date", DATE), ("Retry-After", THIRTY_SECONDS_LATER)))
    s, transport, _ = sender([busy, OK], retries=2, backoff=0.5)
    assert (await s.fetch(wire())).status == 200
    assert transport.times == [0.0, 30.0]


async def test_a_retry_after_shorter_than_the_backoff_does_not_shorten_it() -> None:
    busy = Reply(status=503, headers=(("Retry-After", "0"),))
    s, _, clock = sender([busy, OK], retries=2, backoff=0.5)
    await s.fetch(wire())
    (slept,) = clock.sleeps
    assert 0.5 <= slept <= 0.625


@pytest.mark.parametrize("retries", [0, 1, 2, 5])
async def test_retries_stop_after_the_given_number_of_extra_attempts(retries: int) -> None:
    s, transport, _ = sender([Reply(status=503)], retries=retries, backoff=0.01)
    reply = await s.fetch(wire())
    assert reply.status == 503
    assert len(transport.sent) == retries + 1
    assert s.requests == retries + 1


async def test_an_ordinary_error_answer_is_not_retried() -> None:
    s, transport, clock = sender([Reply(status=400, body=b'{"error": "bad"}'), OK], retries=3)
    assert (await s.fetch(wire())).status == 400
    assert len(transport.sent) == 1 and clock.sleeps == []


async def test_a_spent_budget_answers_without_calling_the_transport() -> None:
    s, transport, _ = sender([OK], max_requests=2)
    assert (await s.fetch(wire(1))).status == 200
    assert (await s.fetch(wire(2))).status == 200
    with pytest.raises(BudgetSpent):
        await s.fetch(wire(3))
    assert len(transport.sent) == 2 and s.requests == 2
    assert s.budget.left == 0


async def test_the_budget_cuts_a_retry_loop_short() -> None:
    s, transport, _ = sender([RESET], max_requests=3, retries=10, backoff=0.01)
    with pytest.raises(BudgetSpent):
        await s.fetch(wire())
    assert len(transport.sent) == s.requests == 3


async def test_an_identical_request_is_answered_from_the_cache() -> None:
    s, transport, _ = sender([OK])
    await s.fetch(wire(1))
    await s.fetch(wire(1))
    assert len(transport.sent) == 1 and s.cache_hits == 1


def test_concurrent_fetches_never_overrun_the_budget_while_paced() -> None:
    async def main() -> tuple[int, int, int]:
        transport = ScriptedTransport([OK], SystemClock())
        s = Sender(transport, clock=SystemClock(), rate=4, max_requests=3)
        refused = 0

        async def fetch(n: int) -> None:
            nonlocal refused
            try:
                await s.fetch(wire(n))
            except BudgetSpent:
                refused += 1

        async with anyio.create_task_group() as tg:
            for n in range(5):
                tg.start_soon(fetch, n)
        return len(transport.sent), s.requests, refused

    clock = trio.testing.MockClock(autojump_threshold=0)
    assert anyio.run(main, backend="trio", backend_options={"clock": clock}) == (3, 3, 2)


async def test_a_429_halves_the_requests_in_flight_and_successes_grow_them_back() -> None:
    s, _, _ = sender([Reply(status=429), OK], retries=0)
    assert s.allowed(8) == 8
    await s.fetch(wire(0))
    assert s.allowed(8) == 4
    for n in range(1, 40):
        await s.fetch(wire(n))
    assert s.allowed(8) == 8


async def test_a_429_lowers_concurrency_no_further_than_one() -> None:
    s, _, _ = sender([Reply(status=429)], retries=0)
    for n in range(10):
        await s.fetch(wire(n))
    assert s.allowed(8) == 1
