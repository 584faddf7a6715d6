"""Property tests of the search core: planted culprits over random change trees.

Every mode (``fix``, ``break``, ``isolate``) is run against two families of
planted predicates:

* ``all``: the target needs every culprit (``culprits <= config``). The culprits
  are closed under parents, so the 1-minimal answer is unique: the culprits.
* ``any``: one culprit is enough (``culprits & config``). Several answers are
  1-minimal; the search must still pick the same one every time.

Each search is driven with up to ``k`` candidates in flight and answers fed in
an order hypothesis draws. The answer must be correct, 1-minimal (checked with
the predicate itself) and identical to the sequential (``k = 1``) answer.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqbisect.search import Best, Candidate, Config, Outcome, Search, Space, State, isolate, minimise

GOOD, BAD, UNRESOLVED = Outcome.GOOD, Outcome.BAD, Outcome.UNRESOLVED

Oracle = Callable[[Config], Outcome]

MODES = ("fix", "break", "isolate")
FAMILIES = ("all", "any")
SLOTS = (1, 2, 8, 64)

search_settings = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# -- change trees ----------------------------------------------------------


@st.composite
def spaces(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 64) -> Space:
    """A random change tree, numbered in preorder.

    Each change hangs under one of the changes on the path to the previous one
    (or at the top), which is exactly what keeps subtrees contiguous.
    """
    n = draw(st.integers(min_size, max_size))
    parents: list[int | None] = []
    paths: list[tuple[object, ...]] = []
    open_path: list[int] = []
    children: dict[int | None, int] = {}
    for i in range(n):
        depth = draw(st.integers(0, len(open_path)))
        del open_path[depth:]
        parent = open_path[-1] if open_path else None
        label = children.get(parent, 0)
        children[parent] = label + 1
        parents.append(parent)
        paths.append((paths[parent] if parent is not None else ()) + (label,))
        open_path.append(i)
    return Space(parents=tuple(parents), paths=tuple(paths))


def closure(space: Space, changes: Config) -> Config:
    return space.including(frozenset(), changes)


def is_closed(space: Space, config: Config) -> bool:
    return all(space.parents[i] is None or space.parents[i] in config for i in config)


@dataclass(frozen=True)
class Problem:
    space: Space
    mode: str
    family: str
    culprits: Config

    @property
    def target(self) -> Outcome:
        return GOOD if self.mode == "fix" else BAD

    def oracle(self, config: Config) -> Outcome:
        if self.family == "all":
            hit = self.culprits <= config
        else:
            hit = bool(self.culprits & config)
        return self.target if hit else self.target.opposite

    def start(self) -> Search:
        return start_search(self.space, self.mode)


def start_search(space: Space, mode: str, *, max_calls: int | None = None) -> Search:
    if mode == "fix":
        step = minimise(space, target=GOOD)
        known = {frozenset(): BAD, space.everything: GOOD}
    elif mode == "break":
        step = minimise(space, target=BAD)
        known = {frozenset(): GOOD, space.everything: BAD}
    else:
        step = isolate(space)
        known = {frozenset(): GOOD, space.everything: BAD}
    return Search(step, known=known, max_calls=max_calls)


@st.composite
def problems(draw: st.DrawFn, *, max_size: int = 64) -> Problem:
    space = draw(spaces(max_size=max_size))
    mode = draw(st.sampled_from(MODES))
    family = draw(st.sampled_from(FAMILIES))
    planted = draw(
        st.sets(st.integers(0, space.size - 1), min_size=1, max_size=min(4, space.size))
    )
    culprits = closure(space, frozenset(planted)) if family == "all" else frozenset(planted)
    return Problem(space, mode, family, culprits)


# -- the driver --------------------------------------------------------------


@dataclass
class Run:
    best: Best
    finished: bool
    proposed: list[Candidate]


def drive(
    search: Search,
    oracle: Oracle,
    *,
    slots: int = 1,
    order: random.Random | None = None,
    cancel_obsolete: bool = False,
) -> Run:
    """Keep up to ``slots`` candidates in flight; answer one at a time.

    ``order`` picks which in-flight candidate is answered next (the oldest when
    it is None). With ``cancel_obsolete`` what ``obsolete()`` reports is
    withdrawn after every answer. Whatever is still in flight at the end is
    withdrawn too.
    """
    proposed: list[Candidate] = []
    in_flight: list[Candidate] = []
    while search.state is State.WAITING:
        fresh = search.propose(slots - len(in_flight))
        proposed.extend(fresh)
        in_flight.extend(fresh)
        assert in_flight, "the search is not done but proposes nothing"
        index = order.randrange(len(in_flight)) if order is not None else 0
        candidate = in_flight.pop(index)
        search.feed(candidate, oracle(candidate.config))
        if cancel_obsolete:
            for stale in search.obsolete():
                search.cancel(stale)
                in_flight.remove(stale)
    # Speculative leftovers: the finished search has no use for them.
    assert set(search.obsolete()) == set(in_flight)
    for leftover in in_flight:
        search.cancel(leftover)
    return Run(search.best, (search.state is State.DONE), proposed)


def result_of(problem: Problem, best: Best) -> Config:
    return best.good if problem.mode == "fix" else best.bad


def assert_one_minimal(space: Space, oracle: Oracle, result: Config, target: Outcome) -> None:
    assert oracle(result) is target
    for change in result:
        smaller = space.without(result, [change])
        assert oracle(smaller) is not target, f"{sorted(result)} minus {change} still {target}"


def assert_isolated(space: Space, oracle: Oracle, best: Best) -> None:
    assert best.good < best.bad
    assert oracle(best.good) is GOOD
    assert oracle(best.bad) is BAD
    for change in best.bad - best.good:
        assert oracle(space.including(best.good, [change])) is not GOOD
        assert oracle(space.without(best.bad, [change])) is not BAD


def assert_correct(problem: Problem, run: Run) -> None:
    assert run.finished
    assert run.best.minimal
    space, oracle = problem.space, problem.oracle
    if problem.mode == "isolate":
        assert_isolated(space, oracle, run.best)
        return
    result = result_of(problem, run.best)
    assert_one_minimal(space, oracle, result, problem.target)
    if problem.family == "all":
        assert result == problem.culprits
    else:
        (culprit,) = result & problem.culprits
        assert result == closure(space, frozenset([culprit]))


def assert_well_formed(space: Space, run: Run, known: set[Config]) -> None:
    configs = [c.config for c in run.proposed]
    assert len(configs) == len(set(configs)), "a configuration was proposed twice"
    assert not known & set(configs), "a known configuration was proposed"
    assert all(is_closed(space, c) for c in configs)
    assert [c.rank for c in run.proposed] == list(range(len(run.proposed)))


def baselines(space: Space) -> set[Config]:
    return {frozenset(), space.everything}


# -- properties --------------------------------------------------------------


@search_settings
@given(problem=problems())
def test_sequential_search_finds_the_planted_culprits(problem: Problem) -> None:
    run = drive(problem.start(), problem.oracle)
    assert_correct(problem, run)
    assert_well_formed(problem.space, run, baselines(problem.space))


@search_settings
@given(problem=problems(), slots=st.sampled_from(SLOTS), order=st.randoms(use_true_random=False))
@example(
    problem=Problem(Space.flat(8), "fix", "all", frozenset({3, 5})),
    slots=8,
    order=random.Random(0),
)
def test_answer_is_the_same_for_every_slot_count_and_arrival_order(
    problem: Problem, slots: int, order: random.Random
) -> None:
    reference = drive(problem.start(), problem.oracle)
    run = drive(problem.start(), problem.oracle, slots=slots, order=order)
    assert run.best == reference.best
    assert_correct(problem, run)
    assert_well_formed(problem.space, run, baselines(problem.space))


@search_settings
@given(
    problem=problems(),
    slots=st.sampled_from(SLOTS),
    order=st.randoms(use_true_random=False),
)
def test_withdrawing_obsolete_candidates_keeps_the_answer(
    problem: Problem, slots: int, order: random.Random
) -> None:
    reference = drive(problem.start(), problem.oracle)
    search = problem.start()
    answered: list[Config] = []

    def oracle(config: Config) -> Outcome:
        answered.append(config)
        return problem.oracle(config)

    run = drive(search, oracle, slots=slots, order=order, cancel_obsolete=True)
    assert run.best == reference.best
    assert len(answered) == len(set(answered)), "a configuration was answered twice"
    assert search.stats.calls == len(answered)


@search_settings
@given(
    problem=problems(),
    slots=st.sampled_from(SLOTS),
    order=st.randoms(use_true_random=False),
    budget=st.integers(1, 30),
)
def test_budget_is_never_exceeded(
    problem: Problem, slots: int, order: random.Random, budget: int
) -> None:
    search = start_search(problem.space, problem.mode, max_calls=budget)
    run = drive(search, problem.oracle, slots=slots, order=order)
    assert len(run.proposed) <= budget
    assert search.stats.calls <= budget
    # Whatever the budget left us with was actually observed.
    assert problem.oracle(run.best.good) is GOOD
    assert problem.oracle(run.best.bad) is BAD
    if not run.finished:
        assert not run.best.minimal
        assert len(run.proposed) == budget


# -- oracles that are not monotone ---------------------------------------------


@dataclass(frozen=True)
class Scrambled:
    """A deterministic oracle with no structure at all (but fixed baselines)."""

    space: Space
    target: Outcome
    salt: bytes
    unresolved: float

    def __call__(self, config: Config) -> Outcome:
        if config == frozenset():
            return self.target.opposite
        if config == self.space.everything:
            return self.target
        digest = hashlib.blake2b(repr(sorted(config)).encode(), key=self.salt).digest()
        draw = digest[0] / 256
        if draw < self.unresolved:
            return UNRESOLVED
        return self.target if digest[1] % 2 else self.target.opposite


@search_settings
@given(
    space=spaces(max_size=14),
    mode=st.sampled_from(MODES),
    salt=st.binary(min_size=1, max_size=8),
    unresolved=st.sampled_from([0.0, 0.2]),
    slots=st.sampled_from(SLOTS),
    order=st.randoms(use_true_random=False),
)
def test_scrambled_oracle_terminates_with_the_same_locally_minimal_answer(
    space: Space,
    mode: str,
    salt: bytes,
    unresolved: float,
    slots: int,
    order: random.Random,
) -> None:
    target = GOOD if mode == "fix" else BAD
    oracle = Scrambled(space, target, salt, unresolved)
    reference = drive(start_search(space, mode), oracle)
    run = drive(start_search(space, mode), oracle, slots=slots, order=order)
    assert run.finished
    assert run.best == reference.best
    assert_well_formed(space, run, baselines(space))
    best = run.best
    assert oracle(best.good) is GOOD
    assert oracle(best.bad) is BAD
    if mode == "isolate":
        assert best.good < best.bad
    assert best.minimal
    # Minimal means every single-change step was answered, and did not flip
    # (an unresolved answer counts as not flipping, as in dd).
    if mode == "isolate":
        for change in best.bad - best.good:
            assert oracle(space.including(best.good, [change])) is not GOOD
            assert oracle(space.without(best.bad, [change])) is not BAD
    else:
        result = best.good if mode == "fix" else best.bad
        for change in result:
            assert oracle(space.without(result, [change])) is not target
