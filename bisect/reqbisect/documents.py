"""Bisecting any two JSON documents with any test: configuration files, payloads, fixtures.

The same search as for requests, without HTTP: ``test`` judges each candidate
document. Both documents are judged first; then the core searches the change
tree between them and the answer comes back as a :class:`~reqbisect.result.Result`
whose ``stats.requests`` counts calls of ``test``.
"""

from __future__ import annotations

import copy
import inspect
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Union

import anyio

from reqbisect._types import JSONValue
from reqbisect.driver import drive, first_error, synchronous
from reqbisect.errors import BaselineError, Inconclusive, InputError, Interrupted
from reqbisect.oracle import to_outcome
from reqbisect.outcome import Outcome
from reqbisect.plan import make_plan
from reqbisect.result import Result, Stats
from reqbisect.search import Candidate, Search

__all__ = ["Test", "abisect_documents", "bisect_documents"]

#: A test for ``bisect_documents``: document -> Outcome or bool, sync or async.
Test = Callable[[Any], Union[Outcome, bool, Awaitable[Union[Outcome, bool]]]]


async def abisect_documents(
    good_doc: JSONValue,
    bad_doc: JSONValue,
    test: Test,
    *,
    mode: str = "fix",
    concurrency: int = 8,
    max_requests: int | None = None,
    stop: anyio.Event | None = None,
) -> Result:
    """Bisect any two JSON documents with ``test`` (document -> Outcome or bool; True is GOOD).

    Both documents are tested first; ``good_doc`` must be GOOD and ``bad_doc`` BAD.
    ``stats.requests`` counts calls of ``test``. When ``stop`` is set, running
    tests may finish and :class:`Interrupted` carries the best result so far.
    """
    if concurrency < 1:
        raise InputError("must be at least 1", source="concurrency", got=str(concurrency))
    if max_requests is not None and max_requests < 2:
        raise InputError("must be at least 2 (the two documents)", source="max_requests", got=str(max_requests))
    plan = make_plan(mode, good_doc, bad_doc, ())
    if not plan.tree.changes:
        raise BaselineError("the two documents are equal; there is nothing to bisect")
    calls = 0
    started = time.perf_counter()

    async def judge(document: Any) -> Outcome:
        nonlocal calls
        calls += 1
        answer = test(copy.deepcopy(document))  # candidates share subtrees; a test may edit its argument
        if inspect.isawaitable(answer):
            answer = await answer
        return to_outcome(answer)

    good_outcome, bad_outcome = await judge(good_doc), await judge(bad_doc)
    if good_outcome is not Outcome.GOOD or bad_outcome is not Outcome.BAD:
        raise BaselineError(f"the good document is {good_outcome} and the bad one is {bad_outcome}")
    search = Search(
        plan.strategy(),
        known={frozenset(): plan.base_outcome, plan.space.everything: plan.base_outcome.opposite},
        max_calls=None if max_requests is None else max(0, max_requests - 2),
    )

    async def evaluate(candidate: Candidate) -> Outcome:
        return await judge(plan.apply(candidate.config))

    with first_error():
        halted = await drive(search, evaluate, concurrency=concurrency, stop=stop, grace=math.inf)
    best = search.best
    core = search.stats
    result = Result(
        mode=mode,
        outcome="found" if search.finished and best.minimal and not halted else "inconclusive",
        patch=plan.patch(best),
        minimal_good=plan.apply(best.good),  # type: ignore[arg-type]
        minimal_bad=plan.apply(best.bad),  # type: ignore[arg-type]
        stats=Stats(
            requests=calls, cache_hits=core.cache_hits, unresolved=core.unresolved, rounds=core.rounds,
            seconds=round(time.perf_counter() - started, 3), candidates=core.calls, cancelled=core.cancelled,
        ),
        verified=True,
        minimal=search.finished and best.minimal,
        reason=(
            "interrupted" if halted
            else None if search.finished and best.minimal
            else "the budget ran out before the search finished"
        ),
        changes=len(plan.tree.changes),
    )
    if halted:
        raise Interrupted("interrupted; this is the best result so far", result=result)
    if result.reason is not None:
        raise Inconclusive(result.reason, result=result)
    return result


bisect_documents = synchronous(abisect_documents)
