"""How a request goes on the wire beyond what it says: the document's ``transport`` object.

Some servers judge how a request is sent, not only what it says (docs/design.md, "When
the document is not the cause"): bot managers score the order of header lines, old
servers look headers up by their exact spelling, some endpoints answer differently over
HTTP/2. The optional ``transport`` object of a request document makes that explicit, so
it diffs, patches and bisects like every other key::

    "transport": {"http": "2", "header_order": ["user-agent", "accept", "cookie"],
                  "header_case": {"user-agent": "User-Agent"}}

Rules
-----
* ``http``: ``"1.1"`` or ``"2"``; absent means HTTP/1.1. HTTP/2 needs TLS (``https``):
  over plain ``http`` the request goes out as HTTP/1.1, as browsers and curl do without
  prior knowledge.
* ``header_order``: lower-case header names in the order their lines are sent; a name
  sent on two lines is listed twice. The n-th line of a name goes where the name is
  listed for the n-th time; a line the list does not place goes after the placed ones,
  in document order; a listed name the request does not carry is skipped (a candidate
  that applies part of an order change may list a name once too often). ``Host`` is not
  listed: over HTTP/1.1 it always goes first and over HTTP/2 it is ``:authority``.
* ``header_case``: the spelling on the wire of each name that is not sent in lower
  case. A document with a ``transport`` object sends every other name in lower case; a
  document without one is sent as today (the spelling of its capture). Over HTTP/2 every
  name is lower case (RFC 9113, section 8.2.1), whatever ``header_case`` says.

This module does no I/O and holds no state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["HTTP_VERSIONS", "TRANSPORT_KEYS", "check_transport", "shape_headers", "transport_of"]

HTTP_VERSIONS = ("1.1", "2")
TRANSPORT_KEYS = ("http", "header_order", "header_case")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: Raises for a broken ``transport``: (message, keys below /transport, expected, got).
Fail = Callable[[str, Sequence[str], str, object], Exception]


def check_transport(value: object, fail: Fail) -> dict[str, Any]:
    """Check a document's ``transport`` object; return it with its names lower-cased."""
    if not isinstance(value, dict):
        raise fail("wrong type", (), "an object with http, header_order and header_case", value)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in TRANSPORT_KEYS:
            raise fail(f"unknown key {key!r}", (key,), "one of " + ", ".join(TRANSPORT_KEYS), key)
        if key == "http":
            if item not in HTTP_VERSIONS:
                raise fail("not an HTTP version this client sends", (key,), '"1.1" or "2"', item)
            out[key] = item
        elif key == "header_order":
            if not isinstance(item, list) or not all(isinstance(n, str) and _TOKEN.fullmatch(n) for n in item):
                raise fail("wrong type", (key,), "a list of header names", item)
            out[key] = [name.lower() for name in item]
        else:
            if not isinstance(item, dict):
                raise fail("wrong type", (key,), 'an object such as {"user-agent": "User-Agent"}', item)
            case: dict[str, str] = {}
            for name, spelling in item.items():
                if not isinstance(spelling, str) or spelling.lower() != name.lower() or not _TOKEN.fullmatch(spelling):
                    raise fail("not a spelling of its name", (key, name), f"{name!r} in other letter case", spelling)
                case[name.lower()] = spelling
            out[key] = case
    return out


def shape_headers(lines: Sequence[tuple[str, str]], transport: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Header lines in the order and spelling ``transport`` asks for (unchanged without one)."""
    if transport is None:
        return list(lines)
    places: dict[str, list[int]] = {}
    for i, name in enumerate(transport.get("header_order") or ()):
        places.setdefault(str(name).lower(), []).append(i)
    seen: dict[str, int] = {}
    keyed = []
    for i, line in enumerate(lines):
        low = line[0].lower()
        nth = seen[low] = seen.get(low, -1) + 1
        spots = places.get(low, [])
        keyed.append(((spots[nth] if nth < len(spots) else len(places) + len(lines), i), line))
    ordered = [line for _, line in sorted(keyed, key=lambda item: item[0])]
    case: Mapping[str, str] = {} if transport.get("http") == "2" else transport.get("header_case") or {}
    return [(case.get(name.lower(), name.lower()), value) for name, value in ordered]


def transport_of(lines: Sequence[tuple[str, str]], http: str | None) -> dict[str, Any]:
    """What a capture shows of how it was sent: its HTTP version, header order and spelling.

    ``lines`` are the header lines the document keeps (no ``host``, no pseudo-headers).
    An order of fewer than two lines, and a case map with nothing to say, are left out.
    """
    order: list[str] = []
    case: dict[str, str] = {}
    for name, _ in lines:
        low = name.lower()
        order.append(low)
        if name != low:
            case.setdefault(low, name)
    out: dict[str, Any] = {}
    if http is not None:
        out["http"] = http
    if len(order) > 1:
        out["header_order"] = order
    if case and http != "2":
        out["header_case"] = case
    return out
