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
from types import TracebackType

__all__ = ["Budget", "BudgetSpent", "Ticket", "default_limit"]


def default_limit(changes: int) -> int:
    """A budget the search stays within for ``changes`` changes (the bound stated before unsafe requests)."""
    return 4 + 4 * max(1, changes) * max(1, math.ceil(math.log2(changes + 1)))


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

    def release(self) -> None:
        """The request never reached the server (idempotent; nothing after a commit)."""
        if self._open:
            self._open = False
            self._budget.reserved -= 1

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
