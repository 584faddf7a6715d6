"""Judging responses: the baseline signature, ``--good-if``/``--bad-if``, callables.

Default judgement (docs/design.md, "Outcomes"): a response is GOOD when it has GOOD's
status, BAD when it has BAD's status *and* BAD's error signature, and
UNRESOLVED otherwise, so a candidate that fails some other way is never taken
for the failure we are chasing (no slippage). When both baselines share a
status, the signatures alone tell them apart. Rate limits (429) and overload
(503) are never judged unless a baseline itself answered that way.

The *signature* of a response is its status and its body with volatile values
masked: JSON bodies keep their structure and their non-volatile strings, with
every number and every id-, timestamp- or token-looking string replaced by a
placeholder; other bodies have the same patterns masked in their text.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from reqbisect._types import Document, JSONValue
from reqbisect.errors import BaselineError, InputError
from reqbisect.outcome import Outcome

__all__ = [
    "OVERLOAD",
    "Expression",
    "Recorded",
    "Oracle",
    "Reply",
    "SignatureOracle",
    "ExpressionOracle",
    "call_oracle",
    "informative",
    "signature",
]


#: Statuses that mean "not now" (RFC 6585 section 4, RFC 9110 section 15.6.4): retried,
#: and never judged unless a baseline itself answered so.
OVERLOAD = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a journal kept of an earlier answer: its outcome and signature digest, never its body."""

    outcome: Outcome
    signature: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back for one request: a response, or a transport error."""

    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: Seconds from sending to the end of the body.
    elapsed: float = 0.0
    #: A transport error after retries ("connection refused", "timed out"), else None.
    error: str | None = None
    #: Set when the answer comes from a journal (``--resume``) instead of the server.
    recorded: Recorded | None = None

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


# -- signatures -----------------------------------------------------------------

_VOLATILE = re.compile(
    r"""
    [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}   # uuid
  | \d{4}-\d{2}-\d{2}[T\ ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?  # timestamp
  | \b[A-Za-z]{3},\ \d{2}\ [A-Za-z]{3}\ \d{4}\ \d{2}:\d{2}:\d{2}\ GMT  # HTTP date
  | \b[A-Za-z0-9_]*\d[A-Za-z0-9_-]{7,}                              # ids and tokens with digits
  | \b[0-9a-f]{8,}\b                                                # hex
  | \d+(\.\d+)?                                                     # numbers
    """,
    re.VERBOSE | re.IGNORECASE,
)


def _mask_text(text: str) -> str:
    return _VOLATILE.sub("#", text)


def _mask(value: JSONValue) -> JSONValue:
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return "#"
    return _mask_text(value)


def signature(reply: Reply) -> str:
    """The status and the body with volatile values masked, as one string."""
    if reply.error is not None:
        return "error"
    data = reply.json
    if data is not None or reply.body.strip() == b"null":
        body = json.dumps(_mask(data), sort_keys=True, ensure_ascii=False)
    else:
        body = _mask_text(" ".join(reply.text.split()))
    return f"{reply.status} {body}"


def signature_digest(reply: Reply) -> str:
    """A short hash of :func:`signature`: what the default oracle compares and the journal keeps.

    The masked body can still hold a secret the server echoed (a token in letters
    only), so only its hash is stored.
    """
    if reply.recorded is not None:
        return reply.recorded.signature
    return hashlib.sha256(signature(reply).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def informative(replies: Sequence[Reply]) -> Sequence[Reply]:
    """The replies that say something: rate limits and overload are left out unless that is all there is."""
    kept = [reply for reply in replies if not reply.retryable]
    return kept or replies


@dataclass(frozen=True, slots=True)
class SignatureOracle:
    """The default oracle, learned from the baseline replies (each sent one or more times)."""

    good_status: int | None
    bad_status: int | None
    #: The digest of every signature BAD showed over its repeats (what varies is learned this way).
    bad_signatures: frozenset[str]
    good_signatures: frozenset[str]

    @classmethod
    def learn(cls, good: Sequence[Reply], bad: Sequence[Reply]) -> SignatureOracle:
        """Learn from the baseline replies; raise :class:`BaselineError` if they cannot work.

        Raises:
            BaselineError: a baseline got no response, answered differently on its
                repeats (flaky), or the two baselines cannot be told apart.
        """
        good, bad = informative(good), informative(bad)
        for name, replies in (("GOOD", good), ("BAD", bad)):
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
        good_status, bad_status = good[0].status or 0, bad[0].status or 0
        if good_status >= 400 > bad_status:
            raise BaselineError(
                f"GOOD is not good: it got {good[0].short()} while BAD got {bad[0].short()}",
                hint="did you swap them? (use --good-if/--bad-if to define good yourself)",
            )
        oracle = cls(
            good_status=good[0].status,
            bad_status=bad[0].status,
            bad_signatures=frozenset(signature_digest(reply) for reply in bad),
            good_signatures=frozenset(signature_digest(reply) for reply in good),
        )
        if good_status == bad_status and oracle.good_signatures & oracle.bad_signatures:
            raise BaselineError(
                f"GOOD and BAD get the same answer ({good[0].short()})",
                hint="nothing to bisect; use --good-if/--bad-if if the difference is elsewhere",
            )
        return oracle

    def __call__(self, reply: Reply, document: Document) -> Outcome:
        if reply.error is not None:
            return Outcome.UNRESOLVED
        status = reply.status
        if status in OVERLOAD and status not in (self.good_status, self.bad_status):
            return Outcome.UNRESOLVED
        sig = signature_digest(reply)
        if self.good_status != self.bad_status:
            if status == self.good_status:
                return Outcome.GOOD
            if status == self.bad_status and sig in self.bad_signatures:
                return Outcome.BAD
            return Outcome.UNRESOLVED
        if sig in self.good_signatures:
            return Outcome.GOOD
        if sig in self.bad_signatures:
            return Outcome.BAD
        return Outcome.UNRESOLVED


# -- expressions -------------------------------------------------------------------

_NAMES = ("status", "headers", "text", "json", "elapsed")
_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in ("len", "int", "float", "str", "bool", "any", "all", "min", "max", "abs", "isinstance", "dict", "list")
}


@dataclass(frozen=True, slots=True)
class Expression:
    """A Python expression over ``status``, ``headers``, ``text``, ``json`` and ``elapsed``."""

    source: str
    option: str
    code: Any = field(repr=False, compare=False)

    @classmethod
    def parse(cls, source: str, *, option: str) -> Expression:
        """Compile and check ``source``; raise :class:`InputError` naming ``option``.

        Raises:
            InputError: a syntax error, or a name that is not available.
        """
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            column = (exc.offset or 1)
            raise InputError(
                f"invalid expression: {exc.msg}", source=option, location=f"column {column}"
            ) from None
        bound = {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
        allowed = set(_NAMES) | set(_BUILTINS) | bound
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in allowed:
                raise InputError(
                    f"name {node.id!r} is not defined",
                    source=option,
                    hint="available: " + ", ".join(_NAMES),
                )
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                raise InputError(f"attribute {node.attr!r} is not available", source=option)
        return cls(source, option, compile(tree, option, "eval"))

    def holds(self, reply: Reply) -> bool | None:
        """True or False, or None when the expression fails on this reply (:meth:`failure` says why)."""
        try:
            return self._evaluate(reply)
        except Exception:  # the user's expression on an unexpected body
            return None

    def failure(self, reply: Reply) -> str | None:
        """Why the expression fails on ``reply``, with the expression and the answer; None when it does not."""
        try:
            self._evaluate(reply)
        except Exception as exc:
            detail = f"{type(exc).__name__} {exc}" if str(exc) else type(exc).__name__
            return f"{self.option} {self.source!r} failed with {detail} on {reply.short()}"
        return None

    def _evaluate(self, reply: Reply) -> bool:
        names = {
            "status": reply.status,
            "headers": {key.lower(): value for key, value in reply.headers},
            "text": reply.text,
            "json": reply.json,
            "elapsed": reply.elapsed,
        }
        return bool(eval(self.code, {"__builtins__": _BUILTINS}, names))  # noqa: S307


@dataclass(frozen=True, slots=True)
class ExpressionOracle:
    """``--good-if`` and/or ``--bad-if``: the one given decides, the other is its negation."""

    good_if: Expression | None
    bad_if: Expression | None

    def failure(self, reply: Reply) -> str | None:
        """Why an expression fails on ``reply`` (None when both evaluate), for messages."""
        for expression in (self.good_if, self.bad_if):
            why = expression.failure(reply) if expression is not None and reply.error is None else None
            if why is not None:
                return why
        return None

    def __call__(self, reply: Reply, document: Document) -> Outcome:
        if reply.error is not None:
            return Outcome.UNRESOLVED
        good = self.good_if.holds(reply) if self.good_if else None
        bad = self.bad_if.holds(reply) if self.bad_if else None
        if self.good_if and self.bad_if:
            if good and not bad:
                return Outcome.GOOD
            if bad and not good:
                return Outcome.BAD
            return Outcome.UNRESOLVED
        decided = good if self.good_if else (None if bad is None else not bad)
        if decided is None:
            return Outcome.UNRESOLVED
        return Outcome.GOOD if decided else Outcome.BAD
