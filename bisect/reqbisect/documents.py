"""Bisecting any two JSON documents with any test: configuration files, payloads, fixtures.

The same run as for requests (``reqbisect.pipeline``), with a
:class:`DocumentJudge`: ``test`` judges each candidate document, and
``stats.requests`` counts its calls. A test is taken to be deterministic: a
document it has judged is not tested again, so the verification costs
nothing and the budget keeps nothing back for it.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any, Union

import anyio

from reqbisect._types import JSONValue
from reqbisect.budget import Budget, BudgetSpent
from reqbisect.driver import first_error, synchronous
from reqbisect.errors import BaselineError, InputError
from reqbisect.journal import Role
from reqbisect.judge import Votes
from reqbisect.mode import Mode, Side
from reqbisect.oracle import Reply, to_outcome
from reqbisect.options import RunOptions
from reqbisect.outcome import Outcome
from reqbisect.phases import Progress, Run
from reqbisect.pipeline import run
from reqbisect.plan import make_plan
from reqbisect.result import Result
from reqbisect.transport import SystemClock

__all__ = ["DocumentJudge", "Test", "abisect_documents", "bisect_documents"]

#: A test for ``bisect_documents``: document -> Outcome or bool, sync or async.
Test = Callable[[Any], Union[Outcome, bool, Awaitable[Union[Outcome, bool]]]]


class DocumentJudge:
    """Judges documents with a test function, each distinct document once."""

    repeat = 1
    verification_reserve = 0
    oracle_description: str | None = "the test function"

    def __init__(self, test: Test, budget: Budget) -> None:
        self._test = test
        self.budget = budget
        self.baseline: dict[Side, Reply] = {}
        self._known: dict[str, Outcome] = {}
        self.cache_hits = 0

    def allowed(self, concurrency: int) -> int:
        return concurrency

    async def _outcome(self, document: JSONValue) -> Outcome:
        key = json.dumps(document, ensure_ascii=False)
        if key in self._known:
            self.cache_hits += 1
            return self._known[key]
        with self.budget.reserve() as ticket:
            ticket.commit()
            answer = self._test(copy.deepcopy(document))  # candidates share subtrees; a test may edit its argument
            if inspect.isawaitable(answer):
                answer = await answer
        outcome = self._known[key] = to_outcome(answer)
        return outcome

    async def votes(self, document: JSONValue, *, role: Role, times: int) -> Votes:
        try:
            outcome = await self._outcome(document)
        except BudgetSpent:
            return Votes((Outcome.UNRESOLVED,) * times, spent=True)
        return Votes((outcome,) * times)

    async def calibrate(self, good: JSONValue, bad: JSONValue, *, times: int, majority: bool = False) -> tuple[str, ...]:
        good_outcome, bad_outcome = await self._outcome(good), await self._outcome(bad)
        if good_outcome is not Outcome.GOOD or bad_outcome is not Outcome.BAD:
            raise BaselineError(f"the good document is {good_outcome} and the bad one is {bad_outcome}")
        return ()


async def abisect_documents(
    good_doc: JSONValue,
    bad_doc: JSONValue,
    test: Test,
    *,
    mode: str | Mode = Mode.FIX,
    concurrency: int = 8,
    max_requests: int | None = None,
    stop: anyio.Event | None = None,
    progress: Callable[[Progress], None] | None = None,
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
    options = RunOptions(
        mode=Mode.of(mode, source="mode"), concurrency=concurrency, max_requests=max_requests,
        baseline_repeats=1, timeout=float("inf"),
    )
    plan = make_plan(options.mode, good_doc, bad_doc)
    if not plan.tree.changes:
        raise BaselineError("the two documents are equal; there is nothing to bisect")
    clock = SystemClock()
    judge = DocumentJudge(test, Budget(max_requests))
    context = Run(
        plan=plan, judge=judge, options=options, clock=clock, started=clock.now(), stop=stop, progress=progress
    )
    with first_error():
        return await run(context)


bisect_documents = synchronous(abisect_documents)
