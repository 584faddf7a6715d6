"""Raw HTTP/1.1 requests in and out (RFC 9112).

``load`` reads a request line, header lines, a blank line and the body. Lines may end in
CRLF or LF. The request target is origin-form (``/path?query`` plus a ``Host`` header;
the scheme comes from the ``scheme`` argument) or absolute-form. The body is as long as
``Content-Length`` says, a chunked body is decoded, and otherwise it is the rest of the
text. A block of HTTP/2 pseudo-headers (``:method``, ``:path``, ``:authority``,
``:scheme``) as browsers copy it may stand in for the request line.

``dump`` writes CRLF lines with ``Host`` and ``Content-Length``; the target is
origin-form for https and absolute-form for http, so the scheme survives a round trip.
Text holds bytes that are not UTF-8 as surrogate escapes (``errors="surrogateescape"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from reqbisect._types import Document
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.wire import WireRequest, from_wire, to_wire

__all__ = ["dump", "load"]

_REQUEST_LINE = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +(\S+)(?: +HTTP/(\d(?:\.\d)?))? *")


def _dechunk(data: bytes, source: str) -> bytes:
    out, i = b"", 0
    while True:
        end = data.find(b"\n", i)
        try:
            size = int(data[i:end].split(b";")[0].strip(), 16)
        except ValueError:
            raise InputError("malformed chunked body", source=source, expected="a hex chunk size") from None
        if size == 0 or end < 0:
            return out
        out += data[end + 1 : end + 1 + size]
        i = end + 1 + size
        i += 2 if data.startswith(b"\r\n", i) else 1


def load(text: str, *, source: str, base_dir: Path | None = None, scheme: str = "https") -> Capture:
    """Read a raw HTTP request.

    Raises:
        InputError: a malformed request line or header line (with its line number), or an
            origin-form request without a Host header.
    """
    raw = text.encode("utf-8", "surrogateescape")
    data = raw.lstrip(b"\r\n")
    first = raw[: len(raw) - len(data)].count(b"\n")
    match = re.search(rb"\r?\n\r?\n", data)
    head, body = (data[: match.start()], data[match.end() :]) if match else (data.rstrip(b"\r\n"), b"")
    lines = head.decode("utf-8", "surrogateescape").splitlines()
    if not lines:
        raise InputError("empty request", source=source, expected="a request line such as 'GET / HTTP/1.1'")
    pseudo = lines[0].startswith(":")
    request = None if pseudo else _REQUEST_LINE.fullmatch(lines[0])
    if not pseudo and request is None:
        raise InputError("not a request line", source=source, location=f"line {first + 1}",
                         expected="METHOD TARGET HTTP/1.1", got=repr(lines[0][:60]))
    headers: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1 - pseudo :], first + 2 - pseudo):
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], f"{headers[-1][1]} {line.strip()}")
            continue
        name, colon, value = line[1:].partition(":") if line.startswith(":") else line.partition(":")
        if not colon or not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
            raise InputError("not a header line", source=source, location=f"line {number}",
                             expected="Name: value", got=repr(line[:60]))
        headers.append((":" + name if line.startswith(":") else name, value.strip()))
    found = {name.lower(): value for name, value in reversed(headers)}
    for name in ("host", ":authority", "content-length"):
        if sum(1 for n, _ in headers if n.lower() == name) > 1:
            # A server would refuse it (RFC 9112, sections 3.2 and 6.3): which one was meant?
            raise InputError(f"{name} appears more than once", source=source, hint="keep one")
    if pseudo:
        method, target = found.get(":method", "GET"), found.get(":path", "/")
        scheme, host = found.get(":scheme", scheme), found.get(":authority") or found.get("host")
    else:
        assert request is not None
        method, target, host = request.group(1), request.group(2), found.get("host")
    if target.startswith("/"):
        if not host:
            raise InputError("origin-form request line needs a Host header", source=source,
                             location=f"line {first + 1}")
        url = f"{scheme}://{host}{target}"
    elif urlsplit(target).scheme.lower() in ("http", "https"):
        url = target
    else:
        raise InputError("unsupported request target", source=source, location=f"line {first + 1}",
                         expected="/path or http(s)://host/path", got=repr(target))
    warnings = []
    if "chunked" in found.get("transfer-encoding", "").lower():
        body = _dechunk(body, source)
    elif "content-length" in found:
        value = found["content-length"].strip()
        if not re.fullmatch(r"[0-9]+", value):
            raise InputError("Content-Length is not a number of bytes", source=source, expected="digits", got=repr(value))
        length = int(value)
        if len(body) < length:
            raise InputError(f"the body is {len(body)} bytes but Content-Length says {length}", source=source)
        if body[length:].strip():
            warnings.append(f"{source}: {len(body) - length} bytes after the body (Content-Length {length}) "
                            "are ignored")
        body = body[:length]
    said_http2 = pseudo or (request is not None and request.group(3) in ("2", "2.0"))
    capture = from_wire(WireRequest(method, url, tuple(headers), body, "2" if said_http2 else None), source=source)
    return replace(capture, warnings=(*capture.warnings, *warnings))


def dump(doc: Document, *, like: Sequence[Capture] = ()) -> str:
    """The request as raw HTTP/1.1 (or HTTP/2, when its transport says so) text with Host and Content-Length."""
    wire = to_wire(doc, like=like)
    parts = urlsplit(wire.url)
    target = wire.url if parts.scheme == "http" else wire.url[len(f"{parts.scheme}://{parts.netloc}") :]
    lines = [f"{wire.method} {target} HTTP/{'2' if wire.http == '2' else '1.1'}", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in wire.headers]
    if wire.body or wire.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(wire.body)}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head + wire.body.decode("utf-8", "surrogateescape")
