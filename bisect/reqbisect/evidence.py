"""What the answers of a run say about each other: the cross-checks behind the verification.

In a *monotone* world the answers predict each other. The search space runs
from the base request (the empty configuration, the *bottom* outcome: BAD in
``fix``, GOOD in ``break``/``isolate``) to the other one (every change, the
*top* outcome). Adding changes never turns a top answer back into a bottom one,
so every superset of a top configuration is top and every subset of a bottom
one is bottom. Two answers *contradict* each other when a top configuration
is a subset of a bottom one: one of them is wrong, or the server is not
monotone there; re-asking them tells which.

An answer is *corroborated* when another, independently asked configuration
predicts it: a top answer by a known top subset, any other answer (bottom, or
unresolved: "not top") by a known superset that was not top either. A single-change step away from the answer (``K`` minus one
change, expected bottom) is often corroborated by the larger configuration the
search removed the same change from; the answer ``K`` itself never is (a top
subset would make it not minimal), so it is always sent again.

:class:`Ledger` keeps every vote a configuration got (search, verification)
and decides one by a lead: it is *settled* when one outcome has at least
:data:`LEAD` more votes than each other outcome. With a server that lies on a
share ``p`` of its answers, a lead of two is wrong with probability about
``p**2 / (p**2 + (1 - p)**2)`` (0.3% at p = 5%), and costs two agreeing votes
when nothing lies.

Pure: no I/O, no clock; the verification phase (``reqbisect.verification``)
does the sending.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reqbisect.outcome import Outcome
from reqbisect.search import Config

__all__ = ["ANSWER_LEAD", "LEAD", "MAX_VOTES", "UNRESOLVED_LIMIT", "Ledger", "contradictions", "corroborated", "hopeless"]

#: Votes one outcome needs beyond each other outcome to settle a configuration.
LEAD = 2
#: The lead the answer itself needs once a fresh send of it disagreed: the answer is what a
#: run reports, so a lie told twice must not settle it (wrong with about ``(p / (1 - p))**3``).
ANSWER_LEAD = 3
#: Votes after which a configuration that has not settled is called flaky.
MAX_VOTES = 9
#: More unresolved candidates than this share of those judged make a run inconclusive.
UNRESOLVED_LIMIT = 0.8


def hopeless(counts: Mapping[Outcome, int]) -> bool:
    """Whether so many candidates were unresolved that the answer says little, whatever is re-asked."""
    judged = sum(counts.values())
    return judged >= 4 and counts.get(Outcome.UNRESOLVED, 0) > UNRESOLVED_LIMIT * judged


def contradictions(known: Mapping[Config, Outcome], *, top: Outcome) -> list[tuple[Config, Config]]:
    """Pairs ``(a, b)`` with ``a`` a subset of ``b``, ``a`` answered ``top`` and ``b`` the opposite.

    Args:
        known: the outcome of each configuration answered so far.
        top: the outcome of the configuration with every change.
    """
    bottom = top.opposite
    tops = [config for config, outcome in known.items() if outcome is top]
    bottoms = [config for config, outcome in known.items() if outcome is bottom]
    return [(a, b) for a in tops for b in bottoms if len(a) <= len(b) and a <= b]


def corroborated(
    config: Config, outcome: Outcome, known: Mapping[Config, Outcome], *, top: Outcome, by: int = 1
) -> bool:
    """Whether ``by`` other answers in ``known`` predict that ``config`` gives ``outcome`` (module docstring).

    A top answer is predicted by a top subset. Any other answer (bottom or
    unresolved: "not top") is predicted by a superset that was not top either,
    since a monotone world keeps every superset of a top configuration top.
    """
    if outcome is top:
        return sum(o is top and other < config for other, o in known.items()) >= by
    return sum(o is not top and other > config for other, o in known.items()) >= by


@dataclass
class Ledger:
    """Every vote each configuration got, and the outcome they settle on."""

    votes: dict[Config, list[Outcome]] = field(default_factory=dict)

    def add(self, config: Config, outcomes: Iterable[Outcome]) -> None:
        self.votes.setdefault(config, []).extend(outcomes)

    def count(self, config: Config) -> int:
        return len(self.votes.get(config, ()))

    def disputed(self) -> list[Config]:
        """Configurations whose votes disagree."""
        return [config for config, votes in self.votes.items() if len(set(votes)) > 1]

    def leader(self, config: Config) -> tuple[Outcome, int]:
        """The outcome with most votes (GOOD, then BAD, then UNRESOLVED on a tie) and its lead."""
        votes = self.votes.get(config, [])
        counts = sorted(((votes.count(o), -i, o) for i, o in enumerate(Outcome)), reverse=True)
        (first, _, outcome), (second, _, _) = counts[0], counts[1]
        return outcome, first - second

    def settled(self, config: Config, *, lead: int = LEAD) -> bool:
        return self.leader(config)[1] >= lead

    def exhausted(self, config: Config, *, lead: int = LEAD) -> bool:
        """No more votes are worth asking for: it settled, or it reached :data:`MAX_VOTES`."""
        return self.settled(config, lead=lead) or self.count(config) >= MAX_VOTES
