"""Bisecting two requests: baselines, the oracle, candidates in flight, verification.

Theory of operation. ``abisect`` loads the two requests, sends both baselines,
builds the oracle, diffs the documents into a change tree (``reqbisect.plan``)
and hands its changes to the pure search core (``reqbisect.search``), which
``reqbisect.driver`` drives with up to ``concurrency`` candidates in flight.
Speculative candidates still in flight when the search ends get ``timeout``
seconds to finish. At the end the minimal good and bad requests, and each
single-change step away from the answer, are sent once more (verification).

Every request goes through a :class:`~reqbisect.sender.Sender` (cache, budget,
pacing, retries). With ``--journal`` every answer is also written to a
:class:`~reqbisect.journal.Journal`, and ``--resume`` answers from one.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Union

import anyio
import httpx

from reqbisect._types import Document
from reqbisect.document import Capture, origin
from reqbisect.driver import drive, first_error, synchronous, unless_stopped
from reqbisect.errors import BaselineError, Inconclusive, InputError, Interrupted
from reqbisect.formats import load_request
from reqbisect.hooks import Prepare
from reqbisect.journal import Entry, Journal, read_journal
from reqbisect.oracle import Oracle, Reply, SignatureOracle, call_oracle, informative, signature_digest
from reqbisect.outcome import Outcome
from reqbisect.plan import Plan, make_plan
from reqbisect.result import Result, Stats
from reqbisect.search import Candidate, Config, Search
from reqbisect.sender import Sender, wire_key
from reqbisect.transport import Clock, SystemClock, open_transport
from reqbisect.wire import WireRequest, to_wire

__all__ = ["Progress", "abisect", "bisect"]

#: More unresolved candidates than this share of those judged make a run inconclusive.
UNRESOLVED_LIMIT = 0.8

RequestLike = Union[Capture, Document, str, Path]


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


# -- one run ---------------------------------------------------------------------------


@dataclass
class _Session:
    """Everything one run shares: sending, judging, journaling, counting."""

    plan: Plan
    captures: tuple[Capture, Capture]
    sender: Sender
    prepare: Prepare | None
    repeat: int
    journal: Journal | None
    resumed: dict[str, Entry]
    oracle: Oracle | None = None
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    #: The first reply to GOOD and to BAD, kept for the result even when they fail.
    baseline: dict[str, Reply] = field(default_factory=dict)

    async def wire_for(self, document: Document) -> WireRequest:
        if self.prepare is not None:
            # A copy: candidates share subtrees with each other and with GOOD and BAD,
            # and hooks often sign in place.
            prepared = self.prepare(copy.deepcopy(document))
            document = await prepared if inspect.isawaitable(prepared) else prepared
            if not isinstance(document, dict):
                raise InputError(
                    f"the hook returned {type(document).__name__}, not a request document", source="--hook"
                )
        return to_wire(document, like=self.captures)

    async def replies(self, document: Document, *, role: str, times: int) -> list[tuple[str, Reply | None]]:
        """Send ``document`` ``times`` times (resumed answers are not sent again)."""
        wire = await self.wire_for(document)
        base = wire_key(wire)
        tag = "v" if role == "verify" else ""
        out: list[tuple[str, Reply | None]] = []
        for i in range(times):
            key = f"{base}#{tag}{i}"
            if key in self.resumed:
                out.append((key, None))
                continue
            out.append((key, await self.sender.fetch(wire, fresh=role == "verify" or i > 0)))
        return out

    async def votes(self, document: Document, *, role: str, times: int) -> tuple[list[Outcome], Reply | None]:
        """The outcomes of ``times`` sends of ``document`` (journaled ones are replayed), and the last reply."""
        assert self.oracle is not None
        votes: list[Outcome] = []
        last: Reply | None = None
        for key, reply in await self.replies(document, role=role, times=times):
            if reply is None:
                votes.append(self.resumed[key].outcome)
                continue
            outcome = await call_oracle(self.oracle, reply, document)
            if reply.error == "request budget spent":
                outcome = Outcome.UNRESOLVED
            self.record(key, reply, outcome, role)
            votes.append(outcome)
            last = reply
        return votes, last

    async def judge(self, document: Document) -> Outcome:
        """The outcome of a candidate: the majority over ``repeat`` sends (a tie is unresolved)."""
        votes, _ = await self.votes(document, role="candidate", times=self.repeat)
        return _majority(votes)

    def record(self, key: str, reply: Reply, outcome: Outcome, role: str) -> None:
        """Journal an answer; requests that got none (transport errors, rate limits) are left to resend."""
        if self.journal is None or reply.error is not None or reply.status in (429, 503):
            return
        self.journal.record(Entry(key, outcome, reply.status, signature_digest(reply), role))


def _majority(votes: Sequence[Outcome]) -> Outcome:
    tally = {outcome: votes.count(outcome) for outcome in (Outcome.GOOD, Outcome.BAD)}
    for outcome, n in tally.items():
        if n * 2 > len(votes):
            return outcome
    return Outcome.UNRESOLVED


def _capture(value: RequestLike, name: str) -> Capture:
    if isinstance(value, Capture):
        return value
    if isinstance(value, dict):
        from reqbisect.document import validate_document

        return Capture(document=validate_document(value, source=name), wire=None, source=name)
    return load_request(value)


def _run_identity(mode: str, good: Document, bad: Document, oracle: Oracle | None) -> dict[str, Any]:
    """What a journal's answers depend on: the two requests, the mode and who judged."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    if oracle is None:
        judge = "default"
    elif dataclasses.is_dataclass(oracle):
        judge = repr(oracle)  # --good-if/--bad-if and command oracles: their options
    else:
        judge = f"{getattr(oracle, '__module__', '')}.{getattr(oracle, '__qualname__', type(oracle).__qualname__)}"
    return {
        "mode": mode,
        "good": digest(json.dumps(good, sort_keys=True)),
        "bad": digest(json.dumps(bad, sort_keys=True)),
        "oracle": digest(judge),
    }


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
    max_time: float | None = None,
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 0.5,
    rate: float | None = None,
    repeat: int = 1,
    baseline_repeats: int = 2,
    follow_redirects: bool = False,
    ignore: Sequence[str] = (),
    prepare: Prepare | None = None,
    journal: str | Path | None = None,
    resume: str | Path | None = None,
    stop: anyio.Event | None = None,
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
        concurrency: requests in flight at once (lowered while the server signals overload).
        max_requests: the most requests to send, baselines, retries and verification included.
        max_time: stop searching after this many seconds, with the best result so far.
        timeout: seconds per request.
        retries: extra attempts after a transport error, 429 or 503.
        backoff: first retry delay in seconds; it doubles per attempt, with jitter,
            and a longer ``Retry-After`` wins.
        rate: requests per second at most.
        repeat: judge every candidate by this many sends (majority; a tie is unresolved).
        baseline_repeats: send each baseline this many times to learn what varies.
        follow_redirects: follow redirects instead of judging them (credentials stay on their origin).
        ignore: JSON pointers whose changes are taken from BAD and never varied.
        prepare: hook applied to each candidate document before sending.
        journal: append every answered request to this file (JSON lines, fsynced).
        resume: replay this journal: what it answered is not sent again.
        stop: when set, no new requests are sent; those in flight get ``timeout``
            seconds, then :class:`Interrupted` is raised with the best result so far.
        progress: called with a :class:`Progress` after every outcome.
        clock: time source for pacing and backoff (tests inject a fake one).

    Returns:
        The :class:`Result`, found, re-verified and proven 1-minimal.

    Raises:
        InputError: bad input or options; nothing was sent.
        BaselineError: GOOD is not good, BAD is not bad, or they are equal.
        Inconclusive: the budget ran out or the answer could not be verified;
            ``.result`` holds the best result so far.
        Interrupted: ``stop`` was set; ``.result`` holds the best result so far.
    """
    for name, value, least in (
        ("--concurrency", concurrency, 1), ("--repeat", repeat, 1), ("--baseline-repeats", baseline_repeats, 1),
    ):
        if value < least:
            raise InputError(f"must be at least {least}", source=name, got=str(value))
    if max_requests is not None and max_requests < 2 * baseline_repeats:
        raise InputError(
            f"must be at least {2 * baseline_repeats} (the baselines)", source="--max-requests", got=str(max_requests)
        )
    clock = clock or SystemClock()
    good_capture, bad_capture = _capture(good, "GOOD"), _capture(bad, "BAD")
    good_doc, bad_doc = good_capture.document, bad_capture.document
    if client is None and app is None and target is None and origin(good_doc) != origin(bad_doc):
        raise InputError(
            f"GOOD goes to {origin(good_doc)} and BAD to {origin(bad_doc)}; candidates never mix origins",
            hint="pass --target URL (or --app) to send every candidate to one place",
        )
    plan = make_plan(mode, good_doc, bad_doc, ignore)
    if not plan.tree.changes:
        raise BaselineError("GOOD and BAD are the same request; there is nothing to bisect")
    if not plan.ids:
        raise BaselineError("GOOD and BAD differ only under --ignore; there is nothing to bisect")
    identity = _run_identity(mode, good_doc, bad_doc, oracle)
    resumed = read_journal(Path(resume), run=identity) if resume is not None else {}
    transport = open_transport(
        client=client, app=app, target=target, timeout=timeout, follow_redirects=10 if follow_redirects else 0
    )
    writer = Journal(Path(journal), run=identity) if journal is not None else None
    session = _Session(
        plan=plan,
        captures=(bad_capture, good_capture) if mode == "fix" else (good_capture, bad_capture),
        sender=Sender(
            transport, clock=clock, max_requests=max_requests, rate=rate, retries=retries, backoff=backoff,
            concurrency=concurrency,
        ),
        prepare=prepare,
        repeat=repeat,
        journal=writer,
        resumed=resumed,
        oracle=oracle,
    )
    try:
        with first_error():
            return await _run(
                session, good_doc, bad_doc,
                concurrency=concurrency, baseline_repeats=baseline_repeats, max_requests=max_requests,
                max_time=max_time, timeout=timeout, stop=stop, progress=progress, clock=clock, started=clock.now(),
            )
    finally:
        if writer is not None:
            writer.close()
        await transport.aclose()


async def _baselines(session: _Session, good_doc: Document, bad_doc: Document, repeats: int) -> None:
    """Send GOOD and BAD (each ``repeats`` times), learn or check the oracle, journal them.

    Replies replayed from a journal were judged when they were recorded: their
    recorded outcome stands, and their recorded signature teaches the oracle.
    """
    sent: dict[str, list[tuple[str, Reply | None]]] = {}

    async def send(role: str, document: Document) -> None:
        sent[role] = await session.replies(document, role=role, times=repeats)

    async with anyio.create_task_group() as tg:
        tg.start_soon(send, "baseline-good", good_doc)
        tg.start_soon(send, "baseline-bad", bad_doc)
    replies: dict[str, list[tuple[str, Reply]]] = {}
    for role, pairs in sent.items():
        replies[role] = [
            (key, reply if reply is not None else _Recorded(
                status=session.resumed[key].status, signature_=session.resumed[key].signature
            ))
            for key, reply in pairs
        ]
    good_replies = [reply for _, reply in replies["baseline-good"]]
    bad_replies = [reply for _, reply in replies["baseline-bad"]]
    session.baseline.update(good=good_replies[0], bad=bad_replies[0])
    if session.oracle is None:
        session.oracle = _learn(good_replies, bad_replies)
    for name, role, document, want in (
        ("GOOD", "baseline-good", good_doc, Outcome.GOOD), ("BAD", "baseline-bad", bad_doc, Outcome.BAD),
    ):
        group = dict(replies[role])
        for key, reply in replies[role]:
            if reply not in informative(list(group.values())):
                continue
            if isinstance(reply, _Recorded):
                got = session.resumed[key].outcome
            else:
                got = await call_oracle(session.oracle, reply, document)
                session.record(key, reply, got, role)
            if got is not want:
                raise BaselineError(f"{name} is not {want}: it got {reply.short()} (judged {got})")


@dataclass(frozen=True, slots=True)
class _Recorded(Reply):
    """A baseline reply known only from the journal: its status and signature digest."""

    signature_: str = ""


def _learn(good: Sequence[Reply], bad: Sequence[Reply]) -> SignatureOracle:
    if any(isinstance(reply, _Recorded) for reply in (*good, *bad)):
        return SignatureOracle(
            good_status=good[0].status,
            bad_status=bad[0].status,
            good_signatures=frozenset(_sig(r) for r in good),
            bad_signatures=frozenset(_sig(r) for r in bad),
        )
    return SignatureOracle.learn(good, bad)


def _sig(reply: Reply) -> str:
    return reply.signature_ if isinstance(reply, _Recorded) else signature_digest(reply)


async def _run(
    session: _Session,
    good_doc: Document,
    bad_doc: Document,
    *,
    concurrency: int,
    baseline_repeats: int,
    max_requests: int | None,
    max_time: float | None,
    timeout: float,
    stop: anyio.Event | None,
    progress: Callable[[Progress], None] | None,
    clock: Clock,
    started: float,
) -> Result:
    plan, sender = session.plan, session.sender

    verification = 0

    def stats(search: Search | None) -> Stats:
        return replace(_stats(search, sender=sender, clock=clock, started=started), verification=verification)

    warnings = (*(w for capture in session.captures for w in capture.warnings), *plan.warnings)
    if session.prepare is not None:
        warnings += (
            "every request went through the hook before it was sent; the minimal requests shown are from "
            "before it, so run them through the hook again (to re-sign them) to repeat the result",
        )

    def result(search: Search | None, **fields: Any) -> Result:
        return Result(
            mode=plan.mode, stats=stats(search), changes=len(plan.tree.changes),
            baseline_good=session.baseline.get("good"), baseline_bad=session.baseline.get("bad"),
            warnings=warnings, **fields,
        )

    try:
        await _baselines(session, good_doc, bad_doc, baseline_repeats)
    except BaselineError as exc:
        exc.result = result(
            None, outcome="baselines-failed", patch=[], minimal_good=None, minimal_bad=None, reason=exc.message
        )
        raise

    known: dict[Config, Outcome] = {}
    base_outcome = plan.base_outcome
    for config, expected in ((frozenset(), base_outcome), (plan.space.everything, base_outcome.opposite)):
        document = plan.document(config)
        if document != (bad_doc if expected is Outcome.BAD else good_doc):
            outcome = await session.judge(document)
            if outcome is not expected:
                message = f"with --ignore, the {expected} end of the search is {outcome}, not {expected}"
                raise BaselineError(message, result=result(
                    None, outcome="baselines-failed", patch=[], minimal_good=None, minimal_bad=None, reason=message,
                ))
        known[config] = expected

    reserve = 2 * max(2, session.repeat)
    search = Search(
        plan.strategy(),
        known=known,
        max_calls=None if max_requests is None else max(0, (max_requests - sender.requests - reserve) // session.repeat),
    )

    async def evaluate(candidate: Candidate) -> Outcome:
        return await session.judge(plan.document(candidate.config))

    def on_outcome(candidate: Candidate, outcome: Outcome) -> None:
        session.counts[outcome] += 1
        if progress is not None:
            best = search.best
            size = len(best.good) if plan.mode == "fix" else len(best.bad - best.good)
            progress(Progress(
                requests=sender.requests, in_flight=len(search.in_flight), good=session.counts[Outcome.GOOD],
                bad=session.counts[Outcome.BAD], unresolved=session.counts[Outcome.UNRESOLVED], size=size,
                total=plan.space.size, elapsed=clock.now() - started,
            ))

    halted = await drive(
        search, evaluate, concurrency=concurrency, on_outcome=on_outcome, stop=stop, grace=timeout,
        deadline=max_time, sender=sender,
    )

    best = search.best
    minimal_good, minimal_bad = plan.document(best.good), plan.document(best.bad)
    found = dict(patch=plan.patch(best), minimal_good=minimal_good, minimal_bad=minimal_bad)

    if halted == "stopped":
        raise Interrupted(
            "interrupted; this is the best result so far",
            result=result(search, outcome="inconclusive", reason="interrupted", **found),
        )
    before = sender.requests
    checked = await unless_stopped(stop, partial(_verify, session, search, minimal_good, minimal_bad))
    if checked is None:
        raise Interrupted(
            "interrupted during the re-verification; this answer was not re-verified",
            result=result(search, outcome="inconclusive", reason="interrupted", **found),
        )
    verified, reply_good, reply_bad, flaky = checked
    verification = sender.requests - before
    judged = sum(session.counts.values())
    unresolved = session.counts[Outcome.UNRESOLVED]
    reason = None
    if judged >= 4 and unresolved > UNRESOLVED_LIMIT * judged:
        reason = (
            f"{unresolved} of {judged} candidates were unresolved, so the answer says little; "
            "if the server checks a signature, timestamp or nonce, re-sign each candidate with a hook "
            "(--hook / prepare=), or say what good and bad look like with --good-if/--bad-if"
        )
    elif halted == "deadline":
        reason = f"--max-time ({max_time}s) ran out before the search finished"
    elif not search.finished:
        reason = f"the request budget ({max_requests}) ran out before the search finished"
    elif flaky:
        reason = f"re-verification failed: {flaky} (flaky server?); try --repeat 3"
    elif not verified:
        reason = "no budget left to re-verify the answer"
    final = result(
        search,
        outcome="found" if reason is None else "inconclusive",
        verified=verified,
        minimal=search.finished and best.minimal and not flaky,
        reason=reason,
        reply_good=reply_good,
        reply_bad=reply_bad,
        **found,
    )
    if reason is not None:
        raise Inconclusive(reason, result=final)
    return final


async def _verify(
    session: _Session, search: Search, minimal_good: Document, minimal_bad: Document
) -> tuple[bool, Reply | None, Reply | None, str | None]:
    """Send the minimal good and bad again, and each single-change step if the budget allows.

    The minimal good and bad are sent at least twice and every answer must
    agree, so that one lie of a flaky server cannot confirm a wrong answer; a
    single-change step is sent ``repeat`` times and must never keep the outcome
    (with the search's own answer, that is two votes too).

    Returns (verified, reply to minimal good, reply to minimal bad, what misbehaved or None).
    """
    plan, sender = session.plan, session.sender
    sends = max(2, session.repeat)
    # (what, document, outcome, whether the outcome is required or excluded)
    checks: list[tuple[str, Document, Outcome, bool]] = [
        ("the minimal good request", minimal_good, Outcome.GOOD, True),
        ("the minimal bad request", minimal_bad, Outcome.BAD, True),
    ]
    best = search.best
    if plan.mode != "isolate" and search.finished:
        answer, target = (best.good, Outcome.GOOD) if plan.mode == "fix" else (best.bad, Outcome.BAD)
        singles = [
            (
                f"the answer without {plan.tree.changes[plan.ids[i]].pointer}",
                plan.document(plan.space.without(answer, [i])),
                target,
                False,
            )
            for i in sorted(answer)
        ]
        left = sender.budget_left
        if left is None or left >= len(checks) * sends + len(singles) * session.repeat:
            checks += singles
    left = sender.budget_left
    if left is not None and left < 2 * sends:
        return False, None, None, None
    results: list[tuple[list[Outcome], Reply | None]] = [([], None)] * len(checks)

    async def check(index: int, document: Document, times: int) -> None:
        results[index] = await session.votes(document, role="verify", times=times)

    async with anyio.create_task_group() as tg:
        for index, (_, document, _, required) in enumerate(checks):
            tg.start_soon(check, index, document, sends if required else session.repeat)
    replies = results[0][1], results[1][1]
    for (name, _, outcome, required), (votes, _) in zip(checks, results):
        if required and any(vote is not outcome for vote in votes):
            answers = ", ".join(str(vote) for vote in votes)
            return False, *replies, f"{name} was {answers} when sent {len(votes)} more times"
        if not required and outcome in votes:
            return False, *replies, f"{name} was {outcome} when sent again, so the answer is not minimal"
    return True, *replies, None


def _stats(search: Search | None, *, sender: Sender, clock: Clock, started: float) -> Stats:
    core = search.stats if search is not None else None
    return Stats(
        requests=sender.requests,
        cache_hits=sender.cache_hits + (core.cache_hits if core else 0),
        unresolved=core.unresolved if core else 0,
        rounds=core.rounds if core else 0,
        seconds=round(clock.now() - started, 3),
        candidates=core.calls + core.cancelled if core else 0,
        cancelled=core.cancelled if core else 0,
    )


bisect = synchronous(abisect)
