"""Running a bisection: baselines, candidates in flight, cache, budget, verification.

Theory of operation. ``abisect`` loads the two requests, sends both baselines,
builds the oracle, diffs the documents into a change tree and hands its
changes to the pure search core (``reqbisect.search``). The driver loop then
does only bookkeeping: ask the core for as many candidates as there are free
slots (``concurrency``), start one task per candidate in a single task group,
and feed each outcome back to the core as it arrives. The core decides in
proposal order, so arrival order never changes the answer. Speculative
candidates the core no longer needs are cancelled. At the end the minimal good
and minimal bad requests are sent once more (verification).

Every request goes through :class:`Sender`: an exact cache (an identical
request is never sent twice), the request budget, a rate limit, retries with
backoff for transport errors and for 429/503 answers (honouring
``Retry-After``). Time comes from an injected :class:`~reqbisect.transport.Clock`.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any, Union

import anyio
import httpx

from reqbisect._types import Document, JSONValue
from reqbisect.diff import ChangeTree, diff
from reqbisect.document import Capture, WireRequest, origin, to_wire
from reqbisect.errors import BaselineError, Inconclusive, InputError
from reqbisect.formats import load_request
from reqbisect.oracle import Oracle, Reply, SignatureOracle, call_oracle, to_outcome
from reqbisect.outcome import Outcome
from reqbisect.result import Result, Stats
from reqbisect.search import Candidate, Config, Search, Space, isolate, minimise
from reqbisect.transport import Clock, SystemClock, Transport, open_transport

__all__ = ["MODES", "Progress", "Sender", "abisect", "bisect", "abisect_documents", "bisect_documents"]

MODES = ("fix", "break", "isolate")

RequestLike = Union[Capture, Document, str, Path]
#: A hook applied to every candidate document just before it is sent (sync or async).
Prepare = Callable[[Document], Union[Document, Awaitable[Document]]]
#: A test for ``bisect_documents``: document -> Outcome or bool, sync or async.
Test = Callable[[Any], Union[Outcome, bool, Awaitable[Union[Outcome, bool]]]]


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for progress displays."""

    requests: int
    in_flight: int
    good: int
    bad: int
    unresolved: int
    #: Changes in the current best answer (the size of the difference).
    size: int
    total: int
    elapsed: float


# -- sending --------------------------------------------------------------------


def _wire_key(wire: WireRequest) -> str:
    digest = hashlib.sha256()
    for part in (wire.method, wire.url, repr(wire.headers)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(wire.body)
    return digest.hexdigest()


def _retry_after(reply: Reply, clock_now: float) -> float | None:
    value = reply.header("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Sender:
    """Send wire requests with a cache, a budget, a rate limit and retries.

    Args:
        transport: where requests go.
        clock: time source for pacing and backoff.
        max_requests: hard limit on requests sent, retries included.
        rate: requests per second at most (None: no limit).
        retries: extra attempts after a transport error, 429 or 503.
        backoff: first backoff delay in seconds; doubles per attempt.
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
    ) -> None:
        self._transport = transport
        self._clock = clock
        self._max_requests = max_requests
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = -math.inf
        self._retries = retries
        self._backoff = backoff
        self._cache: dict[str, Reply] = {}
        self._pending: dict[str, anyio.Event] = {}
        self.requests = 0
        self.cache_hits = 0

    @property
    def budget_left(self) -> int | None:
        return None if self._max_requests is None else self._max_requests - self.requests

    async def fetch(self, wire: WireRequest, *, fresh: bool = False) -> Reply:
        """The reply to ``wire``: from the cache unless ``fresh``, else sent."""
        key = _wire_key(wire)
        if not fresh:
            while key in self._pending:
                await self._pending[key].wait()
            if key in self._cache:
                self.cache_hits += 1
                return self._cache[key]
        event = self._pending[key] = anyio.Event()
        try:
            reply = await self._send_with_retries(wire)
            if reply.error != "request budget spent":
                self._cache[key] = reply
            return reply
        finally:
            del self._pending[key]
            event.set()

    async def _send_with_retries(self, wire: WireRequest) -> Reply:
        attempt = 0
        while True:
            if self._max_requests is not None and self.requests >= self._max_requests:
                return Reply(status=None, error="request budget spent")
            await self._pace()
            self.requests += 1
            reply = await self._transport.send(wire)
            retryable = reply.error is not None or reply.status in (429, 503)
            if not retryable or attempt >= self._retries:
                return reply
            delay = self._backoff * (2**attempt)
            hinted = _retry_after(reply, self._clock.now())
            if hinted is not None:
                delay = max(delay, min(hinted, 120.0))
            attempt += 1
            await self._clock.sleep(delay)

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock.now()
        slot = max(now, self._next_slot + self._interval)
        self._next_slot = slot
        if slot > now:
            await self._clock.sleep(slot - now)


# -- the search driver -------------------------------------------------------------


async def _drive(
    search: Search,
    evaluate: Callable[[Candidate], Awaitable[Outcome]],
    *,
    concurrency: int,
    on_outcome: Callable[[Candidate, Outcome], None] | None = None,
) -> None:
    """Propose, send, feed, until the search is done. One task group, no leaks.

    Speculative requests still in flight when the search ends are cancelled;
    ones on the wire before that are never withdrawn, since their answers
    often serve a later branch.
    """
    send_stream, receive_stream = anyio.create_memory_object_stream[tuple[Candidate, Outcome]](math.inf)
    scopes: dict[int, anyio.CancelScope] = {}

    async def run(candidate: Candidate, scope: anyio.CancelScope) -> None:
        with scope:
            outcome = await evaluate(candidate)
            await send_stream.send((candidate, outcome))

    async with send_stream, receive_stream, anyio.create_task_group() as tg:
        while not search.done:
            for candidate in search.propose(concurrency - len(search.in_flight)):
                scopes[candidate.rank] = scope = anyio.CancelScope()
                tg.start_soon(run, candidate, scope)
            if not search.in_flight:
                break
            candidate, outcome = await receive_stream.receive()
            if candidate.rank not in scopes:
                continue
            del scopes[candidate.rank]
            search.feed(candidate, outcome)
            if on_outcome is not None:
                on_outcome(candidate, outcome)
        for scope in scopes.values():
            scope.cancel()


# -- modes ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """How the search space maps onto the change tree for one mode."""

    mode: str
    tree: ChangeTree
    space: Space
    ids: tuple[int, ...]
    fixed: frozenset[int]

    def changes(self, config: Config) -> frozenset[int]:
        return frozenset(self.ids[i] for i in config) | self.fixed

    def document(self, config: Config) -> Document:
        value = self.tree.apply(self.changes(config))
        assert isinstance(value, dict)
        return value


def _plan(mode: str, good: Document, bad: Document, ignore: Sequence[str]) -> _Plan:
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}", source="--mode", expected=" or ".join(MODES))
    tree = diff(bad, good) if mode == "fix" else diff(good, bad)
    prefixes = [_pointer_tokens(pointer) for pointer in ignore]
    ignored = {
        c.id
        for c in tree.changes
        if any(tuple(str(t) for t in c.path[: len(p)]) == p for p in prefixes)
    }
    ids = tuple(c.id for c in tree.changes if c.id not in ignored)
    index = {change_id: i for i, change_id in enumerate(ids)}
    parents = tuple(
        None if tree.changes[cid].parent is None else index[tree.changes[cid].parent]  # type: ignore[index]
        for cid in ids
    )
    space = Space(parents=parents, paths=tuple(tree.changes[cid].path for cid in ids))
    fixed = frozenset(ignored) if mode != "fix" else frozenset()
    return _Plan(mode=mode, tree=tree, space=space, ids=ids, fixed=fixed)


def _pointer_tokens(pointer: str) -> tuple[str, ...]:
    if not pointer.startswith("/"):
        raise InputError("expected a JSON pointer such as /headers/x-request-id", source="--ignore", got=repr(pointer))
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def _strategy(plan: _Plan) -> Any:
    if plan.mode == "fix":
        return minimise(plan.space, target=Outcome.GOOD)
    if plan.mode == "break":
        return minimise(plan.space, target=Outcome.BAD)
    return isolate(plan.space)


def _endpoints(plan: _Plan) -> tuple[Config, Config]:
    """(the configuration equal to the base request, the one equal to the other)."""
    return frozenset(), plan.space.everything


# -- the public entry points -----------------------------------------------------------


def _capture(value: RequestLike, name: str) -> Capture:
    if isinstance(value, Capture):
        return value
    if isinstance(value, dict):
        from reqbisect.document import validate_document

        return Capture(document=validate_document(value, source=name), wire=None, source=name)
    return load_request(value)


async def abisect(
    good: RequestLike,
    bad: RequestLike,
    *,
    mode: str = "fix",
    oracle: Oracle | None = None,
    client: httpx.AsyncClient | None = None,
    app: Any = None,
    target: str | None = None,
    concurrency: int = 8,
    max_requests: int | None = None,
    timeout: float = 30.0,
    retries: int = 2,
    rate: float | None = None,
    ignore: Sequence[str] = (),
    prepare: Prepare | None = None,
    progress: Callable[[Progress], None] | None = None,
    clock: Clock | None = None,
) -> Result:
    """Find the smallest difference between ``good`` and ``bad`` that flips the answer.

    Args:
        good, bad: captures, request documents, paths or capture text.
        mode: "fix", "break" or "isolate" (DESIGN.md, "Modes").
        oracle: judge of replies (sync or async, ``(reply, document) -> Outcome | bool``);
            by default GOOD's status versus BAD's status and error signature.
        client: an ``httpx.AsyncClient`` to send with (e.g. with an app transport).
        app: an ASGI/WSGI app, or ``"module:attr"``, to send to in-process.
        target: send every request to this origin instead.
        concurrency: requests in flight at once.
        max_requests: the most requests to send, baselines and verification included.
        timeout: seconds per request.
        retries: extra attempts after a transport error, 429 or 503.
        rate: requests per second at most.
        ignore: JSON pointers whose changes are taken from BAD and never varied.
        prepare: hook applied to each candidate document before sending.
        progress: called with a :class:`Progress` after every outcome.
        clock: time source (tests inject a fake one).

    Returns:
        The :class:`Result`, found, re-verified and proven 1-minimal.

    Raises:
        InputError: bad input or options; nothing was sent.
        BaselineError: GOOD is not good, BAD is not bad, or they are equal.
        Inconclusive: the budget ran out or the answer could not be verified;
            ``.result`` holds the best result so far.
    """
    if concurrency < 1:
        raise InputError("must be at least 1", source="--concurrency", got=str(concurrency))
    if max_requests is not None and max_requests < 2:
        raise InputError("must be at least 2 (the two baselines)", source="--max-requests", got=str(max_requests))
    clock = clock or SystemClock()
    good_capture, bad_capture = _capture(good, "GOOD"), _capture(bad, "BAD")
    good_doc, bad_doc = good_capture.document, bad_capture.document
    if good_doc == bad_doc:
        raise BaselineError("GOOD and BAD are the same request; there is nothing to bisect")
    if client is None and app is None and target is None and origin(good_doc) != origin(bad_doc):
        raise InputError(
            f"GOOD goes to {origin(good_doc)} and BAD to {origin(bad_doc)}; candidates never mix origins",
            hint="pass --target URL (or --app) to send every candidate to one place",
        )
    plan = _plan(mode, good_doc, bad_doc, ignore)
    if not plan.ids:
        raise BaselineError("GOOD and BAD differ only under --ignore; there is nothing to bisect")
    captures = (bad_capture, good_capture) if mode == "fix" else (good_capture, bad_capture)
    transport = open_transport(client=client, app=app, target=target, timeout=timeout)
    started = clock.now()
    sender = Sender(transport, clock=clock, max_requests=max_requests, rate=rate, retries=retries)
    try:
        return await _run(
            plan, captures, good_capture, bad_capture, sender, oracle, prepare,
            concurrency=concurrency, max_requests=max_requests, progress=progress, clock=clock, started=started,
        )
    finally:
        await transport.aclose()


async def _run(
    plan: _Plan,
    captures: tuple[Capture, Capture],
    good_capture: Capture,
    bad_capture: Capture,
    sender: Sender,
    oracle: Oracle | None,
    prepare: Prepare | None,
    *,
    concurrency: int,
    max_requests: int | None,
    progress: Callable[[Progress], None] | None,
    clock: Clock,
    started: float,
) -> Result:
    async def wire_for(document: Document) -> WireRequest:
        if prepare is not None:
            prepared = prepare(document)
            document = await prepared if inspect.isawaitable(prepared) else prepared  # type: ignore[assignment]
        return to_wire(document, like=captures)

    async def reply_for(document: Document, *, fresh: bool = False) -> Reply:
        return await sender.fetch(await wire_for(document), fresh=fresh)

    good_doc, bad_doc = good_capture.document, bad_capture.document
    replies: dict[str, Reply] = {}

    async def baseline(name: str, document: Document) -> None:
        replies[name] = await reply_for(document)

    async with anyio.create_task_group() as tg:
        tg.start_soon(baseline, "good", good_doc)
        tg.start_soon(baseline, "bad", bad_doc)
    good_reply, bad_reply = replies["good"], replies["bad"]
    base_stats = partial(_stats, sender=sender, clock=clock, started=started)

    def failed(message: str) -> BaselineError:
        result = Result(
            mode=plan.mode, outcome="baselines-failed", patch=[], minimal_good=None, minimal_bad=None,
            stats=base_stats(None), changes=len(plan.tree.changes), baseline_good=good_reply, baseline_bad=bad_reply,
        )
        return BaselineError(message, result=result)

    if oracle is None:
        default = SignatureOracle(good_reply, bad_reply)
        try:
            default.check()
        except BaselineError as exc:
            raise failed(exc.format_message()) from None
        oracle = default
    judge: Oracle = oracle
    good_outcome = await call_oracle(judge, good_reply, good_doc)
    bad_outcome = await call_oracle(judge, bad_reply, bad_doc)
    if good_outcome is not Outcome.GOOD:
        raise failed(f"GOOD is not good: it got {good_reply.short()} (judged {good_outcome})")
    if bad_outcome is not Outcome.BAD:
        raise failed(f"BAD is not bad: it got {bad_reply.short()} (judged {bad_outcome})")

    known: dict[Config, Outcome] = {}
    low, high = _endpoints(plan)
    base_outcome = Outcome.BAD if plan.mode == "fix" else Outcome.GOOD
    for config, expected in ((low, base_outcome), (high, base_outcome.opposite)):
        document = plan.document(config)
        if document == (bad_doc if expected is Outcome.BAD else good_doc):
            known[config] = expected
            continue
        outcome = await call_oracle(judge, await reply_for(document), document)
        if outcome is not expected:
            raise failed(f"with --ignore, the {expected} end of the search is {outcome}, not {expected}")
        known[config] = expected

    reserve = 2
    search = Search(
        _strategy(plan),
        known=known,
        max_calls=None if max_requests is None else max(0, max_requests - sender.requests - reserve),
    )
    counts = {Outcome.GOOD: 0, Outcome.BAD: 0, Outcome.UNRESOLVED: 0}

    async def evaluate(candidate: Candidate) -> Outcome:
        document = plan.document(candidate.config)
        return await call_oracle(judge, await reply_for(document), document)

    def on_outcome(candidate: Candidate, outcome: Outcome) -> None:
        counts[outcome] += 1
        if progress is not None:
            best = search.best
            size = len(best.good) if plan.mode == "fix" else len(best.bad - best.good)
            progress(Progress(
                requests=sender.requests, in_flight=len(search.in_flight), good=counts[Outcome.GOOD],
                bad=counts[Outcome.BAD], unresolved=counts[Outcome.UNRESOLVED], size=size,
                total=plan.space.size, elapsed=clock.now() - started,
            ))

    await _drive(search, evaluate, concurrency=concurrency, on_outcome=on_outcome)

    best = search.best
    minimal_good, minimal_bad = plan.document(best.good), plan.document(best.bad)
    if plan.mode == "fix":
        patch = plan.tree.patch(plan.changes(best.good))
    elif plan.mode == "break":
        patch = plan.tree.patch(plan.changes(best.bad))
    else:
        patch = diff(minimal_bad, minimal_good).patch(range(len(diff(minimal_bad, minimal_good).changes)))

    verified = False
    reply_good = reply_bad = None
    if sender.budget_left is None or sender.budget_left >= 2:
        checks: dict[str, Reply] = {}

        async def check(name: str, document: Document) -> None:
            checks[name] = await reply_for(document, fresh=True)

        async with anyio.create_task_group() as tg:
            tg.start_soon(check, "good", minimal_good)
            tg.start_soon(check, "bad", minimal_bad)
        reply_good, reply_bad = checks["good"], checks["bad"]
        verified = (
            await call_oracle(judge, reply_good, minimal_good) is Outcome.GOOD
            and await call_oracle(judge, reply_bad, minimal_bad) is Outcome.BAD
        )

    reason = None
    if not search.finished:
        reason = f"the request budget ({max_requests}) ran out before the search finished"
    elif not best.minimal:
        reason = "some single-change checks were unresolved, so the answer is not proven 1-minimal"
    elif not verified:
        reason = (
            "re-verification failed: the minimal requests did not behave the same when sent again (flaky server?)"
            if reply_good is not None
            else "no budget left to re-verify the answer"
        )
    result = Result(
        mode=plan.mode,
        outcome="found" if reason is None else "inconclusive",
        patch=patch,
        minimal_good=minimal_good,
        minimal_bad=minimal_bad,
        stats=base_stats(search),
        verified=verified,
        minimal=search.finished and best.minimal,
        reason=reason,
        changes=len(plan.tree.changes),
        baseline_good=good_reply,
        baseline_bad=bad_reply,
        reply_good=reply_good,
        reply_bad=reply_bad,
    )
    if reason is not None:
        raise Inconclusive(reason, result=result)
    return result


def _stats(search: Search | None, *, sender: Sender, clock: Clock, started: float) -> Stats:
    core = search.stats if search is not None else None
    return Stats(
        requests=sender.requests,
        cache_hits=sender.cache_hits + (core.cache_hits if core else 0),
        unresolved=core.unresolved if core else 0,
        rounds=core.rounds if core else 0,
        seconds=round(clock.now() - started, 3),
        candidates=core.calls if core else 0,
        cancelled=core.cancelled if core else 0,
    )


def bisect(good: RequestLike, bad: RequestLike, **options: Any) -> Result:
    """Synchronous :func:`abisect` (same arguments); runs its own event loop."""
    return anyio.run(partial(abisect, good, bad, **options))


# -- any two JSON documents ------------------------------------------------------------


async def abisect_documents(
    good_doc: JSONValue,
    bad_doc: JSONValue,
    test: Test,
    *,
    mode: str = "fix",
    concurrency: int = 8,
    max_requests: int | None = None,
) -> Result:
    """Bisect any two JSON documents with ``test`` (document -> Outcome or bool; True is GOOD).

    Both documents are tested first; ``good_doc`` must be GOOD and ``bad_doc`` BAD.
    ``stats.requests`` counts calls of ``test``.
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}", source="mode", expected=" or ".join(MODES))
    if good_doc == bad_doc:
        raise BaselineError("the two documents are equal; there is nothing to bisect")
    tree = diff(bad_doc, good_doc) if mode == "fix" else diff(good_doc, bad_doc)
    space = Space(
        parents=tuple(c.parent for c in tree.changes), paths=tuple(c.path for c in tree.changes)
    )
    calls = 0
    started = time.perf_counter()

    async def judge(document: Any) -> Outcome:
        nonlocal calls
        calls += 1
        answer = test(document)
        if inspect.isawaitable(answer):
            answer = await answer
        return to_outcome(answer)

    good_outcome, bad_outcome = await judge(good_doc), await judge(bad_doc)
    if good_outcome is not Outcome.GOOD or bad_outcome is not Outcome.BAD:
        raise BaselineError(f"the good document is {good_outcome} and the bad one is {bad_outcome}")
    base = Outcome.BAD if mode == "fix" else Outcome.GOOD
    strategy = (
        minimise(space, target=Outcome.GOOD) if mode == "fix"
        else minimise(space, target=Outcome.BAD) if mode == "break"
        else isolate(space)
    )
    search = Search(
        strategy,
        known={frozenset(): base, space.everything: base.opposite},
        max_calls=None if max_requests is None else max(0, max_requests - 2),
    )

    async def evaluate(candidate: Candidate) -> Outcome:
        return await judge(tree.apply(candidate.config))

    await _drive(search, evaluate, concurrency=concurrency)
    best = search.best
    minimal_good, minimal_bad = tree.apply(best.good), tree.apply(best.bad)
    if mode == "isolate":
        between = diff(minimal_bad, minimal_good)
        patch = between.patch(range(len(between.changes)))
    else:
        patch = tree.patch(best.good if mode == "fix" else best.bad)
    core = search.stats
    result = Result(
        mode=mode,
        outcome="found" if search.finished and best.minimal else "inconclusive",
        patch=patch,
        minimal_good=minimal_good,  # type: ignore[arg-type]
        minimal_bad=minimal_bad,  # type: ignore[arg-type]
        stats=Stats(
            requests=calls, cache_hits=core.cache_hits, unresolved=core.unresolved, rounds=core.rounds,
            seconds=round(time.perf_counter() - started, 3), candidates=core.calls, cancelled=core.cancelled,
        ),
        verified=True,
        minimal=search.finished and best.minimal,
        reason=None if search.finished and best.minimal else "budget spent or unresolved checks",
        changes=len(tree.changes),
    )
    if result.reason is not None:
        raise Inconclusive(result.reason, result=result)
    return result


def bisect_documents(good_doc: JSONValue, bad_doc: JSONValue, test: Test, **options: Any) -> Result:
    """Synchronous :func:`abisect_documents`."""
    return anyio.run(partial(abisect_documents, good_doc, bad_doc, test, **options))
