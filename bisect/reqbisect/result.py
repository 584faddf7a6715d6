"""The result of a bisection: the patch, the minimal requests, the numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reqbisect._types import Document, Patch
from reqbisect.oracle import Reply

__all__ = ["Result", "Stats"]


@dataclass(frozen=True, slots=True)
class Stats:
    """What a run cost."""

    #: Requests that went over the wire (or to the app), baselines and retries included.
    requests: int = 0
    #: Candidates answered from the cache instead of being sent.
    cache_hits: int = 0
    #: Candidates judged UNRESOLVED.
    unresolved: int = 0
    #: Rounds of concurrent requests on the longest chain.
    rounds: int = 0
    #: Wall-clock seconds.
    seconds: float = 0.0
    #: Candidates the search proposed (each a distinct request), cancelled ones included.
    candidates: int = 0
    #: Speculative candidates withdrawn before an answer.
    cancelled: int = 0
    #: Requests spent re-verifying the answer at the end (sent again on purpose).
    verification: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    """What ``bisect`` found.

    ``patch`` turns ``minimal_bad`` into ``minimal_good`` in ``fix`` and
    ``isolate`` mode, and ``minimal_good`` into ``minimal_bad`` in ``break`` mode
    (it always points into the request it applies to: BAD for ``fix``, GOOD for
    ``break``).
    """

    mode: str
    #: "found", "inconclusive" or "baselines-failed".
    outcome: str
    patch: Patch
    minimal_good: Document | None
    minimal_bad: Document | None
    stats: Stats
    #: The minimal good and bad requests were sent once more and behaved.
    verified: bool = False
    #: Every single-change step from the answer was tested and did not flip it.
    minimal: bool = False
    #: Why the result is not conclusive, in words.
    reason: str | None = None
    #: How many changes the diff had (before the search).
    changes: int = 0
    baseline_good: Reply | None = None
    baseline_bad: Reply | None = None
    reply_good: Reply | None = None
    reply_bad: Reply | None = None
    #: Warnings about the inputs (e.g. a HAR whose text and params disagree).
    warnings: tuple[str, ...] = field(default=())
    #: In ``fix`` mode, other single changes the search saw fix BAD too (each a patch like ``patch``).
    other_fixes: tuple[Patch, ...] = field(default=())

    def to_json(self, *, redact: bool = True, keep: Iterable[str] = ()) -> dict[str, Any]:
        """The result as the documented JSON object (``--json``); ``keep`` as ``--keep``."""
        from reqbisect.report.json import result_to_json

        return result_to_json(self, redact=redact, keep=keep)

    def to_markdown(self, *, redact: bool = True, keep: Iterable[str] = ()) -> str:
        """The bug-report text, secrets redacted (except under ``keep`` names and pointers, as ``--keep``)."""
        from reqbisect.report.markdown import render_markdown

        return render_markdown(self, redact=redact, keep=keep)
