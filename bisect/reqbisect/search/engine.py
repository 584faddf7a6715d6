"""The sans-I/O search engine: candidates out, outcomes in.

A *strategy* (``ddmin.py``, ``dd.py``) is written as if it ran alone, one
question at a time: each step (``steps.py``) is either an :class:`Ask` (test this
configuration, then continue with ``then(outcome)``) or :class:`Done`. Steps are
immutable and ``then`` is pure, so the engine can look ahead: it explores the
tree of possible futures, most probable first, and proposes the configurations
it meets there as *speculative* candidates while earlier ones are still in
flight. This is how ``-j 8`` turns a binary search into fewer rounds.

Determinism: the engine only ever *commits* along the path the real answers
take, starting from the root. A speculative answer is just a cache entry: it is
used when (if) the path gets there. The result therefore depends on the
outcomes of the configurations on the path, never on arrival order or on the
concurrency limit. A configuration is never proposed twice.

Speculation is bounded: a future whose probability (the product of the
strategy's estimates along its path) is below ``min_probability`` is not sent,
so with balanced splits the engine looks two levels ahead (three requests for
two levels) and with lopsided ones it follows the likely path further.

A strategy may also ask several questions as one step (:class:`AskAll`),
when their answers do not change which of them are asked: all of them are
committed at once. Besides GOOD and BAD, a future may be UNRESOLVED, with the
share of unresolved answers seen so far in this search.

Why 0.34: with balanced splits each answer halves the probability of a
future, so the futures one level ahead have 0.5 and those two levels ahead
0.25. A threshold just above 1/3 admits a future of probability 1/2, not one of
1/4, and so keeps at most three requests in flight per committed question when
splits are even: the root and its two children. Each of them is then at least
a one-in-three bet on being used, so speculation can at most triple the
requests sent. A lopsided question (p = 0.9) passes the threshold for several
levels (0.9, 0.81, 0.73, ...) along its likely branch and stops at once on the
unlikely one (0.1): the engine spends its slots where the answers are
predictable, which is where they save rounds.
"""

from __future__ import annotations

import enum
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field

from reqbisect.outcome import Outcome
from reqbisect.search.space import Config
from reqbisect.search.steps import Ask, AskAll, Best, Done, Step

#: At most this many unanswered questions are looked at per proposal (the cost of looking ahead).
_MAX_EXPANDED = 512


class State(enum.Enum):
    """Where a search is: the sentinel its driver loops on (like h11's ``NEED_DATA``)."""

    #: Still going: candidates to propose, or outcomes to wait for.
    WAITING = "waiting"
    #: The strategy reached its answer; :attr:`Search.best` is final.
    DONE = "done"
    #: The budget allows no more candidates and none is in flight; :attr:`Search.best` is the best so far.
    SPENT = "spent"

    def __repr__(self) -> str:
        return f"State.{self.name}"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A configuration the engine wants tested."""

    config: Config
    #: Proposal number: 0, 1, 2, ... in the order the engine proposed them.
    rank: int
    #: The round it belongs to: one more than the latest round whose answer
    #: the engine had when it proposed this candidate.
    round: int
    #: True when the configuration is on the committed path (not speculative).
    committed: bool


@dataclass(frozen=True, slots=True)
class SearchStats:
    """Counters of one search (immutable snapshot)."""

    #: Candidates proposed (each is a distinct configuration).
    calls: int
    #: Answers that turned out to be on the committed path.
    useful: int
    #: Candidates the driver withdrew before they were answered.
    cancelled: int
    #: Answers that were UNRESOLVED.
    unresolved: int
    #: Length of the longest chain of rounds.
    rounds: int
    #: Configurations answered from what was already known.
    cache_hits: int


@dataclass(slots=True, eq=False)
class _Node:
    step: Step
    children: dict[object, _Node] = field(default_factory=dict)

    def child(self, answer: Outcome | tuple[Outcome, ...]) -> _Node:
        node = self.children.get(answer)
        if node is None:
            step = self.step
            assert isinstance(step, Ask) == isinstance(answer, Outcome) and not isinstance(step, Done)
            node = self.children[answer] = _Node(step.then(answer))  # type: ignore[arg-type]
        return node


def _asked(step: Step) -> tuple[Config, ...]:
    """The configurations a step asks (none for Done)."""
    if isinstance(step, Ask):
        return (step.config,)
    if isinstance(step, AskAll):
        return step.configs
    return ()


class Search:
    """Drive a strategy: propose candidates, consume outcomes, keep the cache.

    Args:
        start: the strategy's first step.
        known: outcomes known before the search (e.g. the two baselines).
        max_calls: never propose more candidates than this.
        min_probability: the least probability a speculative future needs.
    """

    def __init__(
        self,
        start: Step,
        *,
        known: Mapping[Config, Outcome] | None = None,
        max_calls: int | None = None,
        min_probability: float = 0.34,
    ) -> None:
        self._root = _Node(start)
        self._known: dict[Config, Outcome] = dict(known or {})
        self._in_flight: dict[Config, Candidate] = {}
        self._max_calls = max_calls
        self._min_probability = min_probability
        self._calls = 0
        self._next_rank = 0
        self._useful = 0
        self._cancelled = 0
        self._unresolved = 0
        self._answered = 0
        self._cache_hits = 0
        self._rounds = 0
        self._answered_round = 0
        self._sent: set[Config] = set()
        self._path: list[Config] = []
        self._advance()

    # -- state ---------------------------------------------------------------

    @property
    def state(self) -> State:
        """DONE when the strategy has finished, SPENT when the budget stopped it, else WAITING."""
        if isinstance(self._root.step, Done):
            return State.DONE
        if self._spent() and not self._in_flight:
            return State.SPENT
        return State.WAITING

    def _spent(self) -> bool:
        return self._max_calls is not None and self._calls >= self._max_calls

    @property
    def best(self) -> Best:
        """The answer so far; final when the state is DONE."""
        return self._root.step.best

    @property
    def in_flight(self) -> tuple[Candidate, ...]:
        return tuple(self._in_flight.values())

    @property
    def known(self) -> Mapping[Config, Outcome]:
        return self._known

    @property
    def path(self) -> tuple[Config, ...]:
        """The configurations whose answers the strategy used, in order (the committed path)."""
        return tuple(self._path)

    @property
    def stats(self) -> SearchStats:
        return SearchStats(
            calls=self._calls,
            useful=self._useful,
            cancelled=self._cancelled,
            unresolved=self._unresolved,
            rounds=self._rounds,
            cache_hits=self._cache_hits,
        )

    # -- the protocol ----------------------------------------------------------

    def propose(self, slots: int) -> list[Candidate]:
        """Up to ``slots`` new candidates, most likely to be needed first.

        The first is the committed path's next question when that is not yet
        in flight; the others are speculative.
        """
        proposals: list[Candidate] = []
        if slots <= 0 or isinstance(self._root.step, Done):
            return proposals
        for config, committed in self._likeliest():
            if len(proposals) == slots or self._spent():
                break
            candidate = Candidate(
                config=config, rank=self._next_rank, round=self._answered_round + 1, committed=committed
            )
            self._calls += 1
            self._next_rank += 1
            self._rounds = max(self._rounds, candidate.round)
            self._in_flight[config] = candidate
            proposals.append(candidate)
        return proposals

    def _likeliest(self) -> list[tuple[Config, bool]]:
        """Configurations not yet asked whose chance of being asked reaches the threshold, likeliest first.

        A configuration's chance is the sum over the futures that ask it: when
        several answers lead to the same next question (an unresolved answer
        mostly asks what a bottom one would), that question is likelier than
        any single future that asks it.
        """
        chance: dict[Config, float] = {}
        committed = _asked(self._root.step)
        seq = 0
        heap: list[tuple[float, int, _Node]] = [(-1.0, seq, self._root)]
        expanded = 0
        while heap and expanded < _MAX_EXPANDED:
            neg_p, _, node = heapq.heappop(heap)
            p = -neg_p
            asked = _asked(node.step)
            known = self._answers(node)
            if known is not None:
                seq += 1
                heapq.heappush(heap, (neg_p, seq, node.child(known)))
                continue
            if not asked:
                continue
            expanded += 1
            for config in asked:
                if config not in self._known and config not in self._in_flight:
                    chance[config] = chance.get(config, 0.0) + p
            for answer, weight in self._futures(node.step):
                if p * weight >= self._min_probability:
                    seq += 1
                    heapq.heappush(heap, (-p * weight, seq, node.child(answer)))
        # The committed questions first, then by chance; ties stay in exploration order.
        ranked = sorted(chance.items(), key=lambda item: (item[0] not in committed, -item[1]))
        return [
            (config, config in committed)
            for config, p in ranked
            if p >= self._min_probability or config in committed
        ]

    def _answers(self, node: _Node) -> Outcome | tuple[Outcome, ...] | None:
        """What is already known of the answer ``node`` asks for (None if not all of it)."""
        step = node.step
        if isinstance(step, Ask):
            return self._known.get(step.config)
        if isinstance(step, AskAll) and all(c in self._known for c in step.configs):
            return tuple(self._known[c] for c in step.configs)
        return None

    def _futures(self, step: Step) -> list[tuple[Outcome | tuple[Outcome, ...], float]]:
        """The answers to explore after ``step``, with their probabilities.

        After several questions at once only the likeliest combination is
        explored (answers already in count as certain): enough to speculate on
        what follows a batch whose answers are predictable.
        """
        if isinstance(step, Ask):
            return list(self._weights(step.p_good))
        if not isinstance(step, AskAll):
            return []
        likeliest, weight = max(self._weights(step.p_good), key=lambda item: item[1])
        answer = tuple(self._known.get(c, likeliest) for c in step.configs)
        unknown = sum(1 for c in step.configs if c not in self._known)
        return [(answer, weight**unknown)]

    def _weights(self, p_good: float) -> tuple[tuple[Outcome, float], ...]:
        """How likely each answer is: the strategy's estimate, scaled by the share not unresolved.

        Strategies reason about GOOD and BAD; how often this server answers a
        half-built request with some third failure is learnt from the answers
        so far (one in four before any), so that a server rejecting most
        partial requests has the questions after its unresolved answers
        speculated on too.
        """
        unresolved = (self._unresolved + 1) / (self._answered + 4)
        return (
            (Outcome.GOOD, p_good * (1.0 - unresolved)),
            (Outcome.BAD, (1.0 - p_good) * (1.0 - unresolved)),
            (Outcome.UNRESOLVED, unresolved),
        )

    def feed(self, candidate: Candidate, outcome: Outcome) -> None:
        """Record the outcome of a proposed candidate."""
        if self._in_flight.pop(candidate.config, None) is None:
            raise ValueError(f"candidate #{candidate.rank} is not in flight")
        self._known[candidate.config] = outcome
        self._answered += 1
        self._sent.add(candidate.config)
        self._answered_round = max(self._answered_round, candidate.round)
        if outcome is Outcome.UNRESOLVED:
            self._unresolved += 1
        self._advance()

    def halt(self) -> None:
        """Propose nothing more: the search ends SPENT once what is in flight is answered."""
        self._max_calls = self._calls

    def cancel(self, candidate: Candidate) -> None:
        """Withdraw a candidate that was never answered (it may be proposed again)."""
        if self._in_flight.pop(candidate.config, None) is not None:
            self._calls -= 1
            self._cancelled += 1

    def obsolete(self) -> list[Candidate]:
        """In-flight candidates that no branch explored so far still needs.

        A branch not yet explored may need one later, so only withdraw a
        candidate that was never sent; one on the wire should finish and be fed.
        """
        reachable: set[Config] = set()
        stack = [self._root]
        while stack:
            node = stack.pop()
            reachable.update(_asked(node.step))
            known = self._answers(node)
            stack.extend([node.child(known)] if known is not None else node.children.values())
        return [c for config, c in self._in_flight.items() if config not in reachable]

    def _advance(self) -> None:
        while (known := self._answers(self._root)) is not None:
            self._path.extend(_asked(self._root.step))
            for config in dict.fromkeys(_asked(self._root.step)):
                if config in self._sent:
                    self._sent.discard(config)
                    self._useful += 1
                else:
                    self._cache_hits += 1
            self._root = self._root.child(known)
