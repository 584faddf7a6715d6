"""``fetch(...)`` calls, as browsers copy them ("Copy as fetch", "Copy as fetch (Node.js)").

Chrome writes ``fetch("URL", OPTIONS);`` where OPTIONS is ``JSON.stringify(init, null, 2)``:
``headers`` (names lower-cased and sorted, without the headers a page may not set:
``cookie``, ``user-agent``, ``referer``, ``origin``, ``accept-encoding``...), ``referrer``,
``referrerPolicy``, ``body`` (a string, or ``null``), ``method``, ``mode`` and
``credentials``. Its Node.js variant drops ``mode``/``credentials``/``referrer`` and
puts ``cookie``, ``Referer`` and ``Referrer-Policy`` into ``headers``. Firefox writes
``await fetch("URL", {...});`` with four-space indents, header names as sent (User-Agent
included) and no ``body`` key for a request without one.

The options are read as the JSON-like literal they are (:class:`_Literal`): JSON plus
what JavaScript allows in a literal a person may have edited: single quotes, unquoted
keys, trailing commas, ``undefined``, comments. A syntax error names its line and column.

What is sent is what ``fetch`` sends for these options: the method (``get``, ``post``...
upper-cased as the Fetch standard does; others as written), the headers in order, a
``Referer`` from ``referrer`` (after the headers), ``Content-Type: text/plain;charset=UTF-8``
for a string body without a content type, and the body encoded as UTF-8 (a lone UTF-16
surrogate becomes U+FFFD, as USVString conversion does). What the browser adds on its own
(User-Agent, its cookies with ``credentials: "include"``, Origin, Accept-Encoding) is not
in the call, so it is not in the document; a warning says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.wire import WireRequest, from_wire

__all__ = ["load", "looks_like", "usv_string"]

_FETCH = re.compile(r"(?:await\s+)?fetch\s*\(")
_NORMALISED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KNOWN = frozenset({"method", "headers", "body", "referrer", "referrerPolicy", "credentials", "mode", "cache",
                    "redirect", "integrity", "keepalive", "signal", "priority", "window", "duplex"})


def looks_like(text: str) -> bool:
    """Whether the text starts (after comments) with a ``fetch(`` call."""
    return _FETCH.match(_strip_comments(text).lstrip()) is not None


def _strip_comments(text: str) -> str:
    """The text after leading ``//`` and ``/* */`` comments and blank lines."""
    while True:
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith("//"):
            text = stripped.partition("\n")[2]
        elif stripped.startswith("/*") and "*/" in stripped:
            text = stripped.split("*/", 1)[1]
        else:
            return stripped


def usv_string(text: str) -> str:
    """UTF-16 code units as JavaScript and .NET strings hold them, made a Python string.

    Surrogate pairs become one character; a lone surrogate becomes U+FFFD, as encoding
    to UTF-8 does in browsers and in .NET.
    """
    if not re.search("[\ud800-\udfff]", text):
        return text
    joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return re.sub("[\ud800-\udfff]", "\ufffd", joined)


class _Literal:
    """A cursor over JavaScript source reading the JSON-like subset fetch calls use."""

    def __init__(self, text: str, source: str) -> None:
        self.text, self.source, self.pos = text, source, 0
        self.depth = 0
        #: Where each value of the outermost object starts, for messages about it.
        self.at: dict[str, int] = {}

    def error(self, message: str, pos: int | None = None, **kwargs: str) -> InputError:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return InputError(message, source=self.source, location=f"line {line}, column {column}", **kwargs)

    def got(self) -> str:
        return repr(self.text[self.pos]) if self.pos < len(self.text) else "the end of the text"

    def skip(self) -> None:
        while True:
            match = re.compile(r"\s+|//[^\n]*|/\*.*?\*/", re.S).match(self.text, self.pos)
            if not match or not match.group():
                if self.text.startswith("/*", self.pos):
                    raise self.error("unterminated comment")
                return
            self.pos = match.end()

    def expect(self, char: str, what: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.pos):
            raise self.error(f"missing {what}", got=self.got())
        self.pos += 1

    def value(self) -> Any:
        self.skip()
        char = self.text[self.pos : self.pos + 1]
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char in "\"'`":
            return self.string()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            return float(number.group()) if re.search(r"[.eE]", number.group()) else int(number.group())
        word = _IDENT.match(self.text, self.pos)
        if word and word.group() in ("true", "false", "null", "undefined"):
            self.pos = word.end()
            return {"true": True, "false": False, "null": None, "undefined": None}[word.group()]
        if word:
            raise self.error(f"{word.group()!r} is not a literal value (a variable or expression cannot be read)",
                             hint="paste the value itself")
        raise self.error("missing a value", expected="a string, number, object, array, true, false or null",
                         got=self.got())

    def object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def member() -> None:
            key_at = self.pos
            if self.text[self.pos : self.pos + 1] in "\"'":
                key = self.string()
            else:
                word = _IDENT.match(self.text, self.pos) or _NUMBER.match(self.text, self.pos)
                if not word:
                    raise self.error("missing a property name", expected="a quoted or plain name", got=self.got())
                key, self.pos = word.group(), word.end()
            if key in out:
                raise self.error(f"property {key!r} appears twice", key_at)
            self.expect(":", f"':' after the property name {key!r}")
            self.skip()
            if self.depth == 1:
                self.at[key] = self.pos
            out[key] = self.value()

        self.depth += 1
        try:
            self.items("}", "object", "properties", member)
        finally:
            self.depth -= 1
        return out

    def array(self) -> list[Any]:
        out: list[Any] = []
        self.items("]", "array", "elements", lambda: out.append(self.value()))
        return out

    def items(self, close: str, kind: str, plural: str, item: Callable[[], None]) -> None:
        """Read comma-separated items (a trailing comma allowed) up to ``close``."""
        start = self.pos
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return
            if self.pos >= len(self.text):
                break
            item()
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif self.pos >= len(self.text):
                break
            elif not self.text.startswith(close, self.pos):
                raise self.error(f"missing ',' between {plural}", expected=f"',' or '{close}'", got=self.got())
        raise self.error(f"unterminated {kind}: no closing '{close}'", start)

    def string(self) -> str:
        start, quote, out = self.pos, self.text[self.pos], list[str]()
        self.pos += 1
        while True:
            if self.pos >= len(self.text) or (self.text[self.pos] == "\n" and quote != "`"):
                raise self.error("unterminated string", start)
            char = self.text[self.pos]
            if char == quote:
                self.pos += 1
                return usv_string("".join(out))
            if quote == "`" and self.text.startswith("${", self.pos):
                raise self.error("a template string with ${...} cannot be read", self.pos,
                                 hint="paste the value itself")
            if char != "\\":
                out.append(char)
                self.pos += 1
                continue
            out.append(self.escape())

    def escape(self) -> str:
        at = self.pos
        char = self.text[self.pos + 1 : self.pos + 2]
        self.pos += 2
        if char in _ESCAPES and not (char == "0" and self.text[self.pos : self.pos + 1].isdigit()):
            return _ESCAPES[char]
        if char in ("x", "u"):
            braced = char == "u" and self.text.startswith("{", self.pos)
            pattern = r"\{([0-9A-Fa-f]{1,6})\}" if braced else ("[0-9A-Fa-f]{2}" if char == "x" else "[0-9A-Fa-f]{4}")
            match = re.compile(pattern).match(self.text, self.pos)
            if not match or int(match.group(1 if braced else 0), 16) > 0x10FFFF:
                raise self.error(f"invalid \\{char} escape", at)
            self.pos = match.end()
            return chr(int(match.group(1 if braced else 0), 16))
        if char == "\n":
            return ""
        if char == "\r":
            self.pos += 1 if self.text.startswith("\n", self.pos) else 0
            return ""
        if not char:
            raise self.error("unterminated string", at)
        return char


def _call(text: str, source: str) -> tuple[str, dict[str, Any], _Literal, list[str]]:
    """The URL and options of the first fetch call, the cursor that read them, and warnings."""
    lit = _Literal(text.replace("\r\n", "\n"), source)
    text = lit.text
    lit.skip()
    match = _FETCH.match(text, lit.pos)
    if not match:
        raise lit.error("no fetch call found", hint='the text must start with fetch("URL", {...})')
    lit.pos = match.end()
    lit.skip()
    if text[lit.pos : lit.pos + 1] not in ("'", '"', "`"):
        raise lit.error("missing the URL", expected="a quoted string", got=lit.got())
    url_at, url = lit.pos, lit.string()
    lit.at["url"] = url_at
    options: Any = {}
    lit.skip()
    if text.startswith(",", lit.pos):
        lit.pos += 1
        lit.skip()
        if not text.startswith(")", lit.pos):
            at = lit.pos
            options = lit.value()
            if options is not None and not isinstance(options, dict):
                raise lit.error("the options of fetch must be an object", at)
            lit.skip()
            if text.startswith(",", lit.pos):
                lit.pos += 1
    lit.expect(")", "')' closing the fetch call")
    warnings = []
    rest = text[lit.pos :].lstrip(" \t\n;")
    if rest:
        warnings.append(f"line {text.count(chr(10), 0, len(text) - len(rest)) + 1}: everything after the first "
                        "fetch call is ignored")
    return url, options or {}, lit, warnings


def _text(lit: _Literal, value: Any, name: str, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise lit.error(f"{name} must be a string", lit.at.get(key), got=type(value).__name__)
    return value if isinstance(value, str) else str(value)


def _headers(lit: _Literal, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    pairs = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(pairs, list):
        raise lit.error("headers must be an object or a list of [name, value] pairs", lit.at["headers"])
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise lit.error("a header must be a [name, value] pair", lit.at["headers"], got=repr(pair)[:40])
        name = _text(lit, pair[0], "a header name", "headers")
        out.append((name, _text(lit, pair[1], f"the value of header {name!r}", "headers")))
    return out


def load(text: str, *, source: str, base_dir: Path | None = None) -> Capture:
    """Read a ``fetch(url, options)`` call into the request fetch would send.

    Args:
        text: the call, as copied from devtools (browser or Node.js variant).
        source: the file name, for messages.
        base_dir: unused; a fetch call is self-contained.

    Raises:
        InputError: a syntax error, a value that is not a literal, or an option of the
            wrong type, each with its line and column.
    """
    url, options, lit, warnings = _call(text, source)
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        warnings.append(f"options not modelled and ignored: {', '.join(unknown)}")
    method = _text(lit, options.get("method") or "GET", "method", "method")
    method = method.upper() if method.upper() in _NORMALISED_METHODS else method
    headers = _headers(lit, options.get("headers"))
    names = {name.lower() for name, _ in headers}
    referrer = options.get("referrer")
    if referrer and referrer != "about:client" and "referer" not in names:
        headers.append(("Referer", _text(lit, referrer, "referrer", "referrer")))
    body = options.get("body")
    if body is not None and not isinstance(body, str):
        raise lit.error("body must be a string (or null)", lit.at["body"], got=type(body).__name__,
                        hint="a fetch call copied from devtools always has a string body")
    data = b""
    if body is not None:
        data = body.encode("utf-8")
        if "content-type" not in names:
            headers.append(("Content-Type", "text/plain;charset=UTF-8"))
    if "mode" in options or "credentials" in options:
        added = "User-Agent, Origin, Accept-Encoding"
        if options.get("credentials") == "include" and "cookie" not in names:
            added += ", its cookies (credentials: include)"
        warnings.append(f"the browser adds what this call does not hold: {added}; none of it is in the request")
    if not re.match(r"https?://", url, re.I):
        raise lit.error(f"the URL {url!r} is not absolute", lit.at["url"], expected="http:// or https://")
    capture = from_wire(WireRequest(method, url.partition("#")[0], tuple(headers), data), source=source)
    return Capture(capture.document, capture.wire, source, (*capture.warnings, *(f"{source}, {w}" for w in warnings)))
