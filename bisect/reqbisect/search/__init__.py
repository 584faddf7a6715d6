"""The search core: pure, deterministic, no I/O.

``Space`` numbers the changes; ``minimise`` (``fix``/``break``) and ``isolate``
(``isolate``) are strategies; ``Search`` drives a strategy, proposing
candidates (configurations to test) and consuming their outcomes. Nothing here
imports an HTTP client or an event loop, reads a clock or draws random numbers:
the same outcomes always give the same answer.
"""

from __future__ import annotations

from reqbisect.outcome import Outcome
from reqbisect.search.dd import isolate
from reqbisect.search.ddmin import minimise
from reqbisect.search.engine import Candidate, Search, SearchStats, State
from reqbisect.search.space import Config, Space
from reqbisect.search.steps import Ask, AskAll, Best, Done, Step

__all__ = [
    "Ask",
    "AskAll",
    "Best",
    "Candidate",
    "Config",
    "Done",
    "Outcome",
    "Search",
    "SearchStats",
    "Space",
    "State",
    "Step",
    "isolate",
    "minimise",
]
