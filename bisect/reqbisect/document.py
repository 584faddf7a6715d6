"""The request document (DESIGN.md, "The request document") and its exact wire form.

A capture comes in as a :class:`WireRequest` (method, URL with its raw query string,
header lines, body bytes) and is normalised into a :class:`Document`, a plain JSON
object that diffs and patches point into. :func:`to_wire` goes the other way.

Rules
-----
* Header names are lower-cased. ``host``, ``content-length``, hop-by-hop headers
  (RFC 9110 section 7.6.1) and HTTP/2 pseudo-headers never reach the document; they
  are derived when sending. The ``Cookie`` header is split into ``cookies``.
* ``query``, ``headers``, ``cookies`` and form bodies keep their order; a repeated name
  holds a list. Query and form values are percent-decoded (``+`` is a space). A query
  key without ``=`` gets the value ``""``; the exact spelling survives through the
  capture's bytes (see Fidelity), so ``?flag`` is re-sent as ``?flag``.
* Bodies by content type (see :func:`body_kind`): JSON is parsed (a body that does not
  parse stays text); form bodies become an object of fields (a body with a piece
  without ``=`` stays text); multipart bodies (RFC 7578) an object of parts, where a
  part is a string for a plain field, or an object with ``filename``, ``content_type``,
  ``headers`` (other part headers, lower-cased) and ``content`` (text) or
  ``content_base64``; text is a string in the declared charset; anything else is
  ``body_base64``. With no Content-Type a body is text when it is UTF-8 without control
  characters. The multipart boundary stays in the ``content-type`` header; when a part
  comes to contain it, a new one is derived from the content and the header on the wire
  follows. ``Content-Encoding: gzip|deflate|br`` bodies are decoded into the document
  (the header stays) and encoded again on the way out; a body under an unknown or
  broken coding is kept as ``body_base64`` of the bytes as captured.

Fidelity
--------
:func:`to_wire` reuses the exact bytes of a ``like`` capture for every part of the
document that equals the same part of that capture (the query string, the header lines,
the body), compared strictly: key order and ``1`` versus ``1.0`` versus ``true`` count.
A part that differs is rebuilt in the style of the first capture that has one: JSON
spacing, indentation and escaping, ``+`` or ``%20`` for spaces, hex case, the multipart
boundary, header name case, and single query pairs, form fields, cookies and multipart
parts that did not change keep their original spelling.

This module does no I/O and holds no state.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import difflib
import gzip
import hashlib
import json
import math
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import brotli  # type: ignore[import-untyped]

from reqbisect._types import Document
from reqbisect.errors import InputError
from reqbisect.pointer import format_pointer
from reqbisect.secret_names import is_secret_name

__all__ = [
    "Capture",
    "WireRequest",
    "body_kind",
    "charset_of",
    "from_wire",
    "multipart_body",
    "origin",
    "to_wire",
    "validate_document",
]

#: Hop-by-hop headers (RFC 9110 section 7.6.1) and ``proxy-connection``.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"})
#: Headers that never reach the document: derived when sending.
DERIVED = frozenset({"host", "content-length"}) | HOP_BY_HOP
_KEYS = ("method", "url", "query", "headers", "cookies", "body", "body_base64")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TEXT_TYPES = re.compile(
    r"text/.*|.*[/+](xml|yaml|x-yaml|javascript|ecmascript|x-javascript|graphql|csv|sql|x-sh|html)"
)
_HEX = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_COOKIE_NAME = re.compile(r"[^\s;=,\x00-\x1f\x7f]+")
#: The deepest JSON body accepted: diff and apply recurse once per level.
MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A request exactly as it goes on the wire, minus the headers HTTP derives."""

    method: str
    #: Absolute URL with the raw query string, no fragment.
    url: str
    #: Header lines in order, names in their original case, no ``host``/``content-length``.
    headers: tuple[tuple[str, str], ...]
    body: bytes


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


# -- small helpers ------------------------------------------------------------------


def _canon(value: Any) -> str:
    """A spelling that tells ``1``, ``1.0`` and ``true`` apart and keeps key order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


def _group(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def _ungroup(obj: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    return [(k, item) for k, v in (obj or {}).items() for item in (v if isinstance(v, list) else [v])]


def _first(headers: Mapping[str, Any] | None, name: str) -> str | None:
    value = (headers or {}).get(name)
    if isinstance(value, list):
        return str(value[0]) if value else None
    return value if isinstance(value, str) else None


def _params(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Media type (lower-case) and parameters of a Content-Type value."""
    media, _, rest = (content_type or "").partition(";")
    params = {}
    for m in re.finditer(r'\s*([^=;\s]+)\s*=\s*("[^"]*"|[^;]*)', rest):
        params[m.group(1).lower()] = m.group(2).strip().strip('"')
    return media.strip().lower(), params


def charset_of(content_type: str | None) -> str:
    """The codec name of a Content-Type's charset (UTF-8 when absent or unknown)."""
    name = _params(content_type)[1].get("charset", "utf-8")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def body_kind(content_type: str | None) -> str:
    """How a body of this content type is held: json, form, multipart, text, binary or sniff."""
    media = _params(content_type)[0]
    if not media:
        return "sniff"
    if "json" in media.partition("/")[2]:
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "multipart/form-data":
        return "multipart"
    return "text" if _TEXT_TYPES.fullmatch(media) else "binary"


def _text(data: bytes, encoding: str = "utf-8", *, plain: bool = False) -> str | None:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if plain and re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        return None
    return text


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- urls and pairs ------------------------------------------------------------------


def _split_url(url: str) -> tuple[str, str | None]:
    url = url.partition("#")[0]
    base, sep, query = url.partition("?")
    return base, (query if sep else None)


def _normal_base(base: str) -> str:
    parts = urlsplit(base)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme.lower()}://{host.lower()}{parts.path or '/'}"


def _unform(text: str) -> str:
    return unquote(text.replace("+", " "), errors="replace")


def _split_form(raw: str) -> list[tuple[str, str, str]]:
    """``(key, value, raw piece)`` for each non-empty ``&`` piece."""
    out = []
    for piece in raw.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            out.append((_unform(key), _unform(value), piece))
    return out


def _split_cookies(raw: str) -> list[tuple[str, str, str]]:
    out = []
    for piece in raw.split(";"):
        piece = piece.strip()
        if piece:
            name, _, value = piece.partition("=")
            out.append((name.strip(), value.strip(), piece))
    return out


@dataclass(frozen=True, slots=True)
class _Encoding:
    plus: bool
    lower_hex: bool
    safe: str

    def __call__(self, text: str) -> str:
        out = quote(text, safe=self.safe)
        if self.plus:
            out = out.replace("%20", "+")
        if self.lower_hex:
            out = _HEX.sub(lambda m: m.group().lower(), out)
        return out


def _encoding_of(raw: str | None, *, safe: str, plus: bool) -> _Encoding:
    if raw:
        plus = "+" in raw or (plus and "%20" not in raw)
        lower = bool(re.search(r"%[0-9a-f][a-f]|%[a-f][0-9a-f]", raw))
        return _Encoding(plus, lower, safe)
    return _Encoding(plus, False, safe)


def _join_pairs(pairs: list[tuple[str, Any]], raws: Sequence[str | None], *, safe: str, plus: bool) -> str:
    """Pairs joined with ``&``, reusing the raw spelling of pairs seen in ``raws``."""
    known: dict[tuple[str, str], str] = {}
    for raw in raws:
        for key, value, piece in _split_form(raw or ""):
            known.setdefault((key, value), piece)
    enc = _encoding_of(next((r for r in raws if r), None), safe=safe, plus=plus)
    return "&".join(known.get((k, str(v))) or f"{enc(k)}={enc(str(v))}" for k, v in pairs)


# -- bodies -------------------------------------------------------------------------


def _codings(value: str | None) -> list[str] | None:
    """Content codings in order, or ``None`` when one of them is unknown."""
    names = [c.strip().lower() for c in (value or "").split(",") if c.strip()]
    names = [n for n in names if n != "identity"]
    return names if all(n in ("gzip", "x-gzip", "deflate", "br") for n in names) else None


def _decompress(data: bytes, codings: list[str]) -> bytes | None:
    try:
        for name in reversed(codings):
            if name in ("gzip", "x-gzip"):
                data = gzip.decompress(data)
            elif name == "deflate":
                try:
                    data = zlib.decompress(data)
                except zlib.error:
                    data = zlib.decompress(data, -zlib.MAX_WBITS)
            else:
                data = brotli.decompress(data)
    except (OSError, EOFError, zlib.error, brotli.error):
        return None
    return data


def _compress(data: bytes, codings: list[str]) -> bytes:
    for name in codings:
        if name in ("gzip", "x-gzip"):
            data = gzip.compress(data, mtime=0)
        elif name == "deflate":
            data = zlib.compress(data)
        else:
            data = brotli.compress(data)
    return data


def _part_params(line: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(3) if m.group(3) is not None else m.group(4)
            for m in re.finditer(r';\s*([^=;\s]+)\s*=\s*("([^"]*)"|([^;]*))', line)}


def _parse_multipart(data: bytes, boundary: str) -> list[tuple[str, Any, bytes]] | None:
    """``(name, value, raw part)`` for each part, or ``None`` if the body is not multipart."""
    delimiter = b"\r\n--" + boundary.encode("utf-8", "surrogateescape")
    chunks = (b"\r\n" + data).split(delimiter)
    if len(chunks) < 2 or not chunks[-1].startswith(b"--"):
        return None
    parts: list[tuple[str, Any, bytes]] = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n"):
            return None
        raw = chunk[2:]
        head, sep, content = raw.partition(b"\r\n\r\n")
        if not sep:
            return None
        text = _text(head)
        if text is None:
            return None
        fields = [line.partition(":") for line in text.split("\r\n")]
        if any(not colon for _, colon, _ in fields):
            return None
        found = {name.strip().lower(): value.strip() for name, _, value in fields}
        disposition = found.pop("content-disposition", "")
        params = _part_params(disposition)
        if not disposition.lower().startswith("form-data") or "name" not in params:
            return None
        filename, ctype = params.get("filename"), found.pop("content-type", None)
        value: Any = _text(content) if filename is None and ctype is None and not found else None
        if value is None:
            obj: dict[str, Any] = {}
            if filename is not None:
                obj["filename"] = filename
            if ctype is not None:
                obj["content_type"] = ctype
            if found:
                obj["headers"] = found
            kind = body_kind(ctype)
            readable = None if kind == "binary" else _text(content, charset_of(ctype), plain=kind == "sniff")
            obj.update({"content": readable} if readable is not None else {"content_base64": _b64(content)})
            value = obj
        parts.append((params["name"], value, raw))
    return parts


def _escape_param(text: str) -> str:
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _render_part(name: str, value: Any) -> bytes:
    head = f'Content-Disposition: form-data; name="{_escape_param(name)}"'
    if not isinstance(value, dict):
        return f"{head}\r\n\r\n".encode() + str(value).encode("utf-8", "surrogateescape")
    if value.get("filename") is not None:
        head += f'; filename="{_escape_param(str(value["filename"]))}"'
    ctype = value.get("content_type")
    if ctype is not None:
        head += f"\r\nContent-Type: {ctype}"
    for key, item in (value.get("headers") or {}).items():
        head += f"\r\n{key}: {item}"
    if "content_base64" in value:
        content = base64.b64decode(str(value["content_base64"]))
    else:
        content = _encode_text(str(value.get("content", "")), charset_of(ctype))
    return f"{head}\r\n\r\n".encode() + content


def _encode_text(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset, "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


def _decode_body(raw: bytes, content_type: str | None, encoding: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    codings = _codings(encoding)
    data = _decompress(raw, codings) if codings else raw
    if data is None:
        return {"body_base64": _b64(raw)}
    kind, charset = body_kind(content_type), charset_of(content_type)
    if kind == "json":
        text = _text(data, charset)
        if text is not None:
            try:
                return {"body": json.loads(
                    text, parse_constant=_no_constant, parse_float=_finite, object_pairs_hook=_unique_keys
                )}
            except ValueError:  # not JSON that reads back the same (also: duplicate keys, 1e400): the text
                return {"body": text}
    elif kind == "form":
        text = _text(data)
        if text is not None and all("=" in piece for piece in text.split("&") if piece):
            return {"body": _group((k, v) for k, v, _ in _split_form(text))}
    elif kind == "multipart":
        boundary = _params(content_type)[1].get("boundary")
        parts = _parse_multipart(data, boundary) if boundary else None
        if parts is not None:
            return {"body": _group((name, value) for name, value, _ in parts)}
    if kind != "binary":
        text = _text(data, charset, plain=kind == "sniff")
        if text is not None:
            return {"body": text}
    return {"body_base64": _b64(data)}


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a finite number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("an object has a key twice")
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(name)


@dataclass(frozen=True, slots=True)
class _JsonStyle:
    indent: int | str | None = None
    spaced: bool = False
    ensure_ascii: bool = False
    newline: bool = False

    def dump(self, value: Any) -> str:
        if self.indent is not None:
            separators = (",", ": ")
        else:
            separators = (", ", ": ") if self.spaced else (",", ":")
        text = json.dumps(value, indent=self.indent, separators=separators, ensure_ascii=self.ensure_ascii)
        return text + "\n" if self.newline else text


def _json_style(text: str) -> _JsonStyle:
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
    return _JsonStyle(indent, spaced, ensure_ascii, text.endswith("\n"))


def _render_body(doc: Document, style: Capture | None) -> tuple[bytes, str | None]:
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
        return _encode_text(_json_style(text or "").dump(value), charset), None
    if kind == "form" and isinstance(value, dict):
        return _join_pairs(_ungroup(value), [text], safe="*", plus=True).encode("utf-8"), None
    if kind == "multipart" and isinstance(value, dict):
        return _render_multipart(value, content_type, style, sample)
    if isinstance(value, str):
        return _encode_text(value, charset), None
    return _encode_text(_JsonStyle().dump(value), charset), None


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
    codings = _codings(_first(capture.document.get("headers"), "content-encoding"))
    return _decompress(capture.wire.body, codings) if codings else capture.wire.body


def _render_multipart(
    value: dict[str, Any], content_type: str | None, style: Capture | None, sample: bytes | None
) -> tuple[bytes, str]:
    known: dict[tuple[str, str], bytes] = {}
    style_boundary = None
    if style is not None and sample is not None:
        style_boundary = _params(_first(style.document.get("headers"), "content-type"))[1].get("boundary")
        for name, item, raw in _parse_multipart(sample, style_boundary or "") or []:
            known.setdefault((name, _canon(item)), raw)
    parts = [known.get((name, _canon(item))) or _render_part(name, item) for name, item in _ungroup(value)]
    boundary = _params(content_type)[1].get("boundary") or style_boundary or ""
    counter = 0
    while not boundary or any(b"--" + boundary.encode("utf-8", "surrogateescape") in part for part in parts):
        seed = hashlib.sha256(b"".join(parts) + str(counter).encode()).hexdigest()[:24]
        boundary, counter = f"----reqbisect{seed}", counter + 1
    return _assemble(parts, boundary), boundary


def _assemble(parts: Iterable[bytes], boundary: str) -> bytes:
    delim = b"--" + boundary.encode("utf-8", "surrogateescape")
    return b"".join(delim + b"\r\n" + part + b"\r\n" for part in parts) + delim + b"--\r\n"


def multipart_body(parts: Sequence[tuple[str, Any]], boundary: str) -> bytes:
    """A multipart/form-data body (RFC 7578) of parts in document shape, in the given order."""
    return _assemble((_render_part(name, value) for name, value in parts), boundary)


def _with_boundary(content_type: str, boundary: str) -> str:
    if re.search(r";\s*boundary=", content_type, re.I):
        return re.sub(r'(;\s*boundary=)("[^"]*"|[^;]*)', lambda m: m.group(1) + boundary, content_type,
                      count=1, flags=re.I)
    return f"{content_type}; boundary={boundary}"


# -- the two directions ---------------------------------------------------------------


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
        query = _group((k, v) for k, v, _ in _split_form(raw_query))
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
            cookies.extend((k, v) for k, v, _ in _split_cookies(value))
        else:
            headers.append((low, value))
    if headers:
        doc["headers"] = _group(headers)
    if cookies:
        doc["cookies"] = _group(cookies)
    content_type = _first(doc.get("headers"), "content-type")
    doc.update(_decode_body(wire.body, content_type, _first(doc.get("headers"), "content-encoding")))
    url = doc["url"] + ("?" + raw_query if raw_query is not None else "")
    warnings: tuple[str, ...] = ()
    if "@" in urlsplit(base).netloc:
        warnings = (f"{source}: the credentials in the URL (user:password@) are dropped; "
                    "send them as an authorization header",)
    return Capture(doc, WireRequest(wire.method, url, tuple(kept), wire.body), source, warnings)


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
        raw, boundary = _render_body(doc, style)
        codings = _codings(_first(doc.get("headers"), "content-encoding"))
        body = _compress(raw, codings) if codings and raw else raw
    if boundary is not None:
        for i, (name, value) in enumerate(headers):
            if name.lower() == "content-type":
                headers[i] = (name, _with_boundary(value, boundary))
                break
    return WireRequest(str(doc["method"]), url, tuple(headers), body)


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
    return f"{doc['url']}?{_join_pairs(_ungroup(query), raws, safe='/:@!$()*,;?', plus=False)}"


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
    out = [(case.get(name, name), str(value)) for name, value in _ungroup(headers)]
    if cookies:
        out[_cookie_position(out, likes):0] = _cookie_lines(cookies, likes, case.get("cookie", "cookie"))
    return out


def _cookie_lines(cookies: Mapping[str, Any], likes: Sequence[Capture], name: str) -> list[tuple[str, str]]:
    known: dict[tuple[str, str], str] = {}
    separators = []
    for capture in likes:
        assert capture.wire is not None
        lines = [(n, v) for n, v in capture.wire.headers if n.lower() == "cookie"]
        if lines and _same(capture.document.get("cookies") or {}, cookies):
            return lines
        for _, value in lines:
            separators.append("; " if "; " in value or ";" not in value else ";")
            for key, item, piece in _split_cookies(value):
                known.setdefault((key, item), piece)
    separator = separators[0] if separators else "; "
    return [(name, separator.join(known.get((k, str(v))) or f"{k}={v}" for k, v in _ungroup(cookies)))]


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
