"""Minimisation (``fix`` and ``break``): the smallest configuration that keeps an outcome.

The problem is ddmin's (Zeller and Hildebrandt, "Simplifying and Isolating
Failure-Inducing Input", IEEE TSE 28(2), 2002, section 3): starting from all
changes, which we know give the *target* outcome (GOOD for ``fix``, BAD for
``break``), find a subset that still does and from which no single change can be
removed. We solve it as adaptive group testing rather than with ddmin's
fixed granularity:

* ``kept`` is the current configuration, known to give the target. Its changes
  are either *undecided* (``todo``) or *needed* (removing one alone loses the
  target).
* A *chunk* of undecided changes is removed in one request. If the target
  holds, the whole chunk is gone. If not, the chunk holds something needed, and
  binary splitting finds one needed change in about log2(chunk) requests,
  removing the halves that turn out not to matter on the way (Hwang's
  generalised binary splitting, 1972).
* Chunk sizes adapt to the density of needed changes seen so far: after a
  needed change is found the rest is tried in one piece (the common case of a
  single cause costs one request), and where needed changes are dense, chunks
  shrink down to single changes.
* Splits fall on the shallowest cut of the change tree (``Space.split``), so
  whole subtrees go before their parts, and a change inside an added container
  is only looked at once the container is known to matter.
* The fields of a container that matters are *probed* (:func:`_fields`): each
  is removed alone from ``kept``, all in one :class:`AskAll` step, and those
  that could go are dropped together. Servers require most fields of an object
  they need, so there needed changes are dense and group tests would mostly
  come back unresolved. Dropping several at once assumes monotonicity, so
  ``kept`` is then only believed to keep the target until the closing step
  asks it; if it did not, the search restarts from the last configuration an
  answer showed (``sure``) without probing.

Under a monotone test every needed change stays needed as ``kept`` shrinks, so
the result is 1-minimal. We do not take that on trust: at the end each needed
change is removed alone from the final ``kept`` with a real request, all in
one step (answers already known are reused). If one of those removals keeps
the target (the test is not monotone), it is dropped and the others go back to
``todo``; ``kept`` only ever shrinks, so this terminates. As in dd, an UNRESOLVED answer to such a
check counts as "the target is lost": a half-built request that fails some
other way does not make the change unnecessary.

An UNRESOLVED answer is treated as "not the target" for deciding (the chunk
stays), but a split that started from one does not assume the other half holds
the needed change: that half goes back to ``todo`` instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from reqbisect.outcome import Outcome
from reqbisect.search.steps import Ask, AskAll, Best, Done, Step
from reqbisect.search.space import Config, Space


@dataclass(frozen=True, slots=True)
class _State:
    space: Space
    target: Outcome
    base: Config
    kept: Config
    todo: tuple[int, ...]
    needed: tuple[int, ...] = ()
    found: int = 0
    decided: int = 0
    tried_rest: bool = False
    #: The last configuration an answer showed to keep the target, while
    #: ``kept`` is ahead of it after probing (None: ``kept`` itself was answered).
    sure: Config | None = None
    #: False after probing was contradicted: fields are then split like any other changes.
    probing: bool = True
    #: Fields probed so far, and how many of them were needed (the density of needed fields).
    probed: int = 0
    probed_needed: int = 0

    def best(self, minimal: bool = False) -> Best:
        kept = self.kept if self.sure is None else self.sure
        if self.target is Outcome.GOOD:
            return Best(good=kept, bad=self.base, minimal=minimal)
        return Best(good=self.base, bad=kept, minimal=minimal)

    def p_good(self, p_target: float) -> float:
        return p_target if self.target is Outcome.GOOD else 1.0 - p_target

    def removing(self, chunk: tuple[int, ...]) -> _State:
        """The state after ``chunk`` was removed with the target kept (an answer said so)."""
        kept = self.space.without(self.kept, chunk)
        todo = tuple(i for i in self.todo if i in kept)
        return replace(
            self, kept=kept, todo=todo, decided=self.decided + len(self.todo) - len(todo), sure=None
        )


def minimise(space: Space, *, target: Outcome, start: Config | None = None) -> Step:
    """The first step of a minimisation over ``space``.

    Args:
        space: the changes.
        target: the outcome to keep (GOOD for ``fix``, BAD for ``break``).
        start: the configuration known to give ``target``; all changes by default.
            The empty configuration is assumed to give the opposite outcome.

    Returns:
        The first step, for :class:`reqbisect.search.engine.Search`.
    """
    if target is Outcome.UNRESOLVED:
        raise ValueError("the target outcome must be GOOD or BAD")
    kept = space.everything if start is None else start
    state = _State(space=space, target=target, base=frozenset(), kept=kept, todo=tuple(sorted(kept)))
    return _next_chunk(state)


def _estimate(state: _State) -> float:
    """Expected number of needed changes still among ``todo``.

    Derivation: ``found`` needed changes turned up among the ``decided`` ones,
    so the density of needed changes is estimated as ``(found + 1) / (decided +
    m)`` over all ``decided + m`` changes seen or left (the ``+ 1`` is Laplace's
    rule of succession: before any evidence we expect one culprit, since the
    baselines prove at least one). Times the ``m`` still undecided, that is the
    expected count ``d``; it never drops below 1 while ``todo`` is not empty
    because the search only gets here when something may still be needed.

    The chunk size follows Hwang's generalised binary splitting: with ``d``
    needed among ``m``, a chunk of ``2**floor(log2((m - d + 1) / d))`` is about
    the size that holds no needed change with probability one half, so each
    request yields about one bit. If each change is needed independently with
    probability ``d / m``, a chunk of ``size`` changes holds none with
    probability ``(1 - d / m) ** size``: that is the ``p_target`` passed to the
    engine for speculation.
    """
    m = len(state.todo)
    return max(1.0, (state.found + 1) * m / (state.decided + m))


def _next_chunk(state: _State) -> Step:
    if not state.todo:
        return _verify(state)
    state = replace(state, todo=state.space.outer_first(state.todo))
    if state.probing:
        fields = _fields(state)
        if fields:
            return _probe(state, fields)
    m = len(state.todo)
    d = _estimate(state)
    if not state.tried_rest and d < 2.0:
        size = m
        p_target = 0.5
    elif m <= 2 * d - 2:
        size = 1
        p_target = 1.0 - d / m
    else:
        size = min(m, 2 ** int(math.log2((m - d + 1) / d)))
        p_target = (1.0 - d / m) ** size
    chunk = state.space.head(state.todo, size)
    state = replace(state, tried_rest=True)
    config = state.space.without(state.kept, chunk)

    def then(outcome: Outcome) -> Step:
        if outcome is state.target:
            return _next_chunk(state.removing(chunk))
        return _split(state, chunk, certain=outcome is state.target.opposite)

    return Ask(config=config, p_good=state.p_good(p_target), then=then, best=state.best())


#: The most fields of a container that matters that are probed one by one.
PROBE_LIMIT = 8
#: The share of needed changes from which testing each alone is the cheapest group test
#: (Hwang: ``(3 - sqrt(5)) / 2``).
DENSE = (3 - math.sqrt(5)) / 2


def _fields(state: _State) -> tuple[int, ...]:
    """The fields of containers that matter among the tops of ``todo``, when they are few and dense.

    The fields of an added object or array that the answer needs are mostly
    required by the server (its schema rejects the object without them), so
    needed changes are dense there. Where at least about two in five are
    needed, testing each alone is the cheapest group test (Hwang), and tests
    of single removals from one configuration do not depend on each other's
    answers, so they are asked all at once. The density is estimated from the
    fields probed so far (Laplace's rule, so one half before any), and once
    it drops below that share the fields are split like any other changes.
    """
    if (state.probed_needed + 1) / (state.probed + 2) < DENSE:
        return ()
    top = state.space.tops(state.todo)
    fields = tuple(sorted(i for i in set(top.values()) if state.space.parents[i] is not None))
    return fields if len(fields) <= PROBE_LIMIT else ()


def _probe(state: _State, fields: tuple[int, ...]) -> Step:
    """Remove each of ``fields`` alone from ``kept``, all at once; then drop every one that could go.

    Dropping several removable fields together assumes the test is monotone:
    the configuration is only believed to keep the target (``sure`` keeps the
    last one an answer showed) until :func:`_verify` asks it.
    """
    configs = tuple(state.space.without(state.kept, (change,)) for change in fields)

    def then(outcomes: tuple[Outcome, ...]) -> Step:
        removable = tuple(f for f, outcome in zip(fields, outcomes) if outcome is state.target)
        needed = tuple(f for f in fields if f not in removable)
        kept = state.space.without(state.kept, removable)
        todo = tuple(i for i in state.todo if i in kept and i not in needed)
        if len(removable) == 1:
            sure = None  # the new ``kept`` is the very configuration that answer was about
        elif removable:
            sure = state.kept if state.sure is None else state.sure
        else:
            sure = state.sure
        return _next_chunk(
            replace(
                state,
                kept=kept,
                todo=todo,
                needed=state.needed + needed,
                found=state.found + len(needed),
                decided=state.decided + len(state.todo) - len(todo),
                tried_rest=False,
                sure=sure,
                probed=state.probed + len(fields),
                probed_needed=state.probed_needed + len(needed),
            )
        )

    return AskAll(configs=configs, p_good=state.p_good(0.5), then=then, best=state.best())


def _split(state: _State, chunk: tuple[int, ...], *, certain: bool) -> Step:
    """``chunk`` holds a needed change (``certain``) or might (an unresolved answer)."""
    if len(chunk) == 1:
        (change,) = chunk
        state = replace(
            state,
            todo=tuple(i for i in state.todo if i != change),
            needed=state.needed + (change,),
            found=state.found + 1,
            decided=state.decided + 1,
            tried_rest=False,
        )
        return _next_chunk(state)
    first, second = state.space.split(chunk, 2)
    config = state.space.without(state.kept, first)

    def then(outcome: Outcome) -> Step:
        if outcome is state.target:
            after = state.removing(first)
            rest = tuple(i for i in second if i in after.kept)
            if certain and rest:
                return _split(after, rest, certain=True)
            return _next_chunk(after)
        return _split(state, first, certain=outcome is state.target.opposite)

    p_target = len(second) / len(chunk) if certain else 0.5
    return Ask(config=config, p_good=state.p_good(p_target), then=then, best=state.best())


def _verify(state: _State) -> Step:
    """Remove each needed change alone from the final configuration, all at once.

    After probing, the final configuration itself was never answered: it is
    asked in the same step, and if it lost the target the search starts again
    from the last configuration an answer showed, without probing.
    """
    singles = tuple(state.space.without(state.kept, (change,)) for change in state.needed)
    unsure = state.sure is not None
    configs = ((state.kept,) if unsure else ()) + singles
    if not configs:
        return Done(state.best(minimal=True))

    def then(outcomes: tuple[Outcome, ...]) -> Step:
        if unsure and outcomes[0] is not state.target:
            assert state.sure is not None
            restart = replace(state, kept=state.sure, todo=tuple(sorted(state.sure)), needed=(), sure=None)
            return _next_chunk(replace(restart, probing=False))
        for config, outcome in zip(singles, outcomes[unsure:]):
            if outcome is state.target:
                retry = replace(state, kept=config, todo=tuple(sorted(config)), needed=(), sure=None)
                return _next_chunk(retry)
        return Done(replace(state, sure=None).best(minimal=True))

    return AskAll(configs=configs, p_good=state.p_good(0.05), then=then, best=state.best())
