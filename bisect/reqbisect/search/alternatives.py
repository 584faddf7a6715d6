"""Other answers the search saw on its way: single changes that also give the target outcome.

When a failure needs several culprits together ("all" logic: the request fails
only with both ``x-a`` and ``x-b``), reverting any one of them fixes it, and
``fix`` answers with one (docs/design.md, "Modes"). The search often met the
others while it looked: a speculative candidate that reverted only ``x-a``, a
chunk that held only one change. This module reads them from the outcomes the
search already recorded; it sends nothing, and it says only what was seen, so an
alternative that no candidate tested alone is not claimed.
"""

from __future__ import annotations

from collections.abc import Mapping

from reqbisect.outcome import Outcome
from reqbisect.search.space import Config, Space

__all__ = ["other_single_changes"]


def other_single_changes(
    space: Space, known: Mapping[Config, Outcome], answer: Config, *, target: Outcome = Outcome.GOOD
) -> list[Config]:
    """The single-change configurations, other than ``answer``, recorded with the ``target`` outcome.

    A single change is one change with the containers it lives in (the smallest
    configuration that holds it). Configurations that contain the answer or lie
    inside it are left out: they are the answer seen again, not another one.

    Args:
        space: the changes and their containers.
        known: every configuration whose outcome the search recorded.
        answer: the configuration the search answered with.
        target: the outcome the answer gives (GOOD for ``fix``).

    Returns:
        The configurations, ordered by the change they hold.
    """
    found = []
    for config, outcome in known.items():
        if outcome is not target or not config or config <= answer or config >= answer:
            continue
        change = max(config)
        if space.including(frozenset(), (change,)) == config:
            found.append((change, config))
    return [config for _, config in sorted(found, key=lambda item: item[0])]
