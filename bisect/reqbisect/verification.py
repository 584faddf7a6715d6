"""The verification phase: the answer, sent again, as much as the evidence asks for.

The rule (docs/design.md, "Verification"): the answers a search collects are
cross-checks of each other (``reqbisect.evidence``), so extra requests go only
where the evidence is thin or contradictory.

* **Consistent**: no two answers contradict each other, every ``--repeat`` vote
  agreed and the baselines agreed. The answer's end of the minimal pair (the
  request the search arrived at) is sent twice more (``--repeat`` times if that
  is more), so that one lie told twice cannot confirm it; the other end is a
  baseline (GOOD in ``break``, BAD in ``fix``), sent fresh in this run already,
  and is sent again only on the contradictory path. Each single-change step away
  from the answer that no other answer corroborates is sent twice too (a lie
  there would keep a change that is not needed), once if one other answer
  does; a step of a patch op that was unresolved is sent at least once, when
  the answer has several patch ops (the result may have to warn about it).
  If every fresh answer agrees, the answer is confirmed: ``reason = "consistent"``.
* **Contradictory**: anything else (a fresh answer that disagrees, two answers
  that contradict monotonicity, votes that split, baselines that did). Every
  suspect is re-asked until one outcome leads by two votes (at most
  :data:`~reqbisect.evidence.MAX_VOTES`): the minimal pair, every single step
  (each with at least two fresh sends, as uncorroborated on a consistent
  server: two lies must not settle it), and every answer in a
  contradiction or a split vote. When the majority overturns an answer the
  search used, the search runs again from the corrected answers (everything
  else it knew is reused, not re-sent), up to :data:`MAX_SEARCHES` searches in
  all: ``reason = "corrected"``. Otherwise ``reason = "contradictory"``.

Exit 0 therefore always rests on fresh sends of the minimal pair that agree
with the answer. An answer that cannot be settled (the server keeps changing
its mind) is flaky, and the run is inconclusive. A ``stop`` during verification
ends it at once: the answer is then reported as not re-verified.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import anyio

from reqbisect._types import JSONValue
from reqbisect.driver import Halt, unless_stopped
from reqbisect.evidence import ANSWER_LEAD, LEAD, Ledger, contradictions, corroborated, hopeless
from reqbisect.journal import Role
from reqbisect.judge import Votes
from reqbisect.oracle import Reply
from reqbisect.outcome import Outcome
from reqbisect.phases import Run, Searched, search
from reqbisect.search import Config, SearchStats, State

__all__ = ["MAX_SEARCHES", "Verification", "verify"]

#: Searches in all, the first included, before answers that keep being overturned make a run inconclusive.
MAX_SEARCHES = 3


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
    #: Requests it sent to check answers (a repeated search's candidates not included).
    requests: int = 0
    #: The votes on each single-change step away from the answer: (change, votes), when they were checked.
    steps: tuple[tuple[int, Votes], ...] = ()
    #: Why it sent as many as it did: "consistent", "contradictory", "corrected", "unfinished"
    #: (the search or the budget did not allow the whole check) or "none" (nothing was checked).
    reason: str = "none"
    #: What made the evidence contradictory, in words.
    doubts: tuple[str, ...] = ()
    #: The search again from corrected answers (None: the first search stands).
    searched: Searched | None = None


@dataclass(frozen=True, slots=True)
class _Check:
    what: str
    config: Config
    document: JSONValue
    outcome: Outcome
    #: True: the outcome must be ``outcome``; False: it must not be.
    required: bool
    #: A single step that takes away a whole patch op of an answer with several.
    root: bool = False
    #: The change a single-change step takes away.
    change: int | None = None


def _checks(run: Run, searched: Searched) -> list[_Check]:
    """The minimal pair, then (for ``fix``/``break`` when the search is done) each single step away."""
    plan, best = run.plan, searched.best
    checks = [
        _Check("the minimal good request", best.good, plan.apply(best.good), Outcome.GOOD, True),
        _Check("the minimal bad request", best.bad, plan.apply(best.bad), Outcome.BAD, True),
    ]
    answer, target = plan.mode.answer(best), plan.mode.target
    if answer is not None and target is not None and searched.state is State.DONE:
        roots = plan.roots(answer)
        for i in sorted(answer):
            config = plan.space.without(answer, [i])
            if all(config != check.config for check in checks):
                checks.append(_Check(f"the answer without {plan.pointer(i)}", config, plan.apply(config), target, False,
                                     root=len(roots) > 1 and i in roots))
    return checks


def _holds(check: _Check, outcome: Outcome) -> bool:
    return (outcome is check.outcome) == check.required


def _merged(first: Searched, again: Searched) -> Searched:
    """``again`` with the counters of both searches added up."""
    a, b = first.stats, again.stats
    stats = SearchStats(
        calls=a.calls + b.calls, useful=a.useful + b.useful, cancelled=a.cancelled + b.cancelled,
        unresolved=a.unresolved + b.unresolved, rounds=a.rounds + b.rounds, cache_hits=a.cache_hits + b.cache_hits,
    )
    counts = {outcome: first.counts[outcome] + again.counts[outcome] for outcome in first.counts}
    return replace(again, stats=stats, counts=counts, votes={**first.votes, **again.votes})


class _Verifier:
    """One verification: the ledger of votes, and the sends that add to it."""

    def __init__(self, run: Run, searched: Searched) -> None:
        self.run, self.judge = run, run.judge
        self.top = run.plan.mode.base_outcome.opposite
        self.ledger = Ledger()
        self.fresh: Counter[Config] = Counter()
        self.replies: dict[Config, Reply] = {}
        self.spent = False
        self.doubts: list[str] = []
        baselines = searched.baselines
        if baselines is not None:
            for config, outcome in baselines.known.items():
                self.ledger.add(config, [outcome] * baselines.sends)
            self.doubts += baselines.doubts
        self.ledger_from(searched)

    def ledger_from(self, searched: Searched) -> None:
        for config, votes in searched.votes.items():
            self.ledger.add(config, votes)

    async def ask(self, items: dict[Config, tuple[JSONValue, int]]) -> None:
        """Judge each document the given number of times more, all at once."""
        results: dict[Config, Votes] = {}

        async def one(config: Config, document: JSONValue, times: int) -> None:
            results[config] = await self.judge.votes(document, role=Role.VERIFY, times=times)

        async with anyio.create_task_group() as tg:
            for config, (document, times) in items.items():
                tg.start_soon(one, config, document, times)
        for config, votes in results.items():
            self.spent |= votes.spent
            if votes.reply is not None:
                self.replies[config] = votes.reply
            if not votes.spent:  # a spent budget ends the verification: what it got is not counted
                self.ledger.add(config, votes.outcomes)
                self.fresh[config] += len(votes.outcomes)

    async def settle(self, items: dict[Config, JSONValue], *, fresh: dict[Config, int], strict: set[Config]) -> None:
        """Ask until every item leads by two votes (three for those in ``strict``) or has had its fill.

        Those in ``fresh`` get at least as many fresh sends as it says.
        """
        while not self.spent:
            todo = {
                config: (document, 1) for config, document in items.items()
                if not self.ledger.exhausted(config, lead=self.lead(config, strict))
                or self.fresh[config] < fresh.get(config, 0)
            }
            if not todo:
                return
            await self.ask(todo)

    def steps(self, searched: Searched) -> tuple[tuple[int, Votes], ...]:
        """The votes on each single-change step away from the answer that has any."""
        plan = self.run.plan
        answer = plan.mode.answer(searched.best) or frozenset()
        out = []
        for change in sorted(answer):
            config = plan.space.without(answer, [change])
            if config in self.ledger.votes:
                out.append((change, Votes(tuple(self.ledger.votes[config]), self.replies.get(config))))
        return tuple(out)

    @staticmethod
    def lead(config: Config, strict: set[Config]) -> int:
        return ANSWER_LEAD if config in strict else LEAD

    def verdict(self, checks: list[_Check], suspects: list[Config], strict: set[Config]) -> str | None:
        """What is wrong with the answer after settling, in words; None when nothing is."""
        for check in checks:
            votes = self.ledger.votes.get(check.config, [])
            outcome = self.ledger.leader(check.config)[0]
            settled = self.ledger.settled(check.config, lead=self.lead(check.config, strict))
            if not settled or not _holds(check, outcome):
                answers = ", ".join(str(vote) for vote in votes)
                if not check.required and settled:
                    return f"{check.what} was {check.outcome} when sent again, so the answer is not minimal"
                return f"{check.what} was {answers} when sent {len(votes)} times"
        for config in suspects:
            if not self.ledger.settled(config):
                return f"a candidate kept changing its answer ({len(self.ledger.votes[config])} sends)"
        return None


async def verify(run: Run, searched: Searched) -> Verification:
    """Send the answer of ``searched`` again, as the evidence asks (module docstring); nothing when stopped."""
    if searched.halt is Halt.STOPPED:
        return Verification(interrupted=True)
    before = run.judge.budget.sent
    checked = await unless_stopped(run.stop, lambda: _verify(run, searched))
    if checked is None:
        return Verification(interrupted=True, requests=run.judge.budget.sent - before)
    return checked


async def _verify(run: Run, searched: Searched) -> Verification:
    judge = run.judge
    twice = max(2, judge.repeat)  # fresh sends of what is not corroborated (--repeat if more)
    before = judge.budget.sent
    searching = 0  # requests the repeated searches sent
    verifier = _Verifier(run, searched)
    first, current, searches = searched, searched, 1
    strict: set[Config] = set()  # ends of the pair whose fresh answers disagreed with the search's

    def result(**fields: object) -> Verification:
        checks = _checks(run, current)
        return Verification(
            steps=verifier.steps(current),
            reply_good=verifier.replies.get(checks[0].config), reply_bad=verifier.replies.get(checks[1].config),
            requests=judge.budget.sent - before - searching, doubts=tuple(verifier.doubts),
            searched=None if current is first else _merged(first, current), **fields,  # type: ignore[arg-type]
        )

    while True:
        checks = _checks(run, current)
        known, ledger = current.known, verifier.ledger
        left = judge.budget.left
        if left is not None and left < 2 * judge.repeat:
            return result(reason="none")
        # The answer is sent twice (--repeat times if more), so that one lie repeated cannot confirm
        # it; an end that is a baseline was sent in this run already, and is re-sent only with doubts.
        # An answer that a repeated search arrived at may have been re-asked before as a suspect:
        # those sends count, and it gets the rest.
        ends = current.baselines.known if current.baselines is not None else {}
        confirm = {
            check.config: (check.document, twice - verifier.fresh[check.config])
            for check in checks[:2]
            if verifier.fresh[check.config] < twice and check.config not in ends
        }
        # A search that ended early, or whose answers were mostly unresolved, is inconclusive
        # whatever is re-asked: the pair's fresh answers are kept for the report, nothing more.
        if current.state is not State.DONE or hopeless(current.counts):
            await verifier.ask(confirm)
            return result(reason="unfinished")
        clashes = [
            (a, b) for a, b in contradictions(known, top=verifier.top)
            if not (ledger.settled(a) and ledger.settled(b))
        ]
        split = [config for config in ledger.disputed() if not ledger.settled(config)]
        careful = bool(verifier.doubts or clashes or split)
        if not careful:
            # A single step is sent twice unless other answers corroborate it: once if one
            # does, not at all if two do (two lies, or a server that is not monotone twice).
            # An unresolved step of a patch op is sent at least once whatever surrounds it:
            # the result may have to warn about it (conclusion.doubts) and must rest on a fresh answer.
            for check in checks[2:]:
                outcome = known.get(check.config, Outcome.UNRESOLVED)
                times = (
                    0 if corroborated(check.config, outcome, known, top=verifier.top, by=2)
                    else judge.repeat if corroborated(check.config, outcome, known, top=verifier.top)
                    else twice
                )
                if outcome is Outcome.UNRESOLVED and check.root:
                    times = max(times, judge.repeat)
                if times and not verifier.fresh[check.config] and check.config not in confirm:
                    confirm[check.config] = (check.document, times)
        await verifier.ask(confirm)
        if verifier.spent:
            return result(reason="unfinished")
        wrong = [check for check in checks if check.config in confirm and not all(
            _holds(check, vote) for vote in ledger.votes[check.config][-verifier.fresh[check.config]:]
        )]
        if not careful and not wrong:
            return result(verified=True, reason="consistent")
        verifier.doubts += [f"{check.what} answered otherwise when sent again" for check in wrong]
        if clashes:
            verifier.doubts.append(f"{len(clashes)} pairs of answers contradict each other (a subset kept what a superset lost)")
        if split:
            verifier.doubts.append(f"{len(split)} candidates got votes that disagree")
        documents = {check.config: check.document for check in checks}
        # Only answers the search used can change its answer: the others are not re-asked.
        used = set(current.path)
        suspects = [config for config in dict.fromkeys([c for pair in clashes for c in pair] + split) if config in used]
        documents |= {config: run.plan.apply(config) for config in suspects if config not in documents}
        strict |= {check.config for check in wrong if check.required}
        # Every check gets as many fresh sends as on a consistent server without corroboration:
        # a lie told twice must not settle a step that decides what the answer keeps.
        fresh = dict.fromkeys((check.config for check in checks), twice)
        await verifier.settle(documents, fresh=fresh, strict=strict)
        if verifier.spent:
            return result(reason="unfinished")
        overturned = {
            config: ledger.leader(config)[0] for config in documents
            if config in known and ledger.settled(config, lead=verifier.lead(config, strict))
            and ledger.leader(config)[0] is not known[config]
        }
        if overturned and searches < MAX_SEARCHES:
            verifier.doubts.append(f"re-asked, {len(overturned)} answers the search used came out otherwise; searched again")
            sent = judge.budget.sent
            assert current.baselines is not None
            current = await search(run, current.baselines, known={**known, **overturned})
            searches += 1
            searching += judge.budget.sent - sent
            verifier.ledger_from(current)
            continue
        flaky = verifier.verdict(checks, suspects, strict)
        if flaky is None and overturned:
            flaky = f"re-asked answers overturned the search's {searches} times"
        return result(verified=flaky is None, flaky=flaky, reason="corrected" if searches > 1 else "contradictory")
