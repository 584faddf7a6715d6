"""Questions whose answers follow from earlier answers, answered without asking.

Taking away more never brings an outcome back (the monotone case the search
assumes anyway): a configuration inside one that lost its outcome loses it
too. The shrink (``reqbisect.shrink``) asks only what this does not settle.
"""

from __future__ import annotations

from reqbisect.outcome import Outcome
from reqbisect.search.space import Config
from reqbisect.search.steps import Ask, AskAll, Step

__all__ = ["implied"]


def implied(step: Step, lost: tuple[Config, ...] = ()) -> Step:
    """``step``, with every question whose answer follows from an earlier one answered without asking.

    Taking away more never brings an outcome back (the monotone case the search
    assumes anyway): a configuration inside one that lost its outcome loses it too.
    That answers the core's closing check of each needed part, and every question
    that takes away a needed part's container, for free. Only answers on the path
    of this search are used, so the same answers give the same questions at any ``-j``.
    """
    while True:
        if isinstance(step, Ask) and _lost(step.config, lost):
            step = step.then(Outcome.BAD)
        elif isinstance(step, AskAll) and all(_lost(config, lost) for config in step.configs):
            step = step.then((Outcome.BAD,) * len(step.configs))
        else:
            break
    if isinstance(step, Ask):
        ask = step

        def then(outcome: Outcome) -> Step:
            return implied(ask.then(outcome), lost if outcome is Outcome.GOOD else (*lost, ask.config))

        return Ask(config=ask.config, p_good=ask.p_good, then=then, best=ask.best)
    if isinstance(step, AskAll):
        return _implied_all(step, lost)
    return step


def _lost(config: Config, lost: tuple[Config, ...]) -> bool:
    return any(config <= known for known in lost)


def _implied_all(step: AskAll, lost: tuple[Config, ...]) -> AskAll:
    """``step`` asking only what earlier answers do not settle; the rest is answered as lost."""
    asked = tuple(config for config in step.configs if not _lost(config, lost))

    def then(outcomes: tuple[Outcome, ...]) -> Step:
        answers = dict(zip(asked, outcomes))
        every = tuple(answers.get(config, Outcome.BAD) for config in step.configs)
        more = tuple(config for config, outcome in answers.items() if outcome is not Outcome.GOOD)
        return implied(step.then(every), (*lost, *more))

    return AskAll(configs=asked, p_good=step.p_good, then=then, best=step.best)
