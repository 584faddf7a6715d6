"""What a strategy says to the engine: a question, several at once, or its answer.

A strategy (``ddmin.py``, ``dd.py``) is a chain of immutable steps; ``then``
is pure, so the engine (``engine.py``) can explore the futures of a step
before its answer is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reqbisect.outcome import Outcome
from reqbisect.search.space import Config

__all__ = ["Ask", "AskAll", "Best", "Done", "Step"]


@dataclass(frozen=True, slots=True)
class Best:
    """The best answer known at some point of a search."""

    #: Configuration known (or, before verification, believed) to be good.
    good: Config
    #: Configuration known to be bad.
    bad: Config
    #: True once every single-change step away from ``good``/``bad`` was tested
    #: with a definite outcome that does not flip it.
    minimal: bool = False


@dataclass(frozen=True, slots=True)
class Ask:
    """One question of a strategy: test ``config``, then continue with ``then``."""

    config: Config
    #: The strategy's estimate that the answer is GOOD (for speculation only).
    p_good: float
    then: Callable[[Outcome], Step]
    #: What the strategy would answer if it had to stop here.
    best: Best


@dataclass(frozen=True, slots=True)
class AskAll:
    """Questions whose answers do not change which of them are asked: test all, then ``then``.

    A strategy that removes each of several changes alone from one
    configuration asks them as one step: all are committed at once, so they
    go out in one round as far as ``-j`` allows, and ``then`` sees every
    answer, in the order of ``configs``.
    """

    configs: tuple[Config, ...]
    #: The strategy's estimate that each answer is GOOD (for speculation only).
    p_good: float
    then: Callable[[tuple[Outcome, ...]], Step]
    best: Best


@dataclass(frozen=True, slots=True)
class Done:
    """The strategy's final answer."""

    best: Best


Step = Ask | AskAll | Done
