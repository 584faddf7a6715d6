"""The encodings inside a request: media types and charsets, content codings, forms, cookies.

Rules
-----
* A Content-Type says how a body is held (:func:`body_kind`): a media type whose
  subtype mentions ``json`` is JSON; ``application/x-www-form-urlencoded`` is a form;
  ``multipart/form-data`` is multipart; ``text/*`` and the textual application types
  (XML, YAML, JavaScript, GraphQL, CSV, SQL, shell, HTML) are text; no Content-Type
  means "sniff"; anything else is binary. Text is in the declared charset, UTF-8 when
  it is absent or unknown (and when the charset cannot hold a rebuilt text).
* ``Content-Encoding: gzip|x-gzip|deflate|br`` (RFC 9110 section 8.4) is removed on the
  way in, last coding first, and applied again on the way out (gzip with a zero
  timestamp, so the bytes are reproducible); ``identity`` is ignored; any other coding
  makes the list unknown (:func:`content_codings` gives ``None``).
* Form fields and query pairs split on ``&``; empty pieces are dropped; names and values
  are percent-decoded with ``+`` as a space. A name or value that is not valid
  percent-encoding (a bare ``%`` as in ``discount=50%``, or escapes that do not decode
  as UTF-8) is kept as written, and a value of that shape is written back as it is (when
  it is ASCII without ``&``, ``=``, ``#``, space or control characters), so it reads back
  the same and a capture's field goes out byte for byte. A ``Cookie`` header splits on ``;`` into
  ``name=value`` pairs, surrounding spaces removed. A repeated name holds a list, in
  order (:func:`group`).
* When joining, pairs and cookies already seen in a capture keep their exact spelling,
  and new ones follow the capture's habits: ``+`` or ``%20`` for spaces, hex case, the
  cookie separator (``"; "`` or ``";"``).

How bodies are decoded by kind, and multipart, live in :mod:`reqbisect.bodies`.
This module does no I/O and holds no state.
"""

from __future__ import annotations

import codecs  # the standard library's (imports are absolute)
import gzip
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import brotli  # type: ignore[import-untyped]

__all__ = [
    "body_kind", "charset_of", "compress", "content_codings", "decompress", "encode_text", "group",
    "join_cookies", "join_pairs", "parse_content_type", "split_cookies", "split_form", "ungroup",
]

_TEXT_TYPES = re.compile(
    r"text/.*|.*[/+](xml|yaml|x-yaml|javascript|ecmascript|x-javascript|graphql|csv|sql|x-sh|html)"
)
_HEX = re.compile(r"%[0-9A-Fa-f]{2}")


# -- names, values and lists -----------------------------------------------------------


def group(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Pairs as an object in first-seen order; a repeated name holds a list of its values."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def ungroup(obj: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """The pairs of a grouped object, a list value giving one pair per item."""
    return [(k, item) for k, v in (obj or {}).items() for item in (v if isinstance(v, list) else [v])]


def parse_content_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Media type (lower-case) and parameters of a Content-Type value."""
    media, _, rest = (content_type or "").partition(";")
    params = {}
    for m in re.finditer(r'\s*([^=;\s]+)\s*=\s*("[^"]*"|[^;]*)', rest):
        params[m.group(1).lower()] = m.group(2).strip().strip('"')
    return media.strip().lower(), params


def charset_of(content_type: str | None) -> str:
    """The codec name of a Content-Type's charset (UTF-8 when absent or unknown)."""
    name = parse_content_type(content_type)[1].get("charset", "utf-8")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def body_kind(content_type: str | None) -> str:
    """How a body of this content type is held: json, form, multipart, text, binary or sniff."""
    media = parse_content_type(content_type)[0]
    if not media:
        return "sniff"
    if "json" in media.partition("/")[2]:
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media == "multipart/form-data":
        return "multipart"
    return "text" if _TEXT_TYPES.fullmatch(media) else "binary"


def encode_text(text: str, charset: str) -> bytes:
    """``text`` in ``charset``, or in UTF-8 when the charset cannot hold it."""
    try:
        return text.encode(charset, "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


# -- forms and cookies -----------------------------------------------------------------


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NOT_RAW = re.compile(r"[&=#\s\x00-\x1f\x7f]")


def _lenient(text: str) -> bool:
    """Whether ``text`` is not valid percent-encoding: a bare ``%``, or escapes that are not UTF-8."""
    if _BAD_PERCENT.search(text):
        return True
    try:
        unquote(text, errors="strict")
    except UnicodeDecodeError:
        return True
    return False


def _unform(text: str) -> str:
    if _lenient(text):
        return text  # kept as written (``discount=50%``), so it goes out byte for byte
    return unquote(text.replace("+", " "))


def split_form(raw: str) -> list[tuple[str, str, str]]:
    """``(key, value, raw piece)`` for each non-empty ``&`` piece."""
    out = []
    for piece in raw.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            out.append((_unform(key), _unform(value), piece))
    return out


def split_cookies(raw: str) -> list[tuple[str, str, str]]:
    """``(name, value, raw piece)`` for each cookie of a ``Cookie`` header value."""
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
        if _lenient(text) and text.isascii() and not _NOT_RAW.search(text):
            return text  # reads back as itself (see _unform)
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


def join_pairs(pairs: list[tuple[str, Any]], raws: Sequence[str | None], *, safe: str, plus: bool) -> str:
    """Pairs joined with ``&``, reusing the raw spelling of pairs seen in ``raws``.

    Args:
        pairs: the names and values, in order.
        raws: query strings or form bodies as captured; the first non-empty one sets
            the style of pairs it does not hold.
        safe: characters left unescaped.
        plus: write a space as ``+`` when ``raws`` give no hint.
    """
    known: dict[tuple[str, str], str] = {}
    for raw in raws:
        for key, value, piece in split_form(raw or ""):
            known.setdefault((key, value), piece)
    enc = _encoding_of(next((r for r in raws if r), None), safe=safe, plus=plus)
    return "&".join(known.get((k, str(v))) or f"{enc(k)}={enc(str(v))}" for k, v in pairs)


def join_cookies(pairs: list[tuple[str, Any]], raws: Sequence[str]) -> str:
    """A ``Cookie`` header value, reusing cookies and the separator seen in ``raws``."""
    known: dict[tuple[str, str], str] = {}
    for raw in raws:
        for key, item, piece in split_cookies(raw):
            known.setdefault((key, item), piece)
    separator = ("; " if "; " in raws[0] or ";" not in raws[0] else ";") if raws else "; "
    return separator.join(known.get((k, str(v))) or f"{k}={v}" for k, v in pairs)


# -- content codings -------------------------------------------------------------------


def content_codings(value: str | None) -> list[str] | None:
    """Content codings in order, or ``None`` when one of them is unknown."""
    names = [c.strip().lower() for c in (value or "").split(",") if c.strip()]
    names = [n for n in names if n != "identity"]
    return names if all(n in ("gzip", "x-gzip", "deflate", "br") for n in names) else None


def decompress(data: bytes, codings: list[str]) -> bytes | None:
    """``data`` with ``codings`` removed (last applied first), or ``None`` if it is broken."""
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


def compress(data: bytes, codings: list[str]) -> bytes:
    """``data`` with ``codings`` applied in order."""
    for name in codings:
        if name in ("gzip", "x-gzip"):
            data = gzip.compress(data, mtime=0)
        elif name == "deflate":
            data = zlib.compress(data)
        else:
            data = brotli.compress(data)
    return data
