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
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from reqbisect.driver import Halt, drive
from reqbisect.errors import BaselineError
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

    def report(self, phase: Phase, *, in_flight: int = 0, counts: tuple[int, int, int] = (0, 0, 0),
               size: int | None = None) -> None:
        """Tell the progress callback where the run is."""
        if self.progress is None:
            return
        good, bad, unresolved = counts
        self.progress(Progress(
            phase=phase, requests=self.judge.budget.sent, in_flight=in_flight, good=good, bad=bad,
            unresolved=unresolved, size=self.plan.space.size if size is None else size,
            total=self.plan.space.size, elapsed=self.clock.now() - self.started,
        ))


@dataclass(frozen=True, slots=True)
class Baselines:
    """What the baselines established: the outcomes of the two ends of the search space."""

    known: dict[Config, Outcome]


async def establish_baselines(run: Run) -> Baselines:
    """Judge GOOD and BAD; with ``--ignore``, also the ends of the space, which then differ from them.

    Raises:
        BaselineError: an end does not behave as its side should.
    """
    plan = run.plan
    await run.judge.calibrate(plan.good, plan.bad, times=run.options.baseline_repeats)
    known: dict[Config, Outcome] = {}
    base = plan.mode.base_outcome
    for config, expected in ((frozenset(), base), (plan.space.everything, base.opposite)):
        document = plan.apply(config)
        if document != (plan.bad if expected is Outcome.BAD else plan.good):
            outcome = (await run.judge.votes(document, role=Role.CANDIDATE, times=run.judge.repeat)).majority
            if outcome is not expected:
                raise BaselineError(f"with --ignore, the {expected} end of the search is {outcome}, not {expected}")
        known[config] = expected
    return Baselines(known)


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
    #: Every configuration whose outcome the search recorded (speculative answers included).
    known: dict[Config, Outcome] = field(default_factory=dict)


async def search(run: Run, baselines: Baselines) -> Searched:
    """Drive the core over the plan's space until it is done, the budget is spent, or the run stops."""
    plan, judge = run.plan, run.judge
    left = judge.budget.left
    search = Search(
        plan.mode.strategy(plan.space),
        known=baselines.known,
        max_calls=None if left is None else max(0, (left - judge.verification_reserve) // judge.repeat),
    )
    counts = dict.fromkeys(Outcome, 0)

    async def evaluate(candidate: Candidate) -> Outcome:
        votes = await judge.votes(plan.apply(candidate.config), role=Role.CANDIDATE, times=judge.repeat)
        return votes.majority

    def on_outcome(candidate: Candidate, outcome: Outcome) -> None:
        counts[outcome] += 1
        run.report(
            Phase.SEARCH, in_flight=len(search.in_flight),
            counts=(counts[Outcome.GOOD], counts[Outcome.BAD], counts[Outcome.UNRESOLVED]),
            size=plan.mode.size(search.best),
        )

    halt = await drive(
        search, evaluate, concurrency=run.options.concurrency, on_outcome=on_outcome, stop=run.stop,
        grace=run.options.timeout, deadline=run.options.max_time, allowed=judge.allowed,
    )
    return Searched(best=search.best, state=search.state, halt=halt, stats=search.stats, counts=counts,
                    known=dict(search.known))
