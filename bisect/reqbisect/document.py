"""The request document (docs/design.md, "The request document"): its model and its rules.

A request is held as a plain JSON object, the *document*, that diffs and patches point
into. A :class:`Capture` pairs a document with the bytes it was captured with;
:mod:`reqbisect.wire` makes documents from captured bytes and bytes from documents,
and :mod:`reqbisect.codecs` and :mod:`reqbisect.bodies` say how bodies, forms and
cookies are encoded.

Rules
-----
* The keys are ``method``, ``url``, ``query``, ``headers``, ``cookies`` and at most one
  of ``body`` (a JSON value) and ``body_base64`` (bytes that are not text). ``method``
  is an HTTP token; ``url`` is an absolute http(s) URL without query, fragment or
  credentials, in ASCII (percent-encoded, the host in its ``xn--`` form).
* An optional ``transport`` object says how the request goes on the wire (HTTP version,
  header order, header-name spelling); :mod:`reqbisect.delivery` holds its rules.
* Header names are lower-cased, each appears once. ``host``, ``content-length``,
  hop-by-hop headers (RFC 9110 section 7.6.1) and HTTP/2 pseudo-headers never reach the
  document; they are derived when sending. The ``Cookie`` header is split into
  ``cookies``. Header values have no control characters and no surrounding spaces
  (HTTP does not keep them); cookie names have no space, ``;``, ``=`` or ``,`` and values
  no ``;``.
* ``query``, ``headers``, ``cookies`` and form bodies keep their order; a repeated name
  holds a list. Query and form values are percent-decoded (``+`` is a space). A query
  key without ``=`` gets the value ``""``; the exact spelling survives through the
  capture's bytes (see :mod:`reqbisect.wire`), so ``?flag`` is re-sent as ``?flag``.
* How a body is held follows its content type (see :mod:`reqbisect.bodies`). A JSON
  body has only finite numbers and at most :data:`MAX_DEPTH` levels of nesting, so that
  any parser reads it back the same and diff and apply can recurse through it.

:func:`validate_document` enforces these rules on a native document and names the JSON
pointer of what breaks one. This module does no I/O and holds no state.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reqbisect._types import Document
from reqbisect.delivery import check_transport
from reqbisect.errors import InputError
from reqbisect.pointer import format_pointer
from reqbisect.secret_names import is_secret_name

if TYPE_CHECKING:
    from reqbisect.wire import WireRequest

__all__ = ["DERIVED", "HOP_BY_HOP", "MAX_DEPTH", "Capture", "origin", "validate_document"]

#: Hop-by-hop headers (RFC 9110 section 7.6.1) and ``proxy-connection``.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"})
#: Headers that never reach the document: derived when sending.
DERIVED = frozenset({"host", "content-length"}) | HOP_BY_HOP
_KEYS = ("method", "url", "query", "headers", "cookies", "body", "body_base64", "transport")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_COOKIE_NAME = re.compile(r"[^\s;=,\x00-\x1f\x7f]+")
#: The deepest JSON body accepted: diff and apply recurse once per level.
MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Capture:
    """A loaded request: its document, the bytes it was captured with, and where from."""

    document: Document
    #: The exact wire form (``None`` for a native JSON document).
    wire: WireRequest | None
    #: Where it came from, for messages, e.g. ``good.har#3``.
    source: str
    #: Things the loader could not represent exactly, one line each, for stderr.
    warnings: tuple[str, ...] = ()
    #: The status the capturing client got for it, when the capture says (a HAR entry's response).
    answered: int | None = None


def origin(doc: Document) -> str:
    """``scheme://host:port`` of a document, with the default port made explicit."""
    parts = urlsplit(str(doc["url"]))
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


# -- validation ---------------------------------------------------------------------


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _values_ok(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _body_problem(body: object) -> tuple[str, list[str]] | None:
    """What makes a JSON body unsendable (a non-finite number, deep nesting), and where."""
    stack: list[tuple[object, int, tuple[Any, ...]]] = [(body, 0, ())]
    while stack:
        value, depth, trail = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            problem = f"{value} is not a JSON number"
        elif depth >= MAX_DEPTH and isinstance(value, (dict, list)):
            problem = f"nested more than {MAX_DEPTH} levels deep"
        elif isinstance(value, dict):
            stack.extend((item, depth + 1, (str(key), trail)) for key, item in value.items())
            continue
        elif isinstance(value, list):
            stack.extend((item, depth + 1, (str(index), trail)) for index, item in enumerate(value))
            continue
        else:
            continue
        keys: list[str] = []
        while trail:
            keys.append(trail[0])
            trail = trail[1]
        return problem, keys[::-1]
    return None


def validate_document(obj: object, *, source: str) -> Document:
    """Check a native request document and return it with header names lower-cased.

    Args:
        obj: a parsed JSON value.
        source: the file it came from, for messages.

    Returns:
        The document (a new top-level dict).

    Raises:
        InputError: naming ``source``, the JSON pointer, what was expected and what was found.
    """

    def fail(message: str, *keys: str, expected: str | None = None, got: object = None, hint: str | None = None
             ) -> InputError:
        # A value under a secret name (an authorization header, a password field) is not echoed.
        shown = "a secret value" if any(is_secret_name(key) for key in keys[1:]) else _show(got)
        return InputError(message, source=source, location=format_pointer(keys) or "/", expected=expected,
                          got=None if expected is None else shown, hint=hint)

    if not isinstance(obj, dict):
        raise fail("wrong type", expected="a request document (a JSON object)", got=obj)
    doc: Document = dict(obj)
    for key in doc:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = (
                "this looks like a HAR file; give it the .har extension" if key == "log"
                else f"did you mean {close[0]!r}?" if close
                else "known keys: " + ", ".join(_KEYS)
            )
            raise fail(f"unknown key {key!r}", key, hint=hint)
    for key in ("method", "url"):
        if key not in doc:
            raise fail(f"missing {key!r}", expected="a string")
    if not isinstance(doc["method"], str) or not _TOKEN.fullmatch(doc["method"]):
        raise fail("wrong type", "method", expected="an HTTP method such as \"GET\"", got=doc["method"])
    url = doc["url"]
    if not isinstance(url, str):
        raise fail("wrong type", "url", expected="an absolute http(s) URL", got=url)
    if re.search(r"[^\x21-\x7e]", url):
        raise fail("the URL has a space, a control or a non-ASCII character", "url",
                   hint="percent-encode it (a space is %20); a domain name goes in its xn-- form")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError as exc:
        raise fail(f"not a valid URL: {exc}", "url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise fail("not an absolute http(s) URL", "url", expected="e.g. \"https://api.example.com/v1\"", got=url)
    if "?" in url or "#" in url:
        raise fail("the URL has a query or fragment", "url", hint="put query parameters in /query")
    if "@" in parts.netloc:
        raise fail("the URL has credentials", "url", hint="use an authorization header")
    for key in ("query", "headers", "cookies"):
        value = doc.get(key, {})
        if not isinstance(value, dict):
            raise fail("wrong type", key, expected="an object", got=value)
        for name, item in value.items():
            if not _values_ok(item):
                raise fail("wrong type", key, name, expected="a string or a list of strings", got=item)
            values = item if isinstance(item, list) else [item]
            if key != "query" and any(_CONTROL.search(v) for v in values):
                raise fail("value has a line break or another control character", key, name)
            if key == "headers" and any(v != v.strip(" \t") for v in values):
                raise fail("value starts or ends with a space, which HTTP does not keep", key, name,
                           hint="remove the space")
            # Browsers accept more than RFC 6265's token names; only what breaks "a=1; b=2" is refused.
            if key == "cookies" and (not _COOKIE_NAME.fullmatch(name) or any(";" in v for v in values)):
                raise fail("not a cookie (a name without spaces, ';', '=' or ',', a value without ';')", key, name)
    headers: dict[str, Any] = {}
    for name, item in (doc.get("headers") or {}).items():
        low = name.lower()
        if not _TOKEN.fullmatch(name):
            raise fail("not a valid header name", "headers", name)
        if low in DERIVED or low == "cookie":
            hint = "put cookies in /cookies" if low == "cookie" else "it is derived when sending"
            raise fail(f"header {low!r} is not allowed", "headers", name, hint=hint)
        if low in headers:
            raise fail(f"header {low!r} appears twice", "headers", name, hint="use a list of values")
        headers[low] = item
    if "headers" in doc:
        doc["headers"] = headers
    if "transport" in doc:
        doc["transport"] = check_transport(
            doc["transport"], lambda message, keys, expected, got: fail(message, "transport", *keys, expected=expected,
                                                                        got=got))
    if "body" in doc and "body_base64" in doc:
        raise fail("both body and body_base64", "body_base64", hint="keep one of them")
    problem = _body_problem(doc.get("body"))
    if problem is not None:
        message, keys = problem
        raise fail(message, "body", *keys, hint="the body must be JSON that any parser reads back the same")
    if "body_base64" in doc:
        try:
            if not isinstance(doc["body_base64"], str):
                raise TypeError
            base64.b64decode(doc["body_base64"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise fail("not valid base64", "body_base64", expected="a base64 string",
                       got=doc["body_base64"]) from None
    return doc
