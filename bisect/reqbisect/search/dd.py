"""Isolation (``isolate``): Zeller's dd between a passing and a failing configuration.

dd (Zeller and Hildebrandt 2002, section 4) narrows the difference between a
passing configuration ``good`` and a failing one ``bad`` (``good`` is a subset of
``bad``) until it is 1-minimal: adding any single change of the difference to
``good`` does not make it fail, and removing any single one from ``bad`` does
not make it pass. Both ends move: a test of ``good + part`` that passes moves
``good`` up, one that fails moves ``bad`` down; when it is unresolved, the
complement ``bad - part`` is tried. When every part is unresolved both ways the
granularity doubles, up to single changes. As in dd, an unresolved answer
counts as neither passing nor failing, so a difference whose single steps are
all unresolved is 1-minimal.

With one cause this is a binary search: about log2(n) requests. Parts are cut
at the shallowest places of the change tree (``Space.split``), and ``good + part``
brings along the containers the part's changes live in.
"""

from __future__ import annotations

from dataclasses import dataclass

from reqbisect.outcome import Outcome
from reqbisect.search.steps import Ask, Best, Done, Step
from reqbisect.search.space import Config, Space


@dataclass(frozen=True, slots=True)
class _State:
    space: Space
    good: Config
    bad: Config
    parts: int = 2

    @property
    def delta(self) -> tuple[int, ...]:
        return tuple(sorted(self.bad - self.good))

    def moved(self, *, good: Config | None = None, bad: Config | None = None, parts: int = 2) -> _State:
        return _State(self.space, self.good if good is None else good, self.bad if bad is None else bad, parts)


def isolate(space: Space, *, good: Config | None = None, bad: Config | None = None) -> Step:
    """The first step of dd over ``space``.

    Args:
        space: the changes.
        good: a configuration known to pass (empty by default).
        bad: a configuration known to fail, a superset of ``good`` (all changes by default).
    """
    good = frozenset() if good is None else good
    bad = space.everything if bad is None else bad
    if not good <= bad:
        raise ValueError("the passing configuration must be a subset of the failing one")
    return _round(_State(space, good, bad), 0)


def _round(state: _State, index: int) -> Step:
    delta = state.delta
    best = Best(good=state.good, bad=state.bad)
    if len(delta) <= 1:
        return Done(Best(good=state.good, bad=state.bad, minimal=True))
    pieces = state.space.split(delta, state.parts)
    if index == len(pieces):
        if state.parts >= len(delta):
            return Done(Best(good=state.good, bad=state.bad, minimal=True))
        return _round(state.moved(parts=min(len(delta), 2 * state.parts)), 0)
    piece = pieces[index]
    up = state.space.including(state.good, piece)

    def then_up(outcome: Outcome) -> Step:
        if outcome is Outcome.GOOD:
            return _round(state.moved(good=up, parts=max(state.parts - 1, 2)), 0)
        if outcome is Outcome.BAD:
            return _round(state.moved(bad=up), 0)
        down = state.space.without(state.bad, piece)

        def then_down(outcome: Outcome) -> Step:
            if outcome is Outcome.GOOD:
                return _round(state.moved(good=down), 0)
            if outcome is Outcome.BAD:
                return _round(state.moved(bad=down, parts=max(state.parts - 1, 2)), 0)
            return _round(state, index + 1)

        if down == state.good or down == up:
            return _round(state, index + 1)
        return Ask(config=down, p_good=0.5, then=then_down, best=best)

    if up == state.bad:
        return _round(state, index + 1)
    return Ask(config=up, p_good=0.5, then=then_up, best=best)
