"""The three modes, and everything that depends on which one runs (docs/design.md, "Modes").

A mode answers four questions, here and nowhere else:

* which side the changes apply to (the *base*: BAD for ``fix``, GOOD otherwise),
  so that ``fix`` diffs BAD -> GOOD and ``break``/``isolate`` diff GOOD -> BAD;
* which outcome the search keeps (GOOD for ``fix``, BAD for ``break``; ``isolate``
  keeps both ends);
* how the search starts (ddmin-style minimisation, or Zeller's dd);
* which configuration is the answer, and which way its patch points: ``fix`` and
  ``isolate`` turn the minimal bad request into the minimal good one, ``break``
  turns GOOD into the failing request.
"""

from __future__ import annotations

import enum
from typing import TypeVar

from reqbisect.errors import InputError
from reqbisect.outcome import Outcome
from reqbisect.search import Best, Config, Space, Step, isolate, minimise

__all__ = ["Mode", "Side"]

T = TypeVar("T")


class Side(str, enum.Enum):
    """One of the two inputs."""

    #: The request that works.
    GOOD = "good"
    #: The request that fails.
    BAD = "bad"

    def __repr__(self) -> str:
        return f"Side.{self.name}"

    def pick(self, good: T, bad: T) -> T:
        """``good`` for GOOD, ``bad`` for BAD."""
        return good if self is Side.GOOD else bad


class Mode(str, enum.Enum):
    """What a run looks for."""

    #: The smallest patch P with BAD + P good: "what must I change to make it work?"
    FIX = "fix"
    #: The smallest patch P with GOOD + P failing like BAD: "which part breaks it?"
    BREAK = "break"
    #: Zeller's dd: a passing and a failing request between the two whose difference is 1-minimal.
    ISOLATE = "isolate"

    def __repr__(self) -> str:
        return f"Mode.{self.name}"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, value: str | Mode, *, source: str = "--mode") -> Mode:
        """``value`` as a Mode; an unknown name is an input error that lists the modes."""
        try:
            return cls(value)
        except ValueError:
            raise InputError(
                f"unknown mode {value!r}", source=source, expected=" or ".join(m.value for m in cls)
            ) from None

    @property
    def base(self) -> Side:
        """The side the changes apply to: the empty configuration is this request."""
        return Side.BAD if self is Mode.FIX else Side.GOOD

    @property
    def base_outcome(self) -> Outcome:
        """The outcome of the empty configuration (the base request)."""
        return Outcome.BAD if self is Mode.FIX else Outcome.GOOD

    @property
    def target(self) -> Outcome | None:
        """The outcome a minimisation keeps; None for ``isolate``, which keeps both ends."""
        return {Mode.FIX: Outcome.GOOD, Mode.BREAK: Outcome.BAD}.get(self)

    def strategy(self, space: Space) -> Step:
        """The first step of this mode's search over ``space``."""
        if self.target is None:
            return isolate(space)
        return minimise(space, target=self.target)

    def answer(self, best: Best) -> Config | None:
        """The configuration whose changes are the answer; None for ``isolate`` (a pair, not a set)."""
        if self is Mode.FIX:
            return best.good
        if self is Mode.BREAK:
            return best.bad
        return None

    def size(self, best: Best) -> int:
        """How many changes the current answer has (for progress)."""
        answer = self.answer(best)
        return len(answer) if answer is not None else len(best.bad - best.good)

    @property
    def finding(self) -> str:
        """The report's sentence for an answer, with ``{what}`` and ``{words}`` to fill in."""
        return {
            Mode.FIX: "The failing request works after {what}: {words}.",
            Mode.BREAK: "The working request fails after {what}: {words}.",
            Mode.ISOLATE: "A working and a failing request differ only in {what}: {words}.",
        }[self]

    @property
    def patch_applies_to(self) -> str:
        """The request the patch applies to, in words."""
        return {
            Mode.FIX: "the failing request (BAD)",
            Mode.BREAK: "the working request (GOOD)",
            Mode.ISOLATE: "the minimal failing request",
        }[self]

    def patch_ends(self, good: T, bad: T) -> tuple[T, T]:
        """(what the patch applies to, what it gives): GOOD -> BAD for ``break``, BAD -> GOOD otherwise."""
        return (good, bad) if self is Mode.BREAK else (bad, good)
