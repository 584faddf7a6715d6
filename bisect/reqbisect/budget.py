"""The request budget: reserved, sent, and what is left.

A request is *reserved* before it waits for its rate slot or a place on the
wire, so that requests waiting together can never overrun ``--max-requests``;
it is *committed* when it reaches the server (its body has been written, or an
in-process app was called), and *released* when it is withdrawn before that (a
cancelled wait, a connection that was never made). ``sent`` therefore counts
exactly what the server received, and ``reserved + sent`` never exceeds the
limit. A :class:`Ticket` is one reservation; leaving its ``with`` block without
:meth:`Ticket.commit` releases it.
"""

from __future__ import annotations

import math

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from reqbisect.search import Space

__all__ = ["Bound", "Budget", "BudgetSpent", "Ticket", "plan_bound"]

#: How many changes that matter the stated bound provides for (see :func:`plan_bound`).
CAUSES = 2
#: Requests per committed question with speculation at ``-j`` > 1. The engine's threshold
#: (``search/engine.py``, "Why 0.34") admits at most two speculative questions per committed
#: one, and most of them are used: over 200 placements of two causes in the change tree of
#: each case without nested additions, ``-j 8`` sent at most 1.65 times the committed path
#: below (``tests/bench/cases.py`` measures the cases' own runs).
SPECULATION = 1.75


@dataclass(frozen=True, slots=True)
class Bound:
    """The most requests a run sends, and where they go (the number stated before not-safe requests)."""

    baselines: int
    search: int
    verification: int
    #: The changes that matter the search is provisioned for.
    causes: int

    @property
    def total(self) -> int:
        return self.baselines + self.search + self.verification


def split_depth(space: Space) -> int:
    """The most questions a binary search over ``space`` asks to narrow all of it to one change.

    The search splits a run of changes where the change tree cuts shallowest
    (``Space.split``), so the depth depends on the tree's shape, not only on
    its size: it is measured by splitting the way the search does.
    """
    deepest = 0
    stack: list[tuple[tuple[int, ...], int]] = [(tuple(range(space.size)), 0)]
    while stack:
        run, depth = stack.pop()
        if len(run) <= 1:
            deepest = max(deepest, depth)
            continue
        stack.extend((part, depth + 1) for part in space.split(run, 2))
    return deepest


def configurations(space: Space, cap: int) -> int:
    """How many configurations of ``space`` exist (a change only with its container), at most ``cap``.

    Each subtree has one configuration without its root and, with it, every
    combination of its children's configurations; the forest multiplies its roots'.
    Counted from the leaves up, saturating at ``cap`` so that large spaces stay cheap.
    """
    ways = [1] * space.size
    for i in reversed(range(space.size)):
        ways[i] = min(ways[i] + 1, cap)
        parent = space.parents[i]
        if parent is not None:
            ways[parent] = min(ways[parent] * ways[i], cap)
    total = 1
    for i, parent in enumerate(space.parents):
        if parent is None:
            total = min(total * ways[i], cap)
    return total


def plan_bound(
    space: Space, *, concurrency: int, repeat: int = 1, baseline_repeats: int = 1, singles: bool = True
) -> Bound:
    """The requests a run over ``space`` needs when at most :data:`CAUSES` changes matter.

    Derivation (``search/ddmin.py``, ``search/dd.py``, ``search/engine.py``):
    with ``D`` the split depth of the space, each change that matters costs
    the question that finds its chunk guilty, at most ``D`` halvings, one
    clean chunk removed beside it and its single-step check at the end:
    ``D + 3``; one more question removes what is left. With ``c`` causes the
    committed path is ``c * (D + 3) + 1`` questions, each judged ``repeat``
    times. With ``concurrency > 1`` the engine sends speculative candidates,
    at most :data:`SPECULATION` per committed question when splits are even.
    The baselines are GOOD and BAD ``baseline_repeats`` times each; on a
    consistent server the verification sends the answer's end of the pair
    ``max(2, repeat)`` times (the other end is a baseline) and, with ``singles``
    (``fix``/``break``), each single step away from it as often. A server that
    contradicts itself makes the verification re-ask, past this bound.

    However the search goes, it never sends one configuration twice (each is
    judged ``repeat`` times), so on a small space the search part is also at most
    the number of configurations times ``repeat`` (:func:`configurations`): one
    change gives two, three flat changes eight, where the formula says 14 and 22.

    The bound is a promise the run keeps, not an estimate: the command line
    uses it as the request budget, so a search that needs more (more causes, a
    server that is not consistent) stops there with the best result so far.
    """
    committed = CAUSES * (split_depth(space) + 3) + 1
    search = math.ceil(min(SPECULATION, concurrency) * committed) * repeat
    search = min(search, configurations(space, cap=search) * repeat)
    verification = max(2, repeat) * (1 + (CAUSES if singles else 0))
    return Bound(baselines=2 * baseline_repeats, search=search, verification=verification, causes=CAUSES)


class BudgetSpent(Exception):
    """No request may be sent: the budget is spent (or fully reserved by requests waiting to go)."""


class Budget:
    """At most ``limit`` requests (None: no limit)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        #: Requests that reached the server.
        self.sent = 0
        #: Requests waiting to go (rate slot, concurrency, connect).
        self.reserved = 0
        #: Called whenever ``sent`` or ``reserved`` changes (progress displays).
        self.on_change: Callable[[], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    @property
    def left(self) -> int | None:
        """Requests that may still be reserved; None without a limit."""
        return None if self.limit is None else self.limit - self.sent - self.reserved

    def reserve(self) -> Ticket:
        """One reservation.

        Raises:
            BudgetSpent: nothing is left.
        """
        left = self.left
        if left is not None and left <= 0:
            raise BudgetSpent(f"the request budget ({self.limit}) is spent")
        self.reserved += 1
        self._changed()
        return Ticket(self)


class Ticket:
    """One reserved request: commit it when it reaches the server, or it is released."""

    __slots__ = ("_budget", "_open")

    def __init__(self, budget: Budget) -> None:
        self._budget = budget
        self._open = True

    def commit(self) -> None:
        """The request reached the server (idempotent)."""
        if self._open:
            self._open = False
            self._budget.reserved -= 1
            self._budget.sent += 1
            self._budget._changed()

    def release(self) -> None:
        """The request never reached the server (idempotent; nothing after a commit)."""
        if self._open:
            self._open = False
            self._budget.reserved -= 1
            self._budget._changed()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
