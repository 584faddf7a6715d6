"""The three verdicts a candidate can get (docs/design.md, "Outcomes")."""

from __future__ import annotations

import enum


class Outcome(str, enum.Enum):
    """How a candidate request behaved."""

    #: The server answered as for GOOD (or ``--good-if`` held).
    GOOD = "good"
    #: The server failed the same way as for BAD (or ``--bad-if`` held).
    BAD = "bad"
    #: Anything else: another failure, a transport error, a rate limit.
    UNRESOLVED = "unresolved"

    def __repr__(self) -> str:
        return f"Outcome.{self.name}"

    def __str__(self) -> str:
        return self.value

    @property
    def opposite(self) -> Outcome:
        """GOOD for BAD and BAD for GOOD; UNRESOLVED stays UNRESOLVED."""
        if self is Outcome.GOOD:
            return Outcome.BAD
        if self is Outcome.BAD:
            return Outcome.GOOD
        return self
