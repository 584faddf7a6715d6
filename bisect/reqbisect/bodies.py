"""Bodies: from captured bytes to the document's ``body`` or ``body_base64``, and multipart.

Rules
-----
* By :func:`~reqbisect.codecs.body_kind` of the Content-Type, after the content coding
  is removed: JSON is parsed (a body that does not parse, has a key twice or a number
  that overflows stays text, so it goes out byte for byte); form bodies become an object
  of fields (a body with a piece without ``=`` stays text); multipart bodies (RFC 7578)
  an object of parts; text is a string; with no Content-Type a body is text when it is
  UTF-8 without control characters; anything else, and a body under an unknown or
  broken coding, is ``body_base64`` (of the bytes as captured, for a broken coding).
* A multipart part is a string for a plain field (only a name, UTF-8 content), or an
  object with ``filename``, ``content_type``, ``headers`` (other part headers,
  lower-cased) and ``content`` (text) or ``content_base64``.
* The multipart boundary stays in the ``content-type`` header. When a part comes to
  contain it, a new one is derived from the content (a hash, so the same parts always
  get the same boundary) and the header follows (:func:`with_boundary`).

This module does no I/O and holds no state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from reqbisect.codecs import (
    body_kind,
    charset_of,
    content_codings,
    decompress,
    encode_text,
    group,
    parse_content_type,
    split_form,
    ungroup,
)

__all__ = ["decode_body", "multipart_body", "render_multipart", "with_boundary"]

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


# -- multipart -------------------------------------------------------------------------


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
        content = encode_text(str(value.get("content", "")), charset_of(ctype))
    return f"{head}\r\n\r\n".encode() + content


def _canon(value: Any) -> str:
    """A spelling that tells ``1``, ``1.0`` and ``true`` apart and keeps key order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render_multipart(
    value: dict[str, Any], content_type: str | None, *, sample: bytes | None, sample_boundary: str | None
) -> tuple[bytes, str]:
    """A multipart body of the parts in ``value``, and the boundary it uses.

    Args:
        value: the parts, in document shape.
        content_type: the document's Content-Type; its boundary is used when no part holds it.
        sample: a captured multipart body; its parts that did not change are reused as they are.
        sample_boundary: the boundary of ``sample``, used when ``content_type`` names none.
    """
    known: dict[tuple[str, str], bytes] = {}
    if sample is not None:
        for name, item, raw in _parse_multipart(sample, sample_boundary or "") or []:
            known.setdefault((name, _canon(item)), raw)
    parts = [known.get((name, _canon(item))) or _render_part(name, item) for name, item in ungroup(value)]
    boundary = parse_content_type(content_type)[1].get("boundary") or sample_boundary or ""
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


def with_boundary(content_type: str, boundary: str) -> str:
    """``content_type`` with its ``boundary`` parameter set to ``boundary``."""
    if re.search(r";\s*boundary=", content_type, re.I):
        return re.sub(r'(;\s*boundary=)("[^"]*"|[^;]*)', lambda m: m.group(1) + boundary, content_type,
                      count=1, flags=re.I)
    return f"{content_type}; boundary={boundary}"


# -- bodies in ---------------------------------------------------------------------------


def decode_body(raw: bytes, content_type: str | None, encoding: str | None) -> dict[str, Any]:
    """The document keys of a captured body: ``{}``, ``{"body": ...}`` or ``{"body_base64": ...}``.

    Args:
        raw: the body as captured.
        content_type: its Content-Type header, if any.
        encoding: its Content-Encoding header, if any.
    """
    if not raw:
        return {}
    codings = content_codings(encoding)
    data = decompress(raw, codings) if codings else raw
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
            return {"body": group((k, v) for k, v, _ in split_form(text))}
    elif kind == "multipart":
        boundary = parse_content_type(content_type)[1].get("boundary")
        parts = _parse_multipart(data, boundary) if boundary else None
        if parts is not None:
            return {"body": group((name, value) for name, value, _ in parts)}
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
