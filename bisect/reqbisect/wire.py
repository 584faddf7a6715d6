"""The exact wire form of a request: from captured bytes to a document, and back.

A capture comes in as a :class:`WireRequest` (method, URL with its raw query string,
header lines, body bytes); :func:`from_wire` normalises it into a document by the rules
of :mod:`reqbisect.document`, decoding the body with :mod:`reqbisect.bodies`, and keeps
the bytes in the :class:`~reqbisect.document.Capture`. :func:`to_wire` goes the other way.

Rules
-----
* In: derived, hop-by-hop and HTTP/2 pseudo-headers are dropped from both the document
  and the kept wire form; the ``Cookie`` header goes to ``cookies``; the URL loses its
  fragment and credentials (with a warning), its scheme and host are lower-cased and an
  empty path becomes ``/``.
* Out: the result reuses the exact bytes of a ``like`` capture for every part of the
  document that equals the same part of that capture (the query string, the header
  lines, the body), compared strictly: key order and ``1`` versus ``1.0`` versus
  ``true`` count. A body is reused only when its content type and content coding are
  the same too.
* A part that differs is rebuilt in the style of the first capture that has one: JSON
  spacing, indentation, ``\\u`` escaping and final newline (:func:`json_style`), ``+`` or
  ``%20`` for spaces, hex case, the multipart boundary, header name case and the place
  of the ``Cookie`` line; single query pairs, form fields, cookies and multipart parts
  that did not change keep their original spelling. A JSON-typed body that was captured
  as text (it did not parse) is sent as that text.

This module does no I/O and holds no state.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reqbisect._types import Document
from reqbisect.bodies import decode_body, render_multipart, with_boundary
from reqbisect.codecs import (
    body_kind,
    charset_of,
    compress,
    content_codings,
    decompress,
    encode_text,
    group,
    join_cookies,
    join_pairs,
    parse_content_type,
    split_cookies,
    split_form,
    ungroup,
)
from reqbisect.delivery import shape_headers, transport_of
from reqbisect.document import DERIVED, Capture

__all__ = ["JsonStyle", "WireRequest", "from_wire", "json_style", "to_wire"]


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A request exactly as it goes on the wire, minus the headers HTTP derives."""

    method: str
    #: Absolute URL with the raw query string, no fragment.
    url: str
    #: Header lines in order, names in their original case, no ``host``/``content-length``.
    headers: tuple[tuple[str, str], ...]
    body: bytes
    #: The HTTP version to send with (``"1.1"``, ``"2"``), or None for the client's default (1.1).
    http: str | None = None


def _same(a: Any, b: Any) -> bool:
    """Strict equality: types (``1``, ``1.0``, ``true``) and key order count.

    Candidates share unchanged subtrees with their base document, so the
    identity check makes comparing an untouched body against its capture O(1).
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            ka == kb and _same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items())
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _first(headers: Mapping[str, Any] | None, name: str) -> str | None:
    value = (headers or {}).get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return value if isinstance(value, str) else None


def _split_url(url: str) -> tuple[str, str | None]:
    url = url.partition("#")[0]
    base, sep, query = url.partition("?")
    return base, (query if sep else None)


def _normal_base(base: str) -> str:
    parts = urlsplit(base)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme.lower()}://{host.lower()}{parts.path or '/'}"


# -- JSON style ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonStyle:
    """How a JSON text is written: indentation, spacing, escaping, final newline."""

    indent: int | str | None = None
    spaced: bool = False
    ensure_ascii: bool = False
    newline: bool = False

    def dump(self, value: Any) -> str:
        """``value`` as JSON text in this style."""
        if self.indent is not None:
            separators = (",", ": ")
        else:
            separators = (", ", ": ") if self.spaced else (",", ":")
        text = json.dumps(value, indent=self.indent, separators=separators, ensure_ascii=self.ensure_ascii)
        return text + "\n" if self.newline else text


def json_style(text: str) -> JsonStyle:
    """The style a JSON text is written in, so that new JSON can be written the same way.

    Args:
        text: a JSON text (anything else gives the compact style, or close to it).

    Returns:
        The indentation of its first member, whether a space follows its first ``,`` or
        ``:``, whether it escapes non-ASCII characters as ``\\uXXXX``, and whether it ends
        with a newline.
    """
    indent: int | str | None = None
    m = re.match(r"\s*[\[{]\r?\n([ \t]+)", text)
    if m:
        indent = "\t" if m.group(1).startswith("\t") else len(m.group(1))
    spaced, in_string, escaped = False, False, False
    for i, ch in enumerate(text):
        if in_string:
            in_string = escaped or ch != '"'
            escaped = not escaped and ch == "\\"
        elif ch == '"':
            in_string = True
        elif ch in ",:":
            spaced = text[i + 1 : i + 2] == " "
            break
    ensure_ascii = text.isascii() and bool(re.search(r"\\u(?!00[0-7])[0-9a-fA-F]{4}", text))
    return JsonStyle(indent, spaced, ensure_ascii, text.endswith("\n"))


# -- the two directions ----------------------------------------------------------------


def from_wire(wire: WireRequest, *, source: str) -> Capture:
    """Normalise a wire request into a document.

    Args:
        wire: the request as captured.
        source: where it came from, for messages.

    Returns:
        A capture whose ``wire`` keeps the exact bytes of everything the document holds
        (derived, hop-by-hop and pseudo-headers removed).
    """
    base, raw_query = _split_url(wire.url)
    doc: Document = {"method": wire.method, "url": _normal_base(base)}
    if raw_query:
        query = group((k, v) for k, v, _ in split_form(raw_query))
        if query:
            doc["query"] = query
    kept: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    cookies: list[tuple[str, str]] = []
    for name, value in wire.headers:
        low = name.lower()
        if low in DERIVED or low.startswith(":"):
            continue
        kept.append((name, value))
        if low == "cookie":
            cookies.extend((k, v) for k, v, _ in split_cookies(value))
        else:
            headers.append((low, value))
    if headers:
        doc["headers"] = group(headers)
    if cookies:
        doc["cookies"] = group(cookies)
    transport = transport_of(kept, wire.http)
    if transport:
        doc["transport"] = transport
    content_type = _first(doc.get("headers"), "content-type")
    doc.update(decode_body(wire.body, content_type, _first(doc.get("headers"), "content-encoding")))
    url = doc["url"] + ("?" + raw_query if raw_query is not None else "")
    warnings: tuple[str, ...] = ()
    if "@" in urlsplit(base).netloc:
        warnings = (f"{source}: the credentials in the URL (user:password@) are dropped; "
                    "send them as an authorization header",)
    return Capture(doc, WireRequest(wire.method, url, tuple(kept), wire.body, wire.http), source, warnings)


def to_wire(doc: Document, *, like: Sequence[Capture] = ()) -> WireRequest:
    """Build the wire form of a document, reusing the bytes of ``like`` captures.

    Args:
        doc: a valid request document.
        like: captures whose exact bytes are reused where the document's part equals
            theirs, and whose style a rebuilt part follows (the first one that has it).

    Returns:
        The request to send; ``host`` and ``content-length`` are left to the client.
    """
    likes = [c for c in like if c.wire is not None]
    url = _wire_url(doc, likes)
    headers = _wire_headers(doc, likes)
    body: bytes | None = None
    boundary = None
    for capture in likes:
        assert capture.wire is not None
        if _same_body(capture.document, doc):
            body = capture.wire.body
            break
    if body is None:
        style = _style_capture(doc, likes)
        raw, boundary = _render_body(doc, style, likes)
        codings = content_codings(_first(doc.get("headers"), "content-encoding"))
        body = compress(raw, codings) if codings and raw else raw
    if boundary is not None:
        for i, (name, value) in enumerate(headers):
            if name.lower() == "content-type":
                headers[i] = (name, with_boundary(value, boundary))
                break
    transport = doc.get("transport")
    http = transport.get("http") if isinstance(transport, dict) else None
    return WireRequest(str(doc["method"]), url, tuple(shape_headers(headers, transport)), body, http)


def _style_capture(doc: Document, likes: Sequence[Capture]) -> Capture | None:
    """The first capture with a body of the document's kind, else with any body."""
    kind = body_kind(_first(doc.get("headers"), "content-type"))
    with_body = [c for c in likes if "body" in c.document or "body_base64" in c.document]
    same = [c for c in with_body if body_kind(_first(c.document.get("headers"), "content-type")) == kind]
    found = same or with_body or list(likes)
    return found[0] if found else None


def _same_body(a: Document, b: Document) -> bool:
    """The same body, content type and content coding: the captured bytes can be reused."""
    if not all(_same(a.get(key, _ABSENT), b.get(key, _ABSENT)) for key in ("body", "body_base64")):
        return False
    ha, hb = a.get("headers") or {}, b.get("headers") or {}
    return all(_same(ha.get(name), hb.get(name)) for name in ("content-type", "content-encoding"))


_ABSENT = object()


def _wire_url(doc: Document, likes: Sequence[Capture]) -> str:
    query = doc.get("query") or {}
    raws = []
    for capture in likes:
        assert capture.wire is not None
        raw = _split_url(capture.wire.url)[1]
        if _same(capture.document.get("query") or {}, query):
            return str(doc["url"]) + ("?" + raw if raw is not None else "")
        raws.append(raw)
    if not query:
        return str(doc["url"])
    return f"{doc['url']}?{join_pairs(ungroup(query), raws, safe='/:@!$()*,;?', plus=False)}"


def _wire_headers(doc: Document, likes: Sequence[Capture]) -> list[tuple[str, str]]:
    headers, cookies = doc.get("headers") or {}, doc.get("cookies") or {}
    for capture in likes:
        assert capture.wire is not None
        other = capture.document
        if _same(other.get("headers") or {}, headers) and _same(other.get("cookies") or {}, cookies):
            return list(capture.wire.headers)
    case: dict[str, str] = {}
    for capture in likes:
        assert capture.wire is not None
        for name, _ in capture.wire.headers:
            case.setdefault(name.lower(), name)
    out = [(case.get(name, name), str(value)) for name, value in ungroup(headers)]
    if cookies:
        out[_cookie_position(out, likes):0] = _cookie_lines(cookies, likes, case.get("cookie", "cookie"))
    return out


def _cookie_lines(cookies: Mapping[str, Any], likes: Sequence[Capture], name: str) -> list[tuple[str, str]]:
    raws: list[str] = []
    for capture in likes:
        assert capture.wire is not None
        lines = [(n, v) for n, v in capture.wire.headers if n.lower() == "cookie"]
        if lines and _same(capture.document.get("cookies") or {}, cookies):
            return lines
        raws.extend(value for _, value in lines)
    return [(name, join_cookies(ungroup(cookies), raws))]


def _cookie_position(out: list[tuple[str, str]], likes: Sequence[Capture]) -> int:
    for capture in likes:
        assert capture.wire is not None
        names = [n.lower() for n, _ in capture.wire.headers]
        if "cookie" in names:
            at = names.index("cookie")
            if at == 0:
                return 0
            before = names[at - 1]
            lowered = [n.lower() for n, _ in out]
            if before in lowered:
                return len(lowered) - lowered[::-1].index(before)
            break
    return len(out)


# -- bodies out ------------------------------------------------------------------------


def _render_body(doc: Document, style: Capture | None, likes: Sequence[Capture] = ()) -> tuple[bytes, str | None]:
    """The body bytes before content coding, and the multipart boundary used (if any)."""
    if "body_base64" in doc:
        return base64.b64decode(doc["body_base64"]), None
    if "body" not in doc:
        return b"", None
    value = doc["body"]
    content_type = _first(doc.get("headers"), "content-type")
    kind, charset = body_kind(content_type), charset_of(content_type)
    sample = _plain_body(style)
    text = sample.decode("utf-8", "replace") if sample is not None else None
    if kind == "json" and not (isinstance(value, str) and _raw_json_text(style, text)):
        return encode_text(json_style(text or "").dump(value), charset), None
    if kind == "form" and isinstance(value, dict):
        others = [_plain_body(c) for c in likes if c is not style]  # their fields keep their spelling too
        raws = [text, *(o.decode("utf-8", "replace") for o in others if o is not None)]
        return join_pairs(ungroup(value), raws, safe="*", plus=True).encode("utf-8"), None
    if kind == "multipart" and isinstance(value, dict):
        sample_boundary = None
        if style is not None and sample is not None:
            sample_boundary = parse_content_type(_first(style.document.get("headers"), "content-type"))[1].get(
                "boundary"
            )
        return render_multipart(value, content_type, sample=sample, sample_boundary=sample_boundary)
    if isinstance(value, str):
        return encode_text(value, charset), None
    return encode_text(JsonStyle().dump(value), charset), None


def _raw_json_text(style: Capture | None, text: str | None) -> bool:
    """Whether the style capture held a JSON-typed body that did not parse (kept as text)."""
    if style is None or text is None or not isinstance(style.document.get("body"), str):
        return False
    if body_kind(_first(style.document.get("headers"), "content-type")) != "json":
        return False
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _plain_body(capture: Capture | None) -> bytes | None:
    """A capture's body bytes with the content coding removed."""
    if capture is None or capture.wire is None or not capture.wire.body:
        return None
    codings = content_codings(_first(capture.document.get("headers"), "content-encoding"))
    return decompress(capture.wire.body, codings) if codings else capture.wire.body
