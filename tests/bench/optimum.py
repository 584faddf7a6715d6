"""How close the search core comes to the best possible strategy on tiny spaces.

Run it from the repository root::

    python tests/bench/optimum.py                  # n = 6, about half a minute
    python tests/bench/optimum.py --n 7 --prior 4  # about ten minutes

Fix mode over ``n`` flat changes, "all" family: the request is good iff every
culprit is applied. A strategy must name the culprits and prove the answer
1-minimal with real requests: the answer itself and each "answer minus one
culprit" must have been sent (the empty request and the full one are known).

This script computes, by dynamic programming over every reachable state, the
strategy with the least expected number of requests under a prior that does
*not* know how many culprits there are (beta-binomial: each change is a culprit
with an unknown probability drawn from Beta(1, B)). The strategy may remove,
from the configuration known to be good, any of: one change; either half of a
group known to hold a culprit; the first 2, 4, ... undecided changes (all of
them, or only those in no known group); or all undecided changes. That is the
family the search core draws from, so the table shows what a planner that looks
all the way ahead would gain over the core's one-step rules.

Columns, per number of culprits ``c`` (mean over every placement):

* ``floor``: the least mean any strategy reaches when it *knows* ``c``: the mean
  depth of an optimal yes/no tree over the C(n, c) answers, plus the ``c``
  "answer minus one" requests, which tell the answers apart not at all;
* ``best B=...``: the exact best strategy under each prior;
* ``reqbisect``: the search core.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bisect"))

from reqbisect.search import Outcome, Search, Space, minimise  # noqa: E402
from reqbisect.search import State as SearchState  # noqa: E402
from search import floor_calls  # noqa: E402  (the sibling bench script)

#: (undecided changes, groups known to hold a culprit, pinned culprits, relevant configurations sent)
State = tuple[int, frozenset[int], int, frozenset[int]]


def bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


class Planner:
    """The exact best strategy for ``n`` flat changes under a Beta(1, ``b``) prior."""

    def __init__(self, n: int, b: float) -> None:
        self.n = n
        logs = [math.lgamma(1 + k) + math.lgamma(b + n - k) for k in range(n + 1)]
        self.weight = [math.exp(x - max(logs)) for x in logs]
        self.cost = lru_cache(maxsize=None)(self._cost)
        self.hypotheses = lru_cache(maxsize=None)(self._hypotheses)

    def start(self) -> State:
        everything = (1 << self.n) - 1
        # Removing everything is known to be BAD: the whole set holds a culprit.
        return self.settle(everything, [everything], 0, frozenset({0, everything}))

    def settle(self, todo: int, groups: Iterable[int], pinned: int, sent: frozenset[int]) -> State:
        """Pin the culprits single-change groups name; keep only what can still matter."""
        groups = set(groups)
        while single := next((g for g in groups if g.bit_count() == 1), None):
            todo &= ~single
            pinned |= single
            groups = {g for g in groups if not g & single}
        minimal: list[int] = []
        for g in sorted(groups, key=lambda g: (g.bit_count(), g)):
            if not any(h & g == h for h in minimal):
                minimal.append(g)
        whole = todo | pinned
        # Only a configuration that could still be "answer minus one" matters later.
        sent = frozenset(x for x in sent if not x & ~whole and (pinned & ~x).bit_count() <= 1)
        return todo, frozenset(minimal), pinned, sent

    def after(self, state: State, removed: int, kept_target: bool) -> State:
        todo, groups, pinned, sent = state
        sent = sent | {(todo | pinned) & ~removed}
        if kept_target:
            return self.settle(todo & ~removed, [g & ~removed for g in groups], pinned, sent)
        return self.settle(todo, [*groups, removed], pinned, sent)

    def options(self, todo: int, groups: frozenset[int]) -> list[int]:
        items = bits(todo)
        found = {1 << i for i in items}
        for group in groups:
            members = bits(group)
            half = len(members) // 2
            found.add(sum(1 << i for i in members[:half]))
            found.add(sum(1 << i for i in members[half:]))
        free = [i for i in items if not any(g >> i & 1 for g in groups)]
        for run in (items, free):
            size = 2
            while size < len(run):
                found.add(sum(1 << i for i in run[:size]))
                size *= 2
            found.add(sum(1 << i for i in run))
        found.discard(0)
        return sorted(found)

    def _hypotheses(self, todo: int, groups: frozenset[int]) -> tuple[tuple[int, float], ...]:
        found, subset = [], todo
        while True:
            if all(subset & g for g in groups):
                found.append((subset, self.weight[subset.bit_count()]))
            if subset == 0:
                return tuple(found)
            subset = (subset - 1) & todo

    def _cost(self, state: State) -> tuple[float, int]:
        """Expected requests still to send, and the best next removal (0 when done)."""
        todo, groups, pinned, sent = state
        if todo == 0:
            unproven = sum(1 for e in bits(pinned) if pinned & ~(1 << e) not in sent)
            return float(unproven), 0
        hypotheses = self.hypotheses(todo, groups)
        total = sum(w for _, w in hypotheses)
        best = (math.inf, 0)
        for removed in self.options(todo, groups):
            p = sum(w for h, w in hypotheses if not h & removed) / total
            if p <= 1e-12:
                continue
            cost = 1 + p * self.cost(self.after(state, removed, True))[0]
            if p < 1 - 1e-12:
                cost += (1 - p) * self.cost(self.after(state, removed, False))[0]
            if cost < best[0] - 1e-9:
                best = (cost, removed)
        return best

    def play(self, culprits: frozenset[int]) -> float:
        """Requests the strategy sends for this placement, proof included."""
        mask = sum(1 << i for i in culprits)
        state, calls = self.start(), 0.0
        while state[0]:
            _, removed = self.cost(state)
            calls += 1
            state = self.after(state, removed, kept_target=not mask & removed)
        return calls + self.cost(state)[0]


def reqbisect_calls(n: int, culprits: frozenset[int]) -> int:
    space = Space.flat(n)
    search = Search(minimise(space, target=Outcome.GOOD), known={frozenset(): Outcome.BAD, space.everything: Outcome.GOOD})
    calls = 0
    while search.state is SearchState.WAITING:
        (candidate,) = search.propose(1)
        calls += 1
        search.feed(candidate, Outcome.GOOD if culprits <= candidate.config else Outcome.BAD)
    assert search.best.good == culprits and search.best.minimal
    return calls


def mean_over_placements(n: int, c: int, calls: Callable[[frozenset[int]], float]) -> float:
    placements = [frozenset(p) for p in itertools.combinations(range(n), c)]
    return sum(calls(p) for p in placements) / len(placements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=6, help="number of changes (default 6; 7 takes minutes)")
    parser.add_argument("--prior", type=float, nargs="+", default=[2.0, 4.0, 8.0], metavar="B")
    args = parser.parse_args()
    culprits = range(1, min(4, args.n) + 1)
    planners = {b: Planner(args.n, b) for b in args.prior}
    header = f"{'c':>2} {'floor':>7} " + " ".join(f"{f'best B={b:g}':>10}" for b in planners) + f" {'reqbisect':>10}"
    print(f"n = {args.n}, fix mode, 'all' family; mean requests over every placement, proof included")
    print(header)
    print("-" * len(header))
    for c in culprits:
        best = [mean_over_placements(args.n, c, planner.play) for planner in planners.values()]
        ours = mean_over_placements(args.n, c, lambda p: reqbisect_calls(args.n, p))
        print(f"{c:>2} {floor_calls('all', args.n, c):>7.2f} " + " ".join(f"{x:>10.2f}" for x in best) + f" {ours:>10.2f}")


if __name__ == "__main__":
    main()
