"""The context of a run and its first two phases: the baselines and the search.

See ``reqbisect.pipeline`` for the whole run. The baselines judge GOOD and BAD
(and, with ``--ignore``, the two ends of the search space, which then differ
from them); the search hands the plan's space to the pure core
(``reqbisect.search``) and the driver sends what it proposes, ``concurrency``
at a time, with as many requests as the budget leaves after the baselines and
what the verification will need.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import anyio

from reqbisect.budget import plan_bound
from reqbisect.driver import Halt, drive
from reqbisect.errors import BaselineError
from reqbisect.evidence import hopeless
from reqbisect.hooks import Prepare
from reqbisect.journal import Role
from reqbisect.judge import Judge
from reqbisect.options import RunOptions
from reqbisect.outcome import Outcome
from reqbisect.plan import Plan
from reqbisect.search import Best, Candidate, Config, Search, SearchStats, State
from reqbisect.transport import Clock

__all__ = ["Baselines", "Phase", "Progress", "Run", "Searched", "establish_baselines", "search"]


class Phase(str, enum.Enum):
    """The phases of a run, in order."""

    BASELINES = "baselines"
    SEARCH = "search"
    VERIFICATION = "verification"
    #: ``--shrink``: taking away what the minimal good and bad requests share.
    SHRINK = "shrink"
    CONCLUSION = "conclusion"

    def __repr__(self) -> str:
        return f"Phase.{self.name}"


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for progress displays."""

    #: The phase the run is in.
    phase: Phase
    requests: int
    in_flight: int
    good: int
    bad: int
    unresolved: int
    #: Changes in the current best answer (the size of the difference).
    size: int
    total: int
    elapsed: float
    #: Rounds of the search so far (a round waits for the answers before it).
    rounds: int = 0
    #: The request budget (``--max-requests``), None without one.
    limit: int | None = None
    #: Pointers of the changes in the current best answer (names, never values).
    best: tuple[str, ...] = ()
    #: While shrinking: what is taken away so far, e.g. ``headers 21 → 3, body 114.0 KB → 0.4 KB``.
    shrunk: str | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """What every phase of one run shares; nothing in it changes during the run but the judge's counters."""

    plan: Plan
    judge: Judge
    options: RunOptions
    clock: Clock
    started: float
    stop: anyio.Event | None = None
    progress: Callable[[Progress], None] | None = None
    #: Said about the inputs before the run (a capture's oddities, an --ignore that matched nothing).
    warnings: tuple[str, ...] = ()
    #: The latest progress snapshot (counts, rounds and the best answer carry over to the next phase).
    shown: list[Progress] = field(default_factory=list)
    #: The ``--hook``, if any: ``--shrink`` keeps what it rewrites.
    prepare: Prepare | None = None
    #: The status GOOD's capture says its own client got (a HAR entry's response), if it says.
    answered: int | None = None

    def report(self, phase: Phase, *, in_flight: int = 0, counts: tuple[int, int, int] | None = None,
               size: int | None = None, total: int | None = None, rounds: int | None = None,
               best: Best | None = None, shrunk: str | None = None) -> None:
        """Tell the progress callback where the run is.

        Until the next report, every request reserved or sent re-sends this
        snapshot with fresh request counts and time, so a display moves during
        phases that report nothing else (the baselines, the verification).
        """
        progress = self.progress
        if progress is None:
            return
        last = self.shown[-1] if self.shown else None
        good, bad, unresolved = counts or ((last.good, last.bad, last.unresolved) if last else (0, 0, 0))
        budget = self.judge.budget
        answer = None if best is None else self.plan.mode.answer(best)
        pointers = tuple(self.plan.pointer(i) for i in sorted(answer)) if answer is not None else None
        snapshot = Progress(
            phase=phase, requests=budget.sent, in_flight=max(in_flight, budget.reserved), good=good, bad=bad,
            unresolved=unresolved, size=self.plan.space.size if size is None else size,
            total=self.plan.space.size if total is None else total, elapsed=self.clock.now() - self.started,
            rounds=rounds if rounds is not None else (last.rounds if last else 0),
            limit=budget.limit, best=pointers if pointers is not None else (last.best if last else ()),
            shrunk=shrunk,
        )
        self.shown[:] = [snapshot]
        progress(snapshot)

        def moved() -> None:
            progress(replace(
                snapshot, requests=budget.sent, in_flight=budget.reserved, elapsed=self.clock.now() - self.started
            ))

        budget.on_change = moved


@dataclass(frozen=True, slots=True)
class Baselines:
    """What the baselines established: the outcomes of the two ends of the search space."""

    known: dict[Config, Outcome]
    #: Answers of the baselines that disagreed with the others, in words (they make the verification careful).
    doubts: tuple[str, ...] = ()
    #: Times each end was judged (its votes, for the verification's ledger).
    sends: int = 1


async def establish_baselines(run: Run) -> Baselines:
    """Judge GOOD and BAD; with ``--ignore``, also the ends of the space, which then differ from them.

    Each baseline is sent ``--baseline-repeats`` times when given, all of which
    must agree. By default it is sent ``--repeat`` times and decided by majority;
    when those answers fail (GOOD not good, BAD not bad, the two alike), one lie
    may be to blame, so each is sent twice more and the majority decides:
    evidence is bought where it is contradictory.

    Raises:
        BaselineError: an end does not behave as its side should.
    """
    plan, judge, explicit = run.plan, run.judge, run.options.baseline_repeats
    times = judge.repeat if explicit is None else explicit
    try:
        doubts = await judge.calibrate(plan.good, plan.bad, times=times, majority=explicit is None)
    except BaselineError:
        left = judge.budget.left
        if explicit is not None or (left is not None and left < 2 * (times + 2)):
            raise
        times += 2
        doubts = await judge.calibrate(plan.good, plan.bad, times=times, majority=True)
        doubts = doubts or (f"the baselines failed when sent once each and passed when sent {times} times",)
    known: dict[Config, Outcome] = {}
    base = plan.mode.base_outcome
    for config, expected in ((frozenset(), base), (plan.space.everything, base.opposite)):
        document = plan.apply(config)
        if document != (plan.bad if expected is Outcome.BAD else plan.good):
            outcome = (await judge.votes(document, role=Role.CANDIDATE, times=judge.repeat)).majority
            if outcome is not expected:
                raise BaselineError(f"with --ignore, the {expected} end of the search is {outcome}, not {expected}")
        known[config] = expected
    return Baselines(known, doubts=doubts, sends=times)


@dataclass(frozen=True, slots=True)
class Searched:
    """Where the search ended."""

    best: Best
    state: State
    #: Why the driver stopped early, if it did.
    halt: Halt | None
    stats: SearchStats
    #: Candidates judged GOOD, BAD and UNRESOLVED.
    counts: dict[Outcome, int]
    #: Every outcome the search knew at its end, the baselines' included.
    known: Mapping[Config, Outcome] = field(default_factory=dict)
    #: The votes of each candidate this search sent (``--repeat`` of them each).
    votes: Mapping[Config, tuple[Outcome, ...]] = field(default_factory=dict)
    #: The baselines it started from.
    baselines: Baselines | None = None
    #: The configurations whose answers the search used, in order.
    path: tuple[Config, ...] = ()
    #: The search stopped after far more questions than the plan provides for (:data:`ASTRAY_AFTER`).
    astray: bool = False


#: How many times the questions two causes need (``budget.plan_bound``) a search may ask
#: while its answers stay mostly unresolved (a lie sent it astray, or the oracle cannot tell).
HOPELESS_AFTER = 4
#: ... and in any case: answers that contradict each other can send a minimisation round and
#: round its retries (thousands of questions over a few hundred changes).
ASTRAY_AFTER = 16


async def search(run: Run, baselines: Baselines, *, known: Mapping[Config, Outcome] | None = None) -> Searched:
    """Drive the core over the plan's space until it is done, the budget is spent, or the run stops.

    ``known`` replaces the baselines' outcomes as what the core starts from
    (the verification searches again with the answers it corrected).
    """
    plan, judge = run.plan, run.judge
    left = judge.budget.left
    search = Search(
        plan.mode.strategy(plan.space),
        known=baselines.known if known is None else known,
        max_calls=None if left is None else max(0, (left - judge.verification_reserve) // judge.repeat),
    )
    counts = dict.fromkeys(Outcome, 0)
    votes: dict[Config, tuple[Outcome, ...]] = {}
    # A search whose answers stay mostly unresolved ends inconclusive whatever else it asks
    # (evidence.hopeless): past a few times what two causes need, it stops asking.
    planned = plan_bound(plan.space, concurrency=1).search
    astray = False

    async def evaluate(candidate: Candidate) -> Outcome:
        judged = await judge.votes(plan.apply(candidate.config), role=Role.CANDIDATE, times=judge.repeat)
        votes[candidate.config] = judged.outcomes
        return judged.majority

    def on_outcome(candidate: Candidate, outcome: Outcome) -> None:
        counts[outcome] += 1
        nonlocal astray
        judged = sum(counts.values())
        if judged >= HOPELESS_AFTER * planned and hopeless(counts) or judged >= ASTRAY_AFTER * planned:
            astray |= not hopeless(counts)
            search.halt()
        run.report(
            Phase.SEARCH, in_flight=len(search.in_flight),
            counts=(counts[Outcome.GOOD], counts[Outcome.BAD], counts[Outcome.UNRESOLVED]),
            size=plan.mode.size(search.best), rounds=search.stats.rounds, best=search.best,
        )

    halt = await drive(
        search, evaluate, concurrency=run.options.concurrency, on_outcome=on_outcome, stop=run.stop,
        grace=run.options.timeout, deadline=run.options.max_time, allowed=judge.allowed,
    )
    return Searched(
        best=search.best, state=search.state, halt=halt, stats=search.stats, counts=counts,
        known=dict(search.known), votes=votes, baselines=baselines, path=search.path, astray=astray,
    )
