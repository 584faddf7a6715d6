"""The search core driven by hand: propose, feed planted outcomes, check the answer."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable, Iterable

import pytest

from reqbisect.search import Candidate, Config, Outcome, Search, Space, State, isolate, minimise

GOOD, BAD, UNRESOLVED = Outcome.GOOD, Outcome.BAD, Outcome.UNRESOLVED

Oracle = Callable[[Config], Outcome]


def cfg(*changes: int) -> Config:
    return frozenset(changes)


def fix(space: Space, *, max_calls: int | None = None) -> Search:
    known = {frozenset(): BAD, space.everything: GOOD}
    return Search(minimise(space, target=GOOD), known=known, max_calls=max_calls)


def break_(space: Space, *, max_calls: int | None = None) -> Search:
    known = {frozenset(): GOOD, space.everything: BAD}
    return Search(minimise(space, target=BAD), known=known, max_calls=max_calls)


def dd(space: Space, *, max_calls: int | None = None) -> Search:
    known = {frozenset(): GOOD, space.everything: BAD}
    return Search(isolate(space), known=known, max_calls=max_calls)


START = {"fix": fix, "break": break_, "isolate": dd}


def good_iff_all(culprits: Iterable[int]) -> Oracle:
    wanted = frozenset(culprits)
    return lambda config: GOOD if wanted <= config else BAD


def bad_iff_all(culprits: Iterable[int]) -> Oracle:
    wanted = frozenset(culprits)
    return lambda config: BAD if wanted <= config else GOOD


def run(search: Search, oracle: Oracle, *, slots: int = 1) -> list[Candidate]:
    """Answer the oldest candidate in flight until the search is done."""
    proposed: list[Candidate] = []
    in_flight: list[Candidate] = []
    while search.state is State.WAITING:
        fresh = search.propose(slots - len(in_flight))
        proposed.extend(fresh)
        in_flight.extend(fresh)
        assert in_flight, "the search is not done but proposes nothing"
        candidate = in_flight.pop(0)
        search.feed(candidate, oracle(candidate.config))
    for leftover in in_flight:
        search.cancel(leftover)
    return proposed


def configs(candidates: Iterable[Candidate]) -> list[list[int]]:
    return [sorted(c.config) for c in candidates]


def assert_one_minimal(space: Space, oracle: Oracle, result: Config, target: Outcome) -> None:
    assert oracle(result) is target
    for change in result:
        assert oracle(space.without(result, [change])) is not target, change


def assert_isolated(space: Space, oracle: Oracle, good: Config, bad: Config) -> None:
    assert good < bad
    assert oracle(good) is GOOD
    assert oracle(bad) is BAD
    for change in bad - good:
        assert oracle(space.including(good, [change])) is not GOOD, change
        assert oracle(space.without(bad, [change])) is not BAD, change


# A request: three header changes, then an added body array (3) whose third
# element (6) is an added object with one key (7).
#
#   0 headers.a   1 headers.b   2 headers.c
#   3 body
#     4 body[0]   5 body[1]   6 body[2]
#                               7 body[2].x
TREE = Space(
    parents=(None, None, None, None, 3, 3, 3, 6),
    paths=(
        ("headers", "a"),
        ("headers", "b"),
        ("headers", "c"),
        ("body",),
        ("body", 0),
        ("body", 1),
        ("body", 2),
        ("body", 2, "x"),
    ),
)


def is_closed(space: Space, config: Config) -> bool:
    return all(space.parents[i] is None or space.parents[i] in config for i in config)


# -- the protocol, step by step ------------------------------------------------


def test_fix_mode_first_question_removes_the_first_half() -> None:
    search = fix(Space.flat(8))
    # Removing everything is known to be BAD, so the first real question
    # removes the first half.
    (candidate,) = search.propose(1)
    assert candidate == Candidate(config=cfg(4, 5, 6, 7), rank=0, round=1, committed=True)
    assert search.propose(0) == []
    assert search.in_flight == (candidate,)


def test_fix_mode_speculates_on_both_answers_of_the_first_question() -> None:
    search = fix(Space.flat(8))
    first, if_good, if_bad = search.propose(8)
    assert first.config == cfg(4, 5, 6, 7) and first.committed
    # GOOD: the needed change is in 4..7 and 0..3 are gone; remove 4, 5 next.
    assert if_good == Candidate(config=cfg(6, 7), rank=1, round=1, committed=False)
    # BAD: something in 0..3 is needed; remove 0, 1 next.
    assert if_bad == Candidate(config=cfg(2, 3, 4, 5, 6, 7), rank=2, round=1, committed=False)
    # Nothing further is likely enough to be worth sending.
    assert search.propose(8) == []


def test_fix_mode_asks_exactly_these_questions_for_changes_3_and_5() -> None:
    oracle = good_iff_all({3, 5})
    search = fix(Space.flat(8))
    proposed = run(search, oracle)
    assert configs(proposed) == [
        [4, 5, 6, 7],  # BAD: 0..3 hold a needed change
        [2, 3, 4, 5, 6, 7],  # GOOD: 0, 1 go
        [3, 4, 5, 6, 7],  # GOOD: 2 goes, so 3 is needed
        [3],  # BAD: the rest (4..7) holds another one
        [3, 6, 7],  # BAD: it is in 4, 5
        [3, 5, 6, 7],  # GOOD: 4 goes, so 5 is needed
        [3, 5],  # GOOD: 6, 7 go
        [5],  # verification: 3 alone removed is BAD (5 alone removed was asked above)
    ]
    assert [c.rank for c in proposed] == list(range(8))
    assert [c.round for c in proposed] == list(range(1, 9))
    assert all(c.committed for c in proposed)
    assert search.state is State.DONE
    assert search.best.good == cfg(3, 5)
    assert search.best.bad == cfg()
    assert search.best.minimal
    assert search.stats.calls == 8
    assert search.stats.useful == 8


def test_break_mode_asks_exactly_these_questions_for_change_6() -> None:
    search = break_(Space.flat(8))
    proposed = run(search, bad_iff_all({6}))
    assert configs(proposed) == [[4, 5, 6, 7], [6, 7], [7], [6]]
    assert search.best.bad == cfg(6)
    assert search.best.good == cfg()
    assert search.best.minimal


@pytest.mark.parametrize("culprit", range(8))
@pytest.mark.parametrize("mode", ["fix", "break"])
def test_minimise_finds_a_single_planted_change(mode: str, culprit: int) -> None:
    space = Space.flat(8)
    oracle = good_iff_all({culprit}) if mode == "fix" else bad_iff_all({culprit})
    search = START[mode](space)
    run(search, oracle)
    result = search.best.good if mode == "fix" else search.best.bad
    assert result == cfg(culprit)
    assert search.best.minimal


@pytest.mark.parametrize("culprits", [{0, 63}, {5, 6, 7}, {1, 20, 33, 48, 62}, set(range(0, 64, 8))])
@pytest.mark.parametrize("slots", [1, 8])
def test_fix_mode_finds_several_planted_changes(culprits: set[int], slots: int) -> None:
    space = Space.flat(64)
    search = fix(space)
    proposed = run(search, good_iff_all(culprits), slots=slots)
    assert search.best.good == frozenset(culprits)
    assert search.best.minimal
    assert search.stats.calls + search.stats.cancelled == len(proposed)


# -- quality: requests spent -------------------------------------------------------

CLUSTERED = pytest.mark.xfail(
    strict=True,
    reason="each of several adjacent needed changes is found by a fresh binary search "
    "over the whole rest (log2 m requests each), then each is verified with its own request",
)


@pytest.mark.parametrize(
    "culprit",
    [
        0,
        1,
        3,
        12,
        20,
        24,
        31,
        32,
        47,
        63,
    ],
)
def test_single_change_costs_a_binary_search_wherever_it_is(culprit: int) -> None:
    # log2(64) questions to find it, one to drop everything else; the
    # verification (the empty configuration) is known.
    search = fix(Space.flat(64))
    proposed = run(search, good_iff_all({culprit}))
    assert search.best.good == cfg(culprit)
    assert len(proposed) <= 7


@pytest.mark.parametrize(
    "culprits",
    [
        {0, 40},
        {1, 20, 33},
        pytest.param({0, 1}, marks=CLUSTERED),
        pytest.param({5, 6, 7}, marks=CLUSTERED),
        {20, 40},
        {62, 63},
        {10, 30, 50},
        {60, 61, 62},
        {0, 16, 32, 48},
    ],
)
def test_several_changes_cost_within_half_again_the_information_bound(culprits: set[int]) -> None:
    # Telling which c of 64 changes matter takes log2(C(64, c)) yes/no answers.
    bound = math.ceil(math.log2(math.comb(64, len(culprits))))
    search = fix(Space.flat(64))
    proposed = run(search, good_iff_all(culprits))
    assert search.best.good == frozenset(culprits)
    assert len(proposed) <= 1.5 * bound


@pytest.mark.parametrize("slots", [1, 2, 8])
@pytest.mark.parametrize("mode", ["fix", "break", "isolate"])
def test_known_configurations_are_never_proposed(mode: str, slots: int) -> None:
    space = Space.flat(8)
    for culprit in range(8):
        oracle = good_iff_all({culprit}) if mode == "fix" else bad_iff_all({culprit})
        search = START[mode](space)
        known = set(search.known)
        proposed = run(search, oracle, slots=slots)
        assert not known & {c.config for c in proposed}
        assert len({c.config for c in proposed}) == len(proposed)
        assert search.stats.cache_hits >= 1 or mode == "isolate"


def test_feed_rejects_a_candidate_that_is_not_in_flight() -> None:
    search = fix(Space.flat(8))
    (candidate,) = search.propose(1)
    stranger = Candidate(config=cfg(1, 2), rank=0, round=1, committed=True)
    with pytest.raises(ValueError, match="not in flight"):
        search.feed(stranger, GOOD)
    search.feed(candidate, BAD)
    with pytest.raises(ValueError, match="not in flight"):
        search.feed(candidate, BAD)


def test_answer_to_the_committed_question_makes_the_other_branch_obsolete() -> None:
    search = fix(Space.flat(8))
    first, if_good, if_bad = search.propose(3)
    assert search.obsolete() == []
    search.feed(first, BAD)
    assert search.obsolete() == [if_good]
    search.cancel(if_good)
    assert search.in_flight == (if_bad,)
    assert search.stats.cancelled == 1
    # The speculative candidate on the path now taken became the next question.
    search.feed(if_bad, GOOD)
    assert search.stats.useful == 2
    (next_question,) = search.propose(1)
    assert next_question.committed
    # 0, 1 are gone and 2, 3 hold the needed change: try without 2.
    assert next_question.config == cfg(3, 4, 5, 6, 7)


def test_ranks_stay_unique_after_a_cancel() -> None:
    search = fix(Space.flat(8))
    first, if_good, if_bad = search.propose(3)
    search.cancel(if_good)
    (again,) = search.propose(3)
    assert again.config == if_good.config
    ranks = [first.rank, if_good.rank, if_bad.rank, again.rank]
    assert len(set(ranks)) == len(ranks), ranks


def test_modes_reject_bad_arguments() -> None:
    space = Space.flat(4)
    with pytest.raises(ValueError):
        minimise(space, target=UNRESOLVED)
    with pytest.raises(ValueError):
        isolate(space, good=cfg(1), bad=cfg(2, 3))
    with pytest.raises(ValueError):
        Space(parents=(None, 2, None), paths=((0,), (0, 0), (1,)))


# -- the change tree -------------------------------------------------------------


def test_fix_mode_finds_a_nested_change_with_its_containers() -> None:
    search = fix(TREE)
    proposed = run(search, lambda c: GOOD if 7 in c else BAD)
    assert search.best.good == cfg(3, 6, 7)
    assert search.best.minimal
    assert all(is_closed(TREE, c.config) for c in proposed)


@pytest.mark.parametrize("slots", [1, 8])
@pytest.mark.parametrize("culprit", range(8))
@pytest.mark.parametrize("mode", ["fix", "break", "isolate"])
def test_every_mode_finds_any_node_of_the_tree(mode: str, culprit: int, slots: int) -> None:
    needed = TREE.including(cfg(), [culprit])
    oracle = good_iff_all(needed) if mode == "fix" else bad_iff_all(needed)
    search = START[mode](TREE)
    proposed = run(search, oracle, slots=slots)
    assert all(is_closed(TREE, c.config) for c in proposed)
    best = search.best
    assert best.minimal
    if mode == "isolate":
        assert_isolated(TREE, oracle, best.good, best.bad)
        assert best.bad - best.good == cfg(culprit)
    else:
        result = best.good if mode == "fix" else best.bad
        assert result == needed
        assert culprit in result
        assert TREE.parents[culprit] is None or TREE.parents[culprit] in result


def test_a_container_that_matters_is_kept_without_its_unneeded_children() -> None:
    # Any element of the body array will do, but the array itself is needed.
    search = fix(TREE)
    run(search, lambda c: GOOD if 3 in c else BAD)
    assert search.best.good == cfg(3)


# -- budget ------------------------------------------------------------------------


@pytest.mark.parametrize("slots", [1, 3, 8])
@pytest.mark.parametrize("mode", ["fix", "break", "isolate"])
def test_budget_stops_the_search_after_five_calls(mode: str, slots: int) -> None:
    culprits = {5, 20, 40, 41}
    oracle = good_iff_all(culprits) if mode == "fix" else bad_iff_all(culprits)
    search = START[mode](Space.flat(64), max_calls=5)
    proposed = run(search, oracle, slots=slots)
    assert len(proposed) == 5
    assert search.stats.calls == 5
    assert search.state is State.SPENT
    assert not search.best.minimal
    assert search.propose(8) == []
    # The best so far is made of configurations with known outcomes.
    assert oracle(search.best.good) is GOOD
    assert oracle(search.best.bad) is BAD


# -- oracles that are not monotone ---------------------------------------------------


def test_non_monotone_oracle_gives_a_one_minimal_result() -> None:
    space = Space.flat(10)

    def oracle(config: Config) -> Outcome:
        return GOOD if config == space.everything or sum(config) % 4 == 1 else BAD

    search = fix(space)
    run(search, oracle)
    assert search.state is State.DONE
    assert search.best.minimal
    assert_one_minimal(space, oracle, search.best.good, GOOD)
    for slots in (2, 8):
        again = fix(space)
        run(again, oracle, slots=slots)
        assert again.best == search.best


def test_either_but_not_both_finds_one_of_the_two() -> None:
    space = Space.flat(8)

    def oracle(config: Config) -> Outcome:
        if config == space.everything:
            return GOOD
        return GOOD if (2 in config) != (7 in config) else BAD

    search = fix(space)
    run(search, oracle)
    assert search.best.good in (cfg(2), cfg(7))
    assert_one_minimal(space, oracle, search.best.good, GOOD)


def test_verification_catches_a_change_that_stopped_being_needed() -> None:
    # 1 is needed while 6 is present, but {0} alone is good: the search first
    # keeps what it believes needed, then verification shrinks it further.
    space = Space.flat(8)

    def oracle(config: Config) -> Outcome:
        if config == space.everything or config == cfg(0):
            return GOOD
        return GOOD if {0, 1} <= config else BAD

    search = fix(space)
    run(search, oracle)
    assert search.state is State.DONE and search.best.minimal
    assert_one_minimal(space, oracle, search.best.good, GOOD)


# -- unresolved answers ------------------------------------------------------------


def test_unresolved_verification_counts_as_losing_the_target() -> None:
    space = Space.flat(8)
    planted = good_iff_all({2, 5})

    def oracle(config: Config) -> Outcome:
        # Removing 2 from the answer {2, 5} cannot be judged.
        return UNRESOLVED if config == cfg(5) else planted(config)

    search = fix(space)
    proposed = run(search, oracle)
    assert proposed[-1].config == cfg(5)
    assert search.state is State.DONE
    assert search.best.good == cfg(2, 5)
    # As in dd: a half-built request that fails another way does not make 2 unnecessary.
    assert search.best.minimal
    assert search.stats.unresolved == 1


@pytest.mark.parametrize("slots", [1, 8])
@pytest.mark.parametrize("mode", ["fix", "break", "isolate"])
def test_unresolved_answers_still_end_with_the_target_outcome(mode: str, slots: int) -> None:
    space = Space.flat(16)
    planted = good_iff_all({2, 5, 11}) if mode == "fix" else bad_iff_all({2, 5, 11})
    target = GOOD if mode == "fix" else BAD

    def oracle(config: Config) -> Outcome:
        if config not in (frozenset(), space.everything) and len(config) % 3 == 0:
            return UNRESOLVED
        return planted(config)

    search = START[mode](space)
    run(search, oracle, slots=slots)
    assert search.state is State.DONE
    assert search.stats.unresolved > 0
    best = search.best
    assert oracle(best.good) is GOOD
    assert oracle(best.bad) is BAD
    if mode == "isolate":
        assert best.good < best.bad
        return
    result = best.good if mode == "fix" else best.bad
    assert frozenset({2, 5, 11}) <= result
    if best.minimal:
        assert_one_minimal(space, oracle, result, target)


def test_all_unresolved_keeps_everything() -> None:
    space = Space.flat(4)
    search = fix(space)
    proposed = run(search, lambda config: UNRESOLVED)
    assert search.state is State.DONE
    assert search.best.good == space.everything
    assert search.best.minimal
    assert search.stats.unresolved == len(proposed)


# -- isolate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "culprits",
    [{0}, {5}, {15}, {3, 12}, {0, 15}, {1, 6, 7}, {2, 4, 8, 14}],
)
@pytest.mark.parametrize("slots", [1, 8])
def test_isolate_narrows_to_a_one_minimal_difference(culprits: set[int], slots: int) -> None:
    space = Space.flat(16)
    oracle = bad_iff_all(culprits)
    search = dd(space)
    proposed = run(search, oracle, slots=slots)
    best = search.best
    assert best.minimal
    assert_isolated(space, oracle, best.good, best.bad)
    # With "all culprits needed" one of them is the whole difference.
    (culprit,) = best.bad - best.good
    assert culprit in culprits
    if len(culprits) == 1:
        assert len(proposed) <= 4 * slots


def test_isolate_asks_exactly_these_questions_for_change_2() -> None:
    space = Space.flat(8)
    search = dd(space)
    proposed = run(search, bad_iff_all({2}))
    assert configs(proposed) == [[0, 1, 2, 3], [0, 1], [0, 1, 2]]
    assert search.best.good == cfg(0, 1)
    assert search.best.bad == cfg(0, 1, 2)


def test_isolate_with_any_of_several_causes() -> None:
    space = Space.flat(16)

    def oracle(config: Config) -> Outcome:
        return BAD if config & {4, 9} else GOOD

    search = dd(space)
    run(search, oracle)
    assert search.best.minimal
    assert_isolated(space, oracle, search.best.good, search.best.bad)


# -- layering -------------------------------------------------------------------------


def test_importing_the_search_core_imports_no_http_or_event_loop() -> None:
    code = (
        "import sys, reqbisect.search\n"
        "loaded = sorted(m for m in ('httpx', 'anyio', 'httpcore', 'sniffio') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
