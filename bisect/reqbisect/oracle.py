"""Judging responses: the reply, the baseline signature oracle, callables.

``--good-if``/``--bad-if`` expressions live in :mod:`reqbisect.expressions`.

Default judgement (docs/design.md, "Outcomes"): a response is GOOD when it has GOOD's
status, BAD when it has BAD's status *and* fails the way BAD did (its
signature, or some of BAD's error entries and no other), and UNRESOLVED
otherwise, so a candidate that fails some other way is never taken for the
failure we are chasing (no slippage). When both baselines share a status, the
body decides: GraphQL ``errors`` and JSON-RPC ``error`` answers are failures,
else the signatures tell them apart. Rate limits (429) and overload (503) are
never judged unless a baseline itself answered that way.

Signatures (the body with volatile values and echoes of the request masked,
and known error shapes read for their stable parts) live in
``reqbisect.signature``.
"""

from __future__ import annotations

import enum
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Union

from reqbisect._types import Document, JSONValue
from reqbisect.errors import BaselineError
from reqbisect.outcome import Outcome
from reqbisect.signature import Signature, signature, signature_digest

__all__ = [
    "OVERLOAD",
    "BodyRead",
    "Recorded",
    "Oracle",
    "Reply",
    "SignatureOracle",
    "call_oracle",
    "describe_oracle",
    "informative",
    "signature",
    "signature_digest",
]


#: Statuses that mean "not now" (RFC 6585 section 4, RFC 9110 section 15.6.4): retried,
#: and never judged unless a baseline itself answered so.
OVERLOAD = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a journal kept of an earlier answer: its outcome and signature digest, never its body."""

    outcome: Outcome
    signature: str


class BodyRead(str, enum.Enum):
    """How much of a response body was read (docs/design.md, "Reading answers")."""

    #: All of it (after content decoding).
    WHOLE = "whole"
    #: Its first ``--max-body`` bytes (after decoding); the rest was never read.
    CUT = "cut"
    #: None of it: the oracle needed only the status line and headers.
    UNREAD = "unread"

    def __repr__(self) -> str:
        return f"BodyRead.{self.name}"


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back for one request: a response, or a transport error."""

    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: Seconds from sending to the end of the body (to the headers when the body was not read).
    elapsed: float = 0.0
    #: A transport error after retries ("connection refused", "timed out"), else None.
    error: str | None = None
    #: Set when the answer comes from a journal (``--resume``) instead of the server.
    recorded: Recorded | None = None
    #: How much of the body was read: ``body`` is all of it only when WHOLE.
    body_read: BodyRead = BodyRead.WHOLE

    @property
    def retryable(self) -> bool:
        """No answer, or "not now": worth another attempt, and not worth a journal line."""
        return self.error is not None or self.status in OVERLOAD

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def json(self) -> JSONValue:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            value: JSONValue = json.loads(self.body)
        except ValueError:
            return None
        return value

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def short(self, limit: int = 120) -> str:
        """``400 {"error": ...}`` cut to ``limit`` characters, for messages."""
        if self.error is not None:
            return f"transport error: {self.error}"
        text = " ".join(self.text.split())
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        return f"{self.status} {text}".rstrip()


#: An oracle: (reply, candidate document) -> Outcome or bool (True is GOOD), sync or async.
Oracle = Callable[[Reply, Document], Union[Outcome, bool, Awaitable[Union[Outcome, bool]]]]


async def call_oracle(oracle: Oracle, reply: Reply, document: Document) -> Outcome:
    """Call a sync or async oracle and normalise its answer to an :class:`Outcome`."""
    if reply.recorded is not None:
        return reply.recorded.outcome  # judged when it was recorded
    answer = oracle(reply, document)
    if inspect.isawaitable(answer):
        answer = await answer
    return to_outcome(answer)


def to_outcome(answer: object) -> Outcome:
    if isinstance(answer, Outcome):
        return answer
    if isinstance(answer, bool):
        return Outcome.GOOD if answer else Outcome.BAD
    if isinstance(answer, str) and answer.lower() in {o.value for o in Outcome}:
        return Outcome(answer.lower())
    if answer is None:
        return Outcome.UNRESOLVED
    raise TypeError(
        f"an oracle or test must return an Outcome, a bool, None (unresolved) or 'good'/'bad'/'unresolved', "
        f"not {answer!r}"
    )


# -- the default oracle ------------------------------------------------------------


def informative(replies: Sequence[Reply]) -> Sequence[Reply]:
    """The replies that say something: rate limits and overload are left out unless that is all there is."""
    kept = [reply for reply in replies if not reply.retryable]
    return kept or replies


def _check_baseline(name: str, replies: Sequence[Reply]) -> None:
    if all(reply.status in OVERLOAD for reply in replies):
        raise BaselineError(
            f"{name} got {replies[0].short()} on every try: the server is overloaded or rate-limiting",
            hint="try again later, or lower --rate / -j and raise --retries",
        )
    for reply in replies:
        if reply.error is not None:
            raise BaselineError(f"{name} got no response: {reply.error}")
    statuses = [reply.status for reply in replies]
    if len(set(statuses)) > 1:
        raise BaselineError(
            f"{name} is flaky: sent {len(replies)} times it answered "
            + ", ".join(str(status) for status in statuses),
            hint="the server answers this request differently from one send to the next; "
            "use --good-if/--bad-if to say which answers count as good (e.g. 'status < 400')",
        )


@dataclass(frozen=True, slots=True)
class SignatureOracle:
    """The default oracle, learned from the baseline replies (each sent one or more times).

    How it tells GOOD from BAD (:attr:`basis`):

    * different statuses: GOOD's status is good; BAD's status with BAD's
      signature (or with some of BAD's error entries and no other) is bad;
    * the same status, GraphQL or JSON-RPC answers where GOOD succeeded and BAD
      failed: a success is good, a failure with BAD's errors (or some of them) bad;
    * the same status otherwise: GOOD's signature is good, BAD's bad.
    """

    good_status: int | None
    bad_status: int | None
    #: The digest of every signature BAD showed over its repeats (what varies is learned this way).
    bad_signatures: frozenset[str]
    good_signatures: frozenset[str]
    #: Digests of every error entry BAD's answers held (see ``reqbisect.signature``).
    bad_entries: frozenset[str] = frozenset()
    #: "GraphQL" or "JSON-RPC" when GOOD and BAD share a status and that protocol tells them apart.
    protocol: str | None = None

    @classmethod
    def learn(
        cls,
        good: Sequence[Reply],
        bad: Sequence[Reply],
        *,
        documents: tuple[Document | None, Document | None] = (None, None),
    ) -> SignatureOracle:
        """Learn from the baseline replies; raise :class:`BaselineError` if they cannot work.

        Args:
            good, bad: the replies to GOOD and to BAD.
            documents: the GOOD and BAD request documents, whose echoes are masked.

        Raises:
            BaselineError: a baseline got no response, answered differently on its
                repeats (flaky), or the two baselines cannot be told apart.
        """
        good, bad = informative(good), informative(bad)
        _check_baseline("GOOD", good)
        _check_baseline("BAD", bad)
        good_status, bad_status = good[0].status or 0, bad[0].status or 0
        if good_status >= 400 > bad_status:
            raise BaselineError(
                f"GOOD is not good: it got {good[0].short()} while BAD got {bad[0].short()}",
                hint="did you swap them? (use --good-if/--bad-if to define good yourself)",
            )
        good_sigs = [signature(reply, documents[0]) for reply in good]
        bad_sigs = [signature(reply, documents[1]) for reply in bad]
        protocol = None
        if (
            good_status == bad_status
            and all(sig.verdict == "success" for sig in good_sigs)
            and all(sig.verdict == "failure" for sig in bad_sigs)
        ):
            protocol = "GraphQL" if all(sig.shape == "graphql" for sig in bad_sigs) else "JSON-RPC"
        oracle = cls(
            good_status=good[0].status,
            bad_status=bad[0].status,
            bad_signatures=frozenset(sig.whole for sig in bad_sigs),
            good_signatures=frozenset(sig.whole for sig in good_sigs),
            bad_entries=frozenset(entry for sig in bad_sigs for entry in sig.entries),
            protocol=protocol,
        )
        # The same body (volatile values aside) is the same answer even where echo masking makes
        # it differ: each side's echoes are masked against its own request, so GOOD's answer
        # repeated to BAD (a server that lies, a cache) would otherwise pass for a distinct failure.
        if good_status == bad_status and protocol is None and (
            oracle.good_signatures & oracle.bad_signatures
            or {signature(reply).whole for reply in good} & {signature(reply).whole for reply in bad}
        ):
            raise BaselineError(
                f"GOOD and BAD get the same answer ({good[0].short()})",
                hint="nothing to bisect; use --good-if/--bad-if if the difference is elsewhere",
            )
        return oracle

    def reads_body(self, status: int, headers: tuple[tuple[str, str], ...]) -> bool:
        """Whether an answer's body can change its outcome: not when it has GOOD's (distinct) status."""
        return self.good_status == self.bad_status or status != self.good_status

    @property
    def basis(self) -> str:
        """How good and bad are told apart, in words: "status 200 vs 422", "GraphQL errors", "body signature"."""
        if self.good_status != self.bad_status:
            return f"status {self.good_status} vs {self.bad_status}"
        if self.protocol == "GraphQL":
            return "GraphQL errors"
        if self.protocol is not None:
            return f"{self.protocol} error"
        return "body signature"

    def _fails_like_bad(self, sig: Signature) -> bool:
        # A known error shape is judged by its entries alone: the rest of its body (numbers
        # masked, echoes, partial data) says nothing about which error it is.
        if sig.entries and self.bad_entries:
            return sig.within(self.bad_entries)
        return sig.whole in self.bad_signatures

    def __call__(self, reply: Reply, document: Document) -> Outcome:
        if reply.error is not None:
            return Outcome.UNRESOLVED
        status = reply.status
        if status in OVERLOAD and status not in (self.good_status, self.bad_status):
            return Outcome.UNRESOLVED
        if self.good_status != self.bad_status:
            if status == self.good_status:
                return Outcome.GOOD
            if status == self.bad_status and self._fails_like_bad(signature(reply, document)):
                return Outcome.BAD
            return Outcome.UNRESOLVED
        if status != self.good_status:
            return Outcome.UNRESOLVED
        sig = signature(reply, document)
        if self.protocol is not None:
            if sig.verdict == "success":
                return Outcome.GOOD
            return Outcome.BAD if sig.verdict == "failure" and self._fails_like_bad(sig) else Outcome.UNRESOLVED
        if sig.whole in self.good_signatures:
            return Outcome.GOOD
        if self._fails_like_bad(sig):
            return Outcome.BAD
        return Outcome.UNRESOLVED


def describe_oracle(oracle: object) -> str:
    """How ``oracle`` tells good from bad, in words, for the summary, the report and ``--json``."""
    if isinstance(oracle, SignatureOracle):
        return oracle.basis
    name = getattr(oracle, "description", None)
    if isinstance(name, str):
        return name
    return "the oracle given"
