"""Fields of an added container that matters: probed one by one in a single step, checked together."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reqbisect.search import AskAll, Best, Candidate, Config, Done, Outcome, Search, Space, State, minimise
from reqbisect.search.implied import implied

GOOD, BAD, UNRESOLVED = Outcome.GOOD, Outcome.BAD, Outcome.UNRESOLVED

#: 0: an added object (/body/response_format) with five fields 1..5; 6..9: unrelated headers.
SPACE = Space(
    parents=(None, 0, 0, 0, 0, 0, None, None, None, None),
    paths=(
        ("body", "response_format"),
        ("body", "response_format", "type"),
        ("body", "response_format", "schema"),
        ("body", "response_format", "name"),
        ("body", "response_format", "strict"),
        ("body", "response_format", "description"),
        ("headers", "a"),
        ("headers", "b"),
        ("headers", "c"),
        ("headers", "d"),
    ),
)
FIELDS = (1, 2, 3, 4, 5)


def like_a_schema(config: Config) -> Outcome:
    """GOOD with the object and its required fields 1 and 2; the object without them is rejected otherwise."""
    if 0 not in config:
        return BAD
    return GOOD if {1, 2} <= config else UNRESOLVED


def batches(search: Search, oracle: Callable[[Config], Outcome], slots: int) -> list[list[Candidate]]:
    """Every propose() answer, answering the oldest candidate in flight each time."""
    seen: list[list[Candidate]] = []
    in_flight: list[Candidate] = []
    while search.state is State.WAITING:
        fresh = search.propose(slots - len(in_flight))
        if fresh:
            seen.append(fresh)
        in_flight.extend(fresh)
        candidate = in_flight.pop(0)
        search.feed(candidate, oracle(candidate.config))
    for leftover in in_flight:
        search.cancel(leftover)
    return seen


def fix() -> Search:
    return Search(minimise(SPACE, target=GOOD), known={frozenset(): BAD, SPACE.everything: GOOD})


@pytest.mark.parametrize("slots", [1, 8])
def test_the_fields_of_a_needed_object_are_probed_in_one_committed_step(slots: int) -> None:
    search = fix()
    proposed = [c for batch in batches(search, like_a_schema, slots) for c in batch]
    assert search.best.good == frozenset({0, 1, 2})
    assert search.best.minimal
    # Each field removed alone from one configuration that holds the object and all its fields.
    probes = [c for c in proposed if 0 in c.config and len(set(FIELDS) - c.config) == 1]
    assert sorted(next(iter(set(FIELDS) - c.config)) for c in probes) == list(FIELDS)
    assert len({c.config | set(FIELDS) for c in probes}) == 1
    assert all(c.committed for c in probes)
    if slots == 8:
        # All five were committed by one proposal: they went out in one round.
        assert len({c.round for c in probes}) == 1


def test_probing_costs_no_more_than_deciding_each_field_alone() -> None:
    search = fix()
    batches(search, like_a_schema, 1)
    # Four headers go in one request or two, the object is found in a few, then five probes
    # and the closing check: far from the 2 ** 10 configurations there are.
    assert search.stats.calls <= 12


def test_fields_that_can_each_go_but_not_together_restart_without_probing() -> None:
    # 3 or 4 will do (either name), so each can go alone, but not both: dropping every
    # field that could go alone loses GOOD, and the search starts again from what it knew.
    def either(config: Config) -> Outcome:
        if 0 not in config:
            return BAD
        return GOOD if 1 in config and (3 in config or 4 in config) else UNRESOLVED

    answers: dict[int, Config] = {}
    for slots in (1, 3, 8):
        search = fix()
        asked = [c.config for batch in batches(search, either, slots) for c in batch]
        assert search.state is State.DONE and search.best.minimal
        answers[slots] = search.best.good
        assert frozenset({0, 1}) in asked  # the fields dropped together, asked and lost
    assert len(set(answers.values())) == 1
    result = answers[1]
    assert result in (frozenset({0, 1, 3}), frozenset({0, 1, 4}))
    for change in result:
        assert either(SPACE.without(result, [change])) is not GOOD


def test_sparse_fields_are_split_instead_of_probed() -> None:
    # 0 holds eight fields and only field 4 is needed: after one probe found one in
    # eight, the fields of the next container that matters (4's own) are split.
    parents = (None,) + (0,) * 8 + (4,) * 8
    paths = (("o",),) + tuple(("o", i) for i in range(1, 9)) + tuple(("o", 4, i) for i in range(9, 17))
    space = Space(parents=parents, paths=paths)
    search = Search(minimise(space, target=GOOD), known={frozenset(): BAD, space.everything: GOOD})
    asked = [c.config for batch in batches(search, lambda c: GOOD if 12 in c else BAD, 1) for c in batch]
    assert search.best.good == frozenset({0, 4, 12})
    # Eight probes of 4's fields would each leave out one of 9..16 from the same configuration.
    full = frozenset({0, 4, *range(9, 17)})
    singles = [c for c in asked if c < full and len(full - c) == 1]
    assert len(singles) < 8


def test_implied_answers_the_questions_of_a_step_that_earlier_answers_settle() -> None:
    seen: list[tuple[Outcome, ...]] = []
    a, b, c = frozenset({1}), frozenset({2}), frozenset({3})

    def then(outcomes: tuple[Outcome, ...]) -> Done:
        seen.append(outcomes)
        return Done(best=step.best)

    step = AskAll(configs=(a, b, c), p_good=0.5, then=then, best=Best(good=frozenset(), bad=frozenset()))
    # {1} lies inside a configuration that lost: it is answered BAD without asking.
    wrapped = implied(step, (frozenset({1, 9}),))
    assert isinstance(wrapped, AskAll) and wrapped.configs == (b, c)
    wrapped.then((GOOD, UNRESOLVED))
    assert seen == [(BAD, GOOD, UNRESOLVED)]
    # Everything settled: nothing is asked at all.
    assert isinstance(implied(step, (frozenset({1, 2, 3}),)), Done)
    assert seen[-1] == (BAD, BAD, BAD)
