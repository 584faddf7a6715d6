"""The verification phase: the answer, sent again.

The minimal good and bad requests are sent at least twice more and every
answer must agree, so that one lie of a flaky server cannot confirm a wrong
answer; each single-change step away from the answer (``fix``/``break``) is
sent ``repeat`` times and must never keep the outcome (with the search's own
answer, that is two votes too). The steps are checked only when the budget
allows all of them. A ``stop`` during verification ends it at once: the answer
is then reported as not re-verified.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import anyio

from reqbisect._types import JSONValue
from reqbisect.driver import Halt, unless_stopped
from reqbisect.journal import Role
from reqbisect.judge import Votes
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome
from reqbisect.phases import Run, Searched
from reqbisect.search import State

__all__ = ["Verification", "verify"]


@dataclass(frozen=True, slots=True)
class Verification:
    """What sending the answer again showed."""

    #: Every check was made and agreed.
    verified: bool = False
    reply_good: Reply | None = None
    reply_bad: Reply | None = None
    #: What misbehaved, in words (None when nothing did).
    flaky: str | None = None
    #: ``stop`` was set before it finished.
    interrupted: bool = False
    #: Requests it sent.
    requests: int = 0
    #: The votes on each single-change step away from the answer: (change, votes), when they were checked.
    steps: tuple[tuple[int, Votes], ...] = ()


@dataclass(frozen=True, slots=True)
class _Check:
    what: str
    document: JSONValue
    outcome: Outcome
    #: True: every vote must be ``outcome``; False: no vote may be.
    required: bool
    #: The change a single-change step takes away.
    change: int | None = None


async def verify(run: Run, searched: Searched) -> Verification:
    """Send the answer of ``searched`` again (nothing when the run was stopped during the search)."""
    if searched.halt is Halt.STOPPED:
        return Verification(interrupted=True)
    before = run.judge.budget.sent
    checked = await unless_stopped(run.stop, lambda: _verify(run, searched))
    if checked is None:
        return Verification(interrupted=True, requests=run.judge.budget.sent - before)
    return checked


async def _verify(run: Run, searched: Searched) -> Verification:
    plan, judge = run.plan, run.judge
    before = judge.budget.sent
    sends = max(2, judge.repeat)
    best = searched.best
    checks = [
        _Check("the minimal good request", plan.apply(best.good), Outcome.GOOD, True),
        _Check("the minimal bad request", plan.apply(best.bad), Outcome.BAD, True),
    ]
    answer, target = plan.mode.answer(best), plan.mode.target
    if answer is not None and target is not None and searched.state is State.DONE:
        singles = [
            _Check(
                f"the answer without {plan.pointer(i)}", plan.apply(plan.space.without(answer, [i])), target, False,
                change=i,
            )
            for i in sorted(answer)
        ]
        left = judge.budget.left
        if left is None or left >= len(checks) * sends + len(singles) * judge.repeat:
            checks += singles
    left = judge.budget.left
    if left is not None and left < 2 * sends:
        return Verification()
    results: list[Votes] = [Votes(())] * len(checks)

    async def check(index: int, item: _Check) -> None:
        times = sends if item.required else judge.repeat
        results[index] = await judge.votes(item.document, role=Role.VERIFY, times=times)

    async with anyio.create_task_group() as tg:
        for index, item in enumerate(checks):
            tg.start_soon(check, index, item)
    sent = Verification(
        reply_good=results[0].reply, reply_bad=results[1].reply, requests=judge.budget.sent - before,
        steps=tuple((item.change, votes) for item, votes in zip(checks, results) if item.change is not None),
    )
    if any(votes.spent for votes in results):
        return sent
    for item, votes in zip(checks, results):
        if item.required and any(vote is not item.outcome for vote in votes.outcomes):
            answers = ", ".join(str(vote) for vote in votes.outcomes)
            return replace(sent, flaky=f"{item.what} was {answers} when sent {len(votes.outcomes)} more times")
        if not item.required and item.outcome in votes.outcomes:
            return replace(sent, flaky=f"{item.what} was {item.outcome} when sent again, so the answer is not minimal")
    return replace(sent, verified=True)
