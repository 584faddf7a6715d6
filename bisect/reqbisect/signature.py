"""Signatures: what an answer says, with what varies from request to request masked.

The default oracle (``reqbisect.oracle``) calls a candidate BAD only when its
answer fails the way BAD's did. "The way" is the *signature*: the status and
the body with two kinds of values masked.

* Volatile values: ids, timestamps, tokens, hex strings and every number, which
  change between two sends of the same request.
* Echoes: values of the candidate request that produced the answer. A
  validation error that quotes the offending input (pydantic's ``input``, a
  message naming the bad value, the whole parent object of a missing field)
  would otherwise make every candidate fail "differently". Strings and numbers
  equal to a value of the request, request objects and arrays repeated whole,
  and request strings of three or more characters quoted inside a message
  (a text of up to 16 KiB) all become ``<echo>``. Where request values come from: the URL path
  segments, query, headers, cookies and body.

Known error shapes (``reqbisect.error_shapes``) are then read for their stable
parts, one entry per error. A candidate whose entries are all among BAD's
(a validation failure reporting some of BAD's errors and no other) fails the
same way: it is the same failure, only with fewer of its causes present.

Only digests leave this module: a :class:`Signature`'s ``record`` (what a
journal keeps, enough to judge against it again on ``--resume``) holds hashes,
never body text, since a masked body may still hold a secret the server echoed.
:data:`SCHEME` names the way signatures are made; a journal written under
another scheme belongs to another run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from reqbisect._types import Document, JSONValue
from reqbisect.error_shapes import Shape, entries, verdict

if TYPE_CHECKING:
    from reqbisect.oracle import Reply

__all__ = ["ECHO", "SCHEME", "Echoes", "Signature", "mask_body", "signature", "signature_digest"]

#: The version of the signature scheme (1: volatile values only; 2: echoes and error shapes).
SCHEME = 2
#: What an echoed value becomes.
ECHO = "<echo>"
#: Request strings shorter than this are masked only where an answer repeats them whole.
_QUOTED_MIN = 3
#: At most this many distinct request strings are looked for inside answer text (longest first).
_QUOTED_LIMIT = 2000
#: Quoted echoes are looked for in answer texts up to this length (messages, not whole pages).
_QUOTED_TEXT_LIMIT = 16384

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


def _digest(text: str, size: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:size]


def _canonical(value: JSONValue) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _quoted_pattern(strings: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(rf"(?<!\w){re.escape(s)}(?!\w)" for s in strings))


class Echoes:
    """The values of one request document, ready to be looked for in an answer."""

    def __init__(self, document: Document | None) -> None:
        self._strings: set[str] = set()
        self._containers: dict[tuple[type, int], list[JSONValue]] = {}
        self._quoted: tuple[str, ...] = ()
        if document is None:
            return
        for value in _request_values(document):
            self._collect(value)
        quoted = sorted((s for s in self._strings if _QUOTED_MIN <= len(s)), key=lambda s: (-len(s), s))
        self._quoted = tuple(quoted[:_QUOTED_LIMIT])

    def _collect(self, value: JSONValue) -> None:
        if isinstance(value, str):
            if value:
                self._strings.add(value)
        elif isinstance(value, (dict, list)):
            if value:
                self._containers.setdefault((type(value), len(value)), []).append(value)
            for item in value.values() if isinstance(value, dict) else value:
                self._collect(item)

    def echoes(self, value: JSONValue) -> bool:
        """True when ``value`` (a non-empty object or array, or a string) occurs whole in the request."""
        if isinstance(value, str):
            return value in self._strings
        if isinstance(value, (dict, list)) and value:
            return any(value == known for known in self._containers.get((type(value), len(value)), ()))
        return False

    def mask_text(self, text: str) -> str:
        """``text`` with quoted request strings, then volatile values, masked."""
        if len(text) <= _QUOTED_TEXT_LIMIT:
            found = tuple(s for s in self._quoted if len(s) <= len(text) and s in text)
            if found:
                text = _quoted_pattern(found).sub(ECHO, text)
        return _VOLATILE.sub("#", text)

    def mask(self, value: JSONValue) -> JSONValue:
        """A JSON value with echoes and volatile values masked; keys are kept."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return "#"
        if self.echoes(value):
            return ECHO
        if isinstance(value, dict):
            return {key: self.mask(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.mask(item) for item in value]
        return self.mask_text(value)


def _request_values(document: Document) -> Iterator[JSONValue]:
    url = document.get("url")
    if isinstance(url, str):
        yield [unquote(part) for part in urlsplit(url).path.split("/") if part]
    for key in ("query", "headers", "cookies", "body"):
        if key in document:
            yield document[key]


@dataclass(frozen=True, slots=True)
class Signature:
    """The comparable form of an answer: digests only (see the module docstring)."""

    status: int | None
    #: Digest of the status and the whole masked body.
    whole: str
    #: The recognised error shape ("pydantic", "graphql", ...), or None.
    shape: str | None = None
    #: For GraphQL and JSON-RPC answers, "success" or "failure".
    verdict: str | None = None
    #: Digests of the stable part of each error entry of the shape.
    entries: frozenset[str] = field(default_factory=frozenset)

    @property
    def record(self) -> str:
        """The form a journal keeps: ``whole`` alone, or ``whole|shape|verdict|entry,entry``."""
        if self.shape is None and self.verdict is None:
            return self.whole
        return "|".join((self.whole, self.shape or "", self.verdict or "", ",".join(sorted(self.entries))))

    @classmethod
    def from_record(cls, status: int | None, record: str) -> Signature:
        """The signature a journal line recorded (the inverse of :attr:`record`)."""
        whole, _, rest = record.partition("|")
        if not rest:
            return cls(status, whole)
        shape, found, listed = (rest.split("|") + ["", ""])[:3]
        return cls(status, whole, shape or None, found or None, frozenset(e for e in listed.split(",") if e))

    def within(self, others: frozenset[str]) -> bool:
        """True when this answer has error entries and every one of them is among ``others``."""
        return bool(self.entries) and self.entries <= others


def mask_body(reply: Reply, echoes: Echoes) -> tuple[str, JSONValue, bool]:
    """(masked body text, parsed JSON or None, whether the body is JSON)."""
    data = reply.json
    if data is not None or reply.body.strip() == b"null":
        return _canonical(echoes.mask(data)), data, True
    return echoes.mask_text(" ".join(reply.text.split())), None, False


def signature(reply: Reply, document: Document | None = None) -> Signature:
    """The signature of ``reply``, answered to the request ``document`` (None: no echo masking).

    A reply replayed from a journal has its recorded signature.
    """
    if reply.recorded is not None:
        return Signature.from_record(reply.status, reply.recorded.signature)
    if reply.error is not None:
        return Signature(None, _digest("error"))
    echoes = Echoes(document)
    body, data, is_json = mask_body(reply, echoes)
    whole = _digest(f"{reply.status} {body}")
    if not is_json:
        return Signature(reply.status, whole)
    shape: Shape | None = entries(data, reply.status, echoes.mask_text)
    said = verdict(data)
    return Signature(
        reply.status,
        whole,
        shape.name if shape else None,
        said[1] if said else None,
        frozenset(_digest(_canonical(entry), 12) for entry in shape.entries) if shape else frozenset(),
    )


def signature_digest(reply: Reply, document: Document | None = None) -> str:
    """A short hash of the status and masked body: what reports show beside an answer."""
    return signature(reply, document).whole
