"""The result of a bisection: the patch, the minimal requests, the numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reqbisect._types import Document, Patch
from reqbisect.oracle import Reply

__all__ = ["Result", "Shrink", "Size", "Stats"]


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
    #: Requests spent shrinking the minimal pair (``--shrink``), its re-verification included.
    shrink: int = 0


@dataclass(frozen=True, slots=True)
class Size:
    """How big a request is: what ``--shrink`` takes away, counted."""

    headers: int = 0
    cookies: int = 0
    query: int = 0
    #: Bytes of the body as sent.
    body: int = 0
    #: Bytes of the whole request as sent: request line, header lines, body.
    total: int = 0


def _bytes(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB"


@dataclass(frozen=True, slots=True)
class Shrink:
    """What ``--shrink`` did to the minimal pair (docs/design.md, "Shrink")."""

    #: Parts of the space (groups, elements, tokens) the pair shared and the patch allowed to take away.
    parts: int
    #: Parts kept in the end.
    kept: int
    #: Requests spent, the re-verification of the shrunk pair included.
    requests: int
    #: The shrunk pair was sent again and behaved; only then are the minimal requests the shrunk ones.
    verified: bool
    good_before: Size
    bad_before: Size
    good_after: Size
    bad_after: Size
    #: Why it stopped early, or why the result keeps the unshrunk pair (None when it ran to the end).
    note: str | None = None

    def summary(self) -> str:
        """``headers 21 → 3, body 114.0 KB → 0.4 KB (bad request 118.2 KB → 1.1 KB), 57 requests``."""
        before, after = self.bad_before, self.bad_after
        counts = [
            f"{name} {getattr(before, name)} → {getattr(after, name)}"
            for name in ("headers", "cookies", "query")
            if getattr(before, name) != getattr(after, name)
        ]
        if before.body != after.body:
            counts.append(f"body {_bytes(before.body)} → {_bytes(after.body)}")
        what = ", ".join(counts) or "nothing removed"
        text = (
            f"{what} (bad request {_bytes(before.total)} → {_bytes(after.total)}, good request "
            f"{_bytes(self.good_before.total)} → {_bytes(self.good_after.total)}); {self.requests} requests"
        )
        return f"{text}; {self.note}" if self.note else text


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
    #: How good and bad answers were told apart ("status 200 vs 422", "GraphQL errors", "body signature").
    oracle: str | None = None
    #: Why the verification sent as many requests as it did (``stats.verification``): "consistent",
    #: "contradictory", "corrected", "unfinished" or "none" (docs/design.md, "Verification").
    verification: str = "none"
    #: What made the evidence contradictory, in words (empty when every answer agreed).
    doubts: tuple[str, ...] = field(default=())
    #: What ``--shrink`` did; the minimal requests are the shrunk ones when ``shrink.verified``.
    shrink: Shrink | None = None
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
