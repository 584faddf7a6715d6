"""The shrink phase (``--shrink``): the minimal pair without what it does not need.

After the answer is verified, the minimal good and bad requests still carry
everything GOOD and BAD shared: every header, cookie and body member that had
nothing to do with the difference. This phase takes those away while the good
request stays good and the bad one stays bad, so the pair fits a bug report.

Theory of operation:

* ``reqbisect.shrink_space`` turns the request the patch applies to into a space
  of *parts* (grouped, coarse before fine). A configuration is the set of parts
  kept; the other request is always ``source' + patch``, so the patch never
  changes.
* The same pure core minimises it: ``minimise`` with the target HELD, the outcome
  of a *pair test*. A pair test sends one side of the pair and, only when it kept
  its outcome, the other: a removal that breaks a side costs one request. The bad
  side goes first until the good side has failed more often after removals in the
  same region (headers, cookies, body...: a server checks a session before a
  payload, so which side trips first depends on where the removal is); the order
  changes what a test costs, never its outcome. Anything but "bad stays bad and good
  stays good" is LOST and keeps the parts. ``-j`` keeps that many pair tests in
  flight, the core's speculation fills them, and answers are used in proposal
  order, so the shrunk pair does not depend on ``-j`` or timing.
* With a ``--hook``, the fields the hook rewrites (a signature, a pinned body)
  are never parts, and a candidate the hook would treat differently from the
  unshrunk request (a body change under a signature) is LOST without being sent:
  the hook must do to the shrunk pair exactly what it did to the minimal one.
* The budget keeps back the re-verification: the shrunk pair is sent again
  (``max(2, repeat)`` times each, like the answer) and used only if every answer
  agrees; otherwise the result keeps the unshrunk, verified pair and says why.
  A spent budget or ``--max-time`` ends the shrink with the best pair so far
  (every pair kept was tested). ``stop`` ends it and keeps the unshrunk pair.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from reqbisect._types import Document
from reqbisect.driver import Halt, drive, unless_stopped
from reqbisect.errors import InputError
from reqbisect.journal import Role
from reqbisect.judge import Votes
from reqbisect.mode import Mode
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome
from reqbisect.phases import Phase, Run, Searched
from reqbisect.pointer import format_pointer
from reqbisect.result import Shrink, Size
from reqbisect.search import Candidate, Search, State, minimise
from reqbisect.search.implied import implied
from reqbisect.shrink_space import ShrinkSpace, make_shrink_space
from reqbisect.wire import to_wire

__all__ = ["Shrunk", "measure", "shrink"]

#: The pair test's outcomes, in the core's words: the target a minimisation keeps, and the other one.
HELD, LOST = Outcome.GOOD, Outcome.BAD
#: The least probability of a future the core sends ahead while shrinking. A pair test that
#: holds costs two requests, so a guess is sent only when it is at least this likely to be
#: used (the search's 0.34 would send the even bets too; measured, that doubles the cost).
SPECULATION = 0.7


@dataclass(frozen=True, slots=True)
class Shrunk:
    """What the shrink phase leaves for the conclusion."""

    record: Shrink
    #: The shrunk pair, re-verified; None when the result keeps the unshrunk one.
    good: Document | None = None
    bad: Document | None = None
    reply_good: Reply | None = None
    reply_bad: Reply | None = None
    #: ``stop`` was set while shrinking.
    interrupted: bool = False


def measure(document: Document) -> Size:
    """The size of a request as :class:`Size` counts it (the wire form without a capture's bytes)."""
    wire = to_wire(document)
    head = len(wire.method) + len(wire.url) + 11 + sum(len(n) + len(v) + 4 for n, v in wire.headers)
    return Size(
        headers=len(document.get("headers") or {}), cookies=len(document.get("cookies") or {}),
        query=len(document.get("query") or {}), body=len(wire.body), total=head + len(wire.body),
    )


Prepared = Callable[[Document], Awaitable[Document]]


def _prepared(run: Run) -> Prepared | None:
    prepare = run.prepare
    if prepare is None:
        return None

    async def call(document: Document) -> Document:
        out = prepare(copy.deepcopy(document))
        return await out if inspect.isawaitable(out) else out

    return call


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _delta(before: Document, after: Document) -> dict[str, str]:
    """What a hook changed: pointer -> the new value's text, per header/cookie/query name, else per member."""
    changed: dict[str, str] = {}
    for key in dict.fromkeys([*before, *after]):
        a, b = before.get(key), after.get(key)
        if key in ("headers", "cookies", "query") and isinstance(a, dict) and isinstance(b, dict):
            for name in dict.fromkeys([*a, *b]):
                if _text([name in a, a.get(name)]) != _text([name in b, b.get(name)]):
                    changed[format_pointer([key, name])] = _text([name in b, b.get(name)])
        elif _text([key in before, a]) != _text([key in after, b]):
            changed[format_pointer([key])] = _text([key in after, b])
    return changed


class _PairTest:
    """Judges a configuration of the space by sending its pair (see the module docstring)."""

    def __init__(self, run: Run, space: ShrinkSpace, *, source_is_bad: bool, hook: Prepared | None,
                 deltas: tuple[dict[str, str], dict[str, str]]) -> None:
        self._run, self._space, self._source_is_bad, self._hook, self._deltas = run, space, source_is_bad, hook, deltas
        # Which side lost its outcome, so far: the side that fails more often is sent first.
        self._failed: dict[object, dict[Outcome, int]] = {}

    def pair(self, config: frozenset[int]) -> tuple[Document, Document] | None:
        """(good, bad) for ``config``, or None when the patch no longer applies."""
        pair = self._space.pair(config)
        if pair is None:
            return None
        source, target = pair
        return (target, source) if self._source_is_bad else (source, target)

    async def __call__(self, candidate: Candidate) -> Outcome:
        # Two configurations may give the same pair (an emptied group); the sender's cache
        # answers the second one without a request.
        pair = self.pair(candidate.config)
        return LOST if pair is None else await self._test(*pair, region=self._region(candidate.config))

    def _region(self, config: frozenset[int]) -> object:
        """Where the newest removal is (``headers``, ``body``, ...): servers check one region before another."""
        space = self._space.space
        for index in range(space.size - 1, -1, -1):
            parent = space.parents[index]
            if index not in config and (parent is None or parent in config):
                return space.paths[index][0]
        return None

    async def _test(self, good: Document, bad: Document, *, region: object) -> Outcome:
        from reqbisect.document import validate_document

        try:
            for document in (good, bad):
                # Taking parts away cannot make a body unsendable (deeper, or with a non-finite
                # number), so only the rest is checked: a big body is not walked every time.
                validate_document({k: v for k, v in document.items() if k != "body"}, source="shrunk request")
        except InputError:
            return LOST
        if self._hook is not None:
            for document, delta in zip((good, bad), self._deltas):
                if _delta(document, await self._hook(document)) != delta:
                    return LOST
        judge = self._run.judge
        sides = [(bad, Outcome.BAD), (good, Outcome.GOOD)]
        failed = self._failed.setdefault(region, dict.fromkeys((Outcome.GOOD, Outcome.BAD), 0))
        if failed[Outcome.GOOD] > failed[Outcome.BAD]:
            sides.reverse()
        for document, outcome in sides:
            votes = await judge.votes(document, role=Role.CANDIDATE, times=judge.repeat)
            if votes.majority is not outcome:
                failed[outcome] += 1
                return LOST
        return HELD


async def shrink(run: Run, searched: Searched) -> Shrunk:
    """Shrink the verified answer of ``searched`` (see the module docstring)."""
    plan, judge = run.plan, run.judge
    start = judge.budget.sent
    good, bad = plan.apply(searched.best.good), plan.apply(searched.best.bad)
    assert isinstance(good, dict) and isinstance(bad, dict)
    sizes = measure(good), measure(bad)

    def record(
        after: tuple[Document, Document] | None = None, *, note: str | None = None, verified: bool = False,
        parts: int = 0, kept: int = 0,
    ) -> Shrink:
        good_after, bad_after = sizes if after is None else (measure(after[0]), measure(after[1]))
        return Shrink(
            parts=parts, kept=kept, requests=judge.budget.sent - start, verified=verified,
            good_before=sizes[0], bad_before=sizes[1], good_after=good_after, bad_after=bad_after, note=note,
        )

    source, _ = plan.mode.patch_ends(good, bad)
    hook = _prepared(run)
    deltas: tuple[dict[str, str], dict[str, str]] = ({}, {})
    if hook is not None:
        deltas = (_delta(good, await hook(good)), _delta(bad, await hook(bad)))
    frozen = {pointer for delta in deltas for pointer in delta}
    space = make_shrink_space(source, plan.patch(searched.best), frozen=frozen)
    everything = space.space.everything
    test = _PairTest(run, space, source_is_bad=plan.mode is not Mode.BREAK, hook=hook, deltas=deltas)
    if test.pair(everything) != (good, bad) or not space.size:
        return Shrunk(record(note=None if not space.size else "the patch does not rebuild the pair; not shrunk"))
    sends = max(2, judge.repeat)
    left = judge.budget.left
    if left is not None and left < 2 * sends + 2 * judge.repeat:
        return Shrunk(record(parts=space.size, kept=space.size, note="no budget left to shrink"))
    remaining = None
    if run.options.max_time is not None:
        remaining = run.options.max_time - (run.clock.now() - run.started)
        if remaining <= 0:
            return Shrunk(record(parts=space.size, kept=space.size, note="--max-time ran out before shrinking"))
    search = Search(
        implied(minimise(space.space, target=HELD)), known={everything: HELD}, min_probability=SPECULATION,
        max_calls=None if left is None else (left - 2 * sends) // (2 * judge.repeat),
    )
    counts = dict.fromkeys(Outcome, 0)
    said: dict[frozenset[int], str | None] = {}

    def on_outcome(candidate: Candidate, outcome: Outcome) -> None:
        counts[outcome] += 1
        kept = search.best.good
        if run.progress is None:
            return
        if kept not in said:
            pair = test.pair(kept)
            said[kept] = None if pair is None else record(pair).summary().partition(" (")[0]
        run.report(
            Phase.SHRINK, in_flight=len(search.in_flight), counts=(counts[HELD], counts[LOST], 0),
            size=len(kept), total=space.size, shrunk=said[kept],
        )

    run.report(Phase.SHRINK, size=space.size, total=space.size)
    halt = await drive(
        search, test, concurrency=run.options.concurrency, on_outcome=on_outcome, stop=run.stop,
        grace=run.options.timeout, deadline=remaining, allowed=judge.allowed,
    )
    kept = search.best.good
    parts, kept_parts = space.size, len(kept)
    interrupted = "interrupted; the requests were not shrunk"
    if halt is Halt.STOPPED:
        return Shrunk(record(note=interrupted, parts=parts, kept=kept_parts), interrupted=True)
    note = None
    if halt is Halt.DEADLINE:
        note = "--max-time ran out; this is the smallest pair so far"
    elif search.state is State.SPENT:
        note = "the request budget ran out; this is the smallest pair so far"
    pair = test.pair(kept)
    if kept == everything or pair is None:
        return Shrunk(record(note=note, verified=True, parts=parts, kept=kept_parts))
    votes = await unless_stopped(run.stop, lambda: _resend(run, pair, sends))
    if votes is None:
        return Shrunk(record(note=interrupted, parts=parts, kept=kept_parts), interrupted=True)
    for side, want in zip(votes, (Outcome.GOOD, Outcome.BAD)):
        if side.spent or any(vote is not want for vote in side.outcomes):
            answers = ", ".join(str(vote) for vote in side.outcomes) or "not sent"
            why = f"the shrunk {want} request was {answers} when sent again, so the unshrunk pair is kept"
            return Shrunk(record(note=why, parts=parts, kept=kept_parts))
    return Shrunk(
        record(pair, verified=True, note=note, parts=parts, kept=kept_parts), good=pair[0], bad=pair[1],
        reply_good=votes[0].reply, reply_bad=votes[1].reply,
    )


async def _resend(run: Run, pair: tuple[Document, Document], sends: int) -> list[Votes]:
    """The votes of the shrunk good and bad requests, each sent ``sends`` more times at once."""
    votes: list[Votes] = [Votes(()), Votes(())]

    async def send(index: int) -> None:
        votes[index] = await run.judge.votes(pair[index], role=Role.VERIFY, times=sends)

    async with anyio.create_task_group() as tg:
        for index in (0, 1):
            tg.start_soon(send, index)
    return votes
