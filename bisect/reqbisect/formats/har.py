"""HAR 1.2 captures in and out (http://www.softwareishard.com/blog/har-12-spec/).

An entry is picked with ``file.har#N`` (index from 0, in file order) or
``file.har#TEXT``: the entry whose path (or path and query, or whole URL) is TEXT, else
the one entry whose URL contains TEXT; ``file.har#POST /v1/messages`` also asks for the
method. Several entries that match equally well are an error listing them (index,
method, URL), so a preflight ``OPTIONS`` or a ``/v1/messages/count_tokens`` beside
``/v1/messages`` is never taken silently. A file with one entry needs no selector. Only ``log.entries[].request`` is read (spec section "request"):

* ``headers`` in order; HTTP/2 pseudo-headers (Chrome) and ``Host``/``Content-Length``
  (Firefox, Charles, mitmproxy) are dropped by the document rules.
* ``cookies`` become a ``Cookie`` header when the headers have none (Insomnia, some
  proxies export cookies only there).
* ``postData.text`` is the body (``"encoding": "base64"`` is honoured, as Charles and
  mitmproxy write binary bodies); ``params`` are only used when ``text`` is missing or
  empty (Firefox for some form posts). When both exist and disagree, ``text`` wins.
* A ``postData.mimeType`` stands in for a missing ``Content-Type`` header.
* ``headersSize``/``bodySize`` of -1 (Safari) and ``_``-prefixed custom fields are ignored.

Anything approximate is reported in :attr:`Capture.warnings`, one line each: a body
rebuilt from ``params``, params that disagree with ``text``, file content missing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus, urlsplit

from reqbisect._types import Document
from reqbisect.bodies import multipart_body
from reqbisect.codecs import body_kind, charset_of
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.formats.native import parse_json
from reqbisect.wire import WireRequest, from_wire, to_wire

__all__ = ["dump", "list_entries", "load"]


def _entries(har: Any, source: str) -> list[dict[str, Any]]:
    log = har.get("log") if isinstance(har, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise InputError("not a HAR file", source=source, location="/log/entries", expected="a list of entries")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise InputError("wrong type", source=source, location=f"/log/entries/{i}/request",
                             expected="an object", got=type(entry).__name__)
    return entries


def _describe(i: int, entry: dict[str, Any]) -> str:
    request, response = entry["request"], entry.get("response")
    url = str(request.get("url", "?"))
    url = url if len(url) <= 100 else url[:97] + "..."
    status = response.get("status", "?") if isinstance(response, dict) else "?"
    return f"#{i} {request.get('method', '?')} {url} -> {status}"


def list_entries(text: str, *, source: str) -> list[str]:
    """One line per entry, as selectors name them: ``#0 GET https://... -> 200``."""
    entries = _entries(parse_json(text, source=source), source)
    return [_describe(i, e) for i, e in enumerate(entries)]


def _select(entries: list[dict[str, Any]], selector: str | None, source: str) -> int:
    count = len(entries)
    if not count:
        raise InputError("the HAR file has no entries", source=source)
    listing = "; ".join(_describe(i, e) for i, e in enumerate(entries[:30])) + ("; ..." if count > 30 else "")
    if selector is None:
        if count == 1:
            return 0
        raise InputError(f"the file has {count} entries; pick one with {source}#N or {source}#URL-PART: {listing}",
                         source=source)
    if not selector:
        raise InputError(f"nothing after '#'; pick an entry with {source}#N or {source}#URL-PART: {listing}",
                         source=source)
    if selector.isdigit():
        if int(selector) >= count:
            raise InputError(f"no entry {selector} (the file has {count} entr{'y' if count == 1 else 'ies'}: "
                             f"#0..#{count - 1})",
                             source=f"{source}#{selector}")
        return int(selector)
    method, text = _method_and_text(selector)
    urls = {i: str(e["request"].get("url", "")) for i, e in enumerate(entries)
            if method is None or str(e["request"].get("method", "")).upper() == method}
    for matches, what in (([i for i, url in urls.items() if _same_target(url, text)], "the path"),
                          ([i for i, url in urls.items() if text in url], "the URL contains")):
        if len(matches) == 1:
            return matches[0]
        if matches:
            found = "; ".join(_describe(i, entries[i]) for i in matches[:30]) + ("; ..." if len(matches) > 30 else "")
            raise InputError(f"{len(matches)} entries match ({what} {text!r}{_by(method)}): {found}",
                             source=f"{source}#{selector}",
                             hint=f"pick one by index ({source}#N) or by method and path ({source}#POST /path)")
    raise InputError(f"no entry whose URL contains {text!r}{_by(method)} (entries: {listing})",
                     source=f"{source}#{selector}")


def _method_and_text(selector: str) -> tuple[str | None, str]:
    """``POST /v1/messages`` -> ``("POST", "/v1/messages")``; a selector without a method -> ``(None, it)``."""
    match = re.fullmatch(r"([A-Za-z]+)\s+(\S.*)", selector)
    return (match.group(1).upper(), match.group(2)) if match else (None, selector)


def _by(method: str | None) -> str:
    return f", method {method}" if method else ""


def _same_target(url: str, text: str) -> bool:
    """Whether ``text`` is the whole URL, its path, or its path and query (fragments aside)."""
    url = url.partition("#")[0]
    parts = urlsplit(url)
    return text in (url, parts.path, f"{parts.path}?{parts.query}" if parts.query else parts.path)


def _string(obj: dict[str, Any], key: str, pointer: str, source: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise InputError("wrong type", source=source, location=f"{pointer}/{key}", expected="a string",
                         got=json.dumps(value)[:40])
    return value


def _pairs(items: Any, pointer: str, source: str) -> list[dict[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("wrong type", source=source, location=pointer, expected="a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError("wrong type", source=source, location=f"{pointer}/{i}", expected="an object")
        _string(item, "name", f"{pointer}/{i}", source)
        if "value" in item:
            _string(item, "value", f"{pointer}/{i}", source)
    return items


def _from_params(params: list[dict[str, Any]], content_type: str, warnings: list[str]) -> tuple[bytes, str]:
    if body_kind(content_type) != "multipart":
        text = "&".join(f"{quote_plus(p['name'])}={quote_plus(p.get('value', ''))}" for p in params)
        return text.encode("utf-8"), content_type
    parts: list[tuple[str, Any]] = []
    for p in params:
        if p.get("fileName") is None:
            parts.append((p["name"], p.get("value", "")))
            continue
        if "value" not in p:
            warnings.append(f"the file {p['fileName']!r} of part {p['name']!r} has no content in the HAR; "
                            "an empty file is sent")
        parts.append((p["name"], {"filename": p["fileName"],
                                  "content_type": p.get("contentType") or "application/octet-stream",
                                  "content": p.get("value", "")}))
    boundary = next((item.split("=", 1)[1].strip('"') for item in content_type.split(";")
                     if item.strip().lower().startswith("boundary=")), None)
    if boundary is None:
        boundary = "----reqbisect" + hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
        content_type = f"{content_type}; boundary={boundary}"
    return multipart_body(parts, boundary), content_type


def _agree(body: Any, params: list[dict[str, Any]]) -> bool:
    """Whether form/multipart ``params`` say the same as the body parsed from ``text``."""
    if not isinstance(body, dict):
        return False
    seen: dict[str, list[str | None]] = {}
    for p in params:
        seen.setdefault(p["name"], []).append(None if p.get("fileName") is not None else p.get("value", ""))
    if list(seen) != list(body) and sorted(seen) != sorted(body):
        return False
    for name, values in seen.items():
        held = body[name] if isinstance(body[name], list) else [body[name]]
        if len(held) != len(values):
            return False
        for have, said in zip(held, values):
            if isinstance(have, str) and said is not None and have not in (said, unquote_plus(said)):
                return False
    return True


def _wire(request: dict[str, Any], pointer: str, source: str, warnings: list[str]) -> WireRequest:
    method = _string(request, "method", pointer, source)
    url = _string(request, "url", pointer, source)
    # Surrounding spaces are not part of a header value (RFC 9110, section 5.5); curl and raw HTTP drop them too.
    headers = [
        (h["name"], str(h.get("value", "")).strip(" \t"))
        for h in _pairs(request.get("headers"), f"{pointer}/headers", source)
    ]
    names = {name.lower() for name, _ in headers}
    cookies = _pairs(request.get("cookies"), f"{pointer}/cookies", source)
    if cookies and "cookie" not in names:
        headers.append(("Cookie", "; ".join(f"{c['name']}={c.get('value', '')}" for c in cookies)))
    post = request.get("postData") or {}
    if not isinstance(post, dict):
        raise InputError("wrong type", source=source, location=f"{pointer}/postData", expected="an object")
    content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
    mime = post.get("mimeType") if isinstance(post.get("mimeType"), str) else ""
    text, params = post.get("text"), _pairs(post.get("params"), f"{pointer}/postData/params", source)
    if text is not None and not isinstance(text, str):
        raise InputError("wrong type", source=source, location=f"{pointer}/postData/text",
                         expected="the body as a string", got=type(text).__name__)
    body = b""
    if text:
        if str(post.get("encoding", "")).lower() == "base64":
            try:
                body = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise InputError("postData.text is not valid base64", source=source,
                                 location=f"{pointer}/postData/text") from None
        else:
            charset = charset_of(content_type or mime)
            try:
                body = text.encode(charset, "surrogateescape")
            except UnicodeEncodeError:
                body = text.encode("utf-8", "surrogateescape")
    elif params:
        body, rebuilt_type = _from_params(params, content_type or mime or "", warnings)
        warnings.append("postData has no text; the body was rebuilt from postData.params")
        if content_type is not None and rebuilt_type != content_type:
            headers = [(n, rebuilt_type if n.lower() == "content-type" else v) for n, v in headers]
        mime = rebuilt_type
    if body and content_type is None and mime:
        headers.append(("Content-Type", mime))
    return WireRequest(method, url, tuple(headers), body, _http_version(request.get("httpVersion"), warnings))


def _http_version(value: object, warnings: list[str]) -> str | None:
    """The HTTP version an exporter wrote (``HTTP/1.1``, ``http/2.0``, ``h2``, ``h3``), as the document holds it."""
    text = str(value or "").strip().lower()
    if text in ("h3", "http/3", "http/3.0"):
        warnings.append(f"httpVersion {value} (HTTP/3) cannot be sent from here; HTTP/2 is used")
        return "2"
    if text in ("h2", "http/2", "http/2.0"):
        return "2"
    return None  # HTTP/1.1, the default, or not said


def _answered(entry: dict[str, Any]) -> int | None:
    """The status the capturing client got (exporters write 0 or -1 when there was none)."""
    response = entry.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    return status if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599 else None


def load(text: str, *, source: str, base_dir: Path | None = None, entry: str | None = None) -> Capture:
    """Read one request from a HAR file.

    Args:
        text: the HAR (JSON) text.
        source: the file name, for messages.
        base_dir: unused; HAR files are self-contained.
        entry: ``"N"`` (index) or a URL substring; required when there are several entries.

    Raises:
        InputError: not JSON (line and column), not HAR, no such entry (listing the entries).
    """
    entries = _entries(parse_json(text, source=source), source)
    index = _select(entries, entry, source)
    name = f"{source}#{index}"
    warnings: list[str] = []
    request = entries[index]["request"]
    capture = from_wire(_wire(request, f"/log/entries/{index}/request", source, warnings), source=name)
    params = (request.get("postData") or {}).get("params")
    if params and (request.get("postData") or {}).get("text") and not _agree(capture.document.get("body"), params):
        warnings.append("postData.params disagree with postData.text; the text is used")
    return replace(capture, warnings=(*capture.warnings, *(f"{name}: {w}" for w in warnings)),
                   answered=_answered(entries[index]))


def dump(doc: Document, *, like: Sequence[Capture] = ()) -> str:
    """A HAR 1.2 file with one entry holding the request (the response is left empty)."""
    wire = to_wire(doc, like=like)

    def pairs(obj: Any) -> list[dict[str, str]]:
        return [{"name": k, "value": item} for k, v in (obj or {}).items()
                for item in (v if isinstance(v, list) else [v])]

    request: dict[str, Any] = {
        "method": wire.method, "url": wire.url, "httpVersion": "HTTP/2" if wire.http == "2" else "HTTP/1.1",
        "cookies": pairs(doc.get("cookies")), "headers": [{"name": n, "value": v} for n, v in wire.headers],
        "queryString": pairs(doc.get("query")), "headersSize": -1, "bodySize": len(wire.body),
    }
    if wire.body:
        mime = next((v for n, v in wire.headers if n.lower() == "content-type"), "")
        charset = charset_of(mime)
        try:
            text = wire.body.decode(charset)
            exact = text.encode(charset) == wire.body
        except UnicodeDecodeError:
            exact = False
        request["postData"] = {"mimeType": mime, "text": text} if exact else \
            {"mimeType": mime, "text": base64.b64encode(wire.body).decode(), "encoding": "base64"}
    entry = {
        "startedDateTime": "1970-01-01T00:00:00.000Z", "time": 0, "request": request,
        "response": {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                     "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1,
                     "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0},
    }
    har = {"log": {"version": "1.2", "creator": {"name": "reqbisect", "version": "0.1.0"}, "entries": [entry]}}
    return json.dumps(har, indent=2, ensure_ascii=False) + "\n"
