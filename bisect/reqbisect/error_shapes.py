"""Common error shapes and their stable parts.

Frameworks answer a failure with a body of a known shape, and most of those
shapes mix what identifies the error (its type, code, location and message
template) with what the client sent (an ``input`` echo, a ``ctx`` holding the
offending value, a ``detail`` sentence that quotes it). Signatures compare only
the first kind, one *entry* per error, so that two answers that fail for the
same reasons look the same whatever the request carried:

* RFC 9457 problem details: ``type``, ``title`` and ``status`` (not ``detail``
  or ``instance``); ``invalid-params`` names and ``errors`` fields (ASP.NET's
  validation problems) become entries of their own.
* pydantic v2 / FastAPI validation errors (``{"detail": [{"loc", "type", "msg",
  "input", "ctx"}]}``): ``loc``, ``type`` and ``msg``; never ``input``/``ctx``.
* Django REST framework field errors (``{"field": ["message", ...]}``, nested
  for nested serializers): the field's path and each message.
* GraphQL (GraphQL over HTTP, section 7.1.2): each of ``errors[]`` by its
  ``message``, ``path`` and ``extensions.code``; ``locations`` point into the
  query text and ``data`` may be partial, so neither counts.
* JSON-RPC 2.0 (section 5.1): ``error.code`` and ``error.message``, not
  ``error.data``; a batch gives one entry per failed call.

Array indices in a location become ``#``: which element failed moves when an
earlier element is taken away, and the search takes elements away all the time.

GraphQL and JSON-RPC answer 200 either way, so :func:`verdict` also reads
whether such an answer is a success or a failure.

Messages go through the caller's ``mask`` (echoes of the request and volatile
values), since custom validators often quote the input in their message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reqbisect._types import JSONValue

__all__ = ["Entries", "Shape", "entries", "verdict"]

#: Masks echoes and volatile values in a piece of message text.
Mask = Callable[[str], str]
Entries = tuple[JSONValue, ...]


@dataclass(frozen=True, slots=True)
class Shape:
    """A recognised error shape and the stable part of each error it holds."""

    #: "problem", "pydantic", "drf", "graphql" or "jsonrpc".
    name: str
    entries: Entries


def verdict(data: JSONValue) -> tuple[str, str] | None:
    """``(protocol, "success" | "failure")`` for a GraphQL or JSON-RPC answer, else None.

    GraphQL: a non-empty ``errors`` array is a failure (even beside partial
    ``data``), ``data`` without errors a success. JSON-RPC: an ``error`` member
    is a failure, a ``result`` a success.
    """
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
            return ("GraphQL", "failure")
        if "data" in data and not errors and set(data) <= {"data", "errors", "extensions"}:
            return ("GraphQL", "success")
        if _is_jsonrpc(data):
            return ("JSON-RPC", "failure" if "error" in data else "success")
    if isinstance(data, list) and data and all(isinstance(item, dict) and _is_jsonrpc(item) for item in data):
        failed = any(isinstance(item, dict) and "error" in item for item in data)
        return ("JSON-RPC", "failure" if failed else "success")
    return None


def _is_jsonrpc(data: dict[str, JSONValue]) -> bool:
    if ("jsonrpc" not in data and "id" not in data) or ("error" in data) == ("result" in data):
        return False
    return "result" in data or isinstance(data.get("error"), dict)


def entries(data: JSONValue, status: int | None, mask: Mask) -> Shape | None:
    """The shape of an answer's body and its stable entries, or None for an unknown shape."""
    for name, read in _READERS:
        found = read(data, status, mask)
        if found:
            return Shape(name, tuple(found))
    return None


def _text(value: JSONValue, mask: Mask) -> JSONValue:
    return mask(value) if isinstance(value, str) else value


def _location(path: JSONValue) -> JSONValue:
    if isinstance(path, list):
        return [part if isinstance(part, str) else "#" for part in path]
    return path


def _graphql(data: JSONValue, status: int | None, mask: Mask) -> list[JSONValue] | None:
    if not isinstance(data, dict) or verdict(data) != ("GraphQL", "failure"):
        return None
    found: list[JSONValue] = []
    for error in data["errors"]:
        assert isinstance(error, dict)
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        found.append({"message": _text(error.get("message"), mask), "path": _location(error.get("path")), "code": code})
    return found


def _jsonrpc(data: JSONValue, status: int | None, mask: Mask) -> list[JSONValue] | None:
    if verdict(data) != ("JSON-RPC", "failure"):
        return None
    calls = data if isinstance(data, list) else [data]
    found: list[JSONValue] = []
    for call in calls:
        error = call.get("error") if isinstance(call, dict) else None
        if isinstance(error, dict):
            found.append({"code": error.get("code"), "message": _text(error.get("message"), mask)})
    return found


def _pydantic(data: JSONValue, status: int | None, mask: Mask) -> list[JSONValue] | None:
    detail = data.get("detail") if isinstance(data, dict) else None
    if not isinstance(detail, list) or not detail:
        return None
    if not all(isinstance(e, dict) and "loc" in e and "type" in e for e in detail):
        return None
    return [
        {"loc": _location(e["loc"]), "type": e["type"], "msg": _text(e.get("msg"), mask)}
        for e in detail
        if isinstance(e, dict)
    ]


def _problem(data: JSONValue, status: int | None, mask: Mask) -> list[JSONValue] | None:
    if not isinstance(data, dict) or not ("title" in data or ("type" in data and "status" in data)):
        return None
    if not all(isinstance(data.get(k, ""), (str, int)) for k in ("type", "title", "status")):
        return None
    found: list[JSONValue] = [
        {"type": data.get("type", "about:blank"), "title": _text(data.get("title"), mask), "status": data.get("status")}
    ]
    params = data.get("invalid-params")
    if isinstance(params, list):
        found += [
            {"param": p.get("name"), "reason": _text(p.get("reason"), mask)} for p in params if isinstance(p, dict)
        ]
    errors = data.get("errors")
    if isinstance(errors, dict):
        found += _fields(errors, [], mask) or []
    return found


def _drf(data: JSONValue, status: int | None, mask: Mask) -> list[JSONValue] | None:
    if status is None or status < 400 or not isinstance(data, dict) or not data:
        return None
    return _fields(data, [], mask)


def _fields(data: dict[str, JSONValue], path: list[JSONValue], mask: Mask) -> list[JSONValue] | None:
    """``{"field": ["message"], "nested": {"field": [...]}}`` as entries, or None when it is not that shape."""
    found: list[JSONValue] = []
    for key, value in data.items():
        where = [*path, key]
        if isinstance(value, dict) and value:
            inner = _fields(value, where, mask)
            if inner is None:
                return None
            found += inner
        elif isinstance(value, list) and value and all(isinstance(m, str) for m in value):
            found += [{"field": where, "message": _text(m, mask)} for m in value]
        elif isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
            # A list serializer: one dict of field errors per element (empty for valid ones).
            for item in value:
                assert isinstance(item, dict)
                inner = _fields(item, [*where, "#"], mask) if item else []
                if inner is None:
                    return None
                found += inner
        else:
            return None
    return found


_READERS: tuple[tuple[str, Callable[[JSONValue, int | None, Mask], list[JSONValue] | None]], ...] = (
    ("graphql", _graphql),
    ("jsonrpc", _jsonrpc),
    ("pydantic", _pydantic),
    ("problem", _problem),
    ("drf", _drf),
)
