"""Postman collections (format v2.1, https://schema.postman.com/collection/json/v2.1.0/).

A request is picked with ``file.postman_collection.json#Folder/Request name`` (its
folders and name, joined by ``/``; the name alone when it is unique) or ``#N`` (counting
from 0, depth first in file order, as the error listing them shows); a collection with one
request needs no selector.

``{{name}}`` is replaced everywhere (URL, headers, bodies, auth) by the environment given
with ``--env FILE`` (a Postman environment export; disabled values are skipped), which
wins over the collection's own ``variable`` list, as in Postman. A value may itself hold
``{{...}}``. A name that neither defines is an input error that names it, and so is a
dynamic variable (``{{$guid}}``, ``{{$timestamp}}``...), whose value Postman draws anew on
every send.

What is sent is what Postman's runtime sends for the request:

* the URL from ``url.raw`` (or its parts when there is no ``raw``), with ``:name`` path
  variables from ``url.variable``, characters a URL cannot hold percent-encoded, and
  ``http://`` when it has no scheme;
* enabled ``header`` entries in order, then the auth header, then the body's
  ``Content-Type`` when the headers have none;
* the body by ``mode``: ``raw`` (``Content-Type`` by ``options.raw.language``: json,
  javascript, html, xml, else text/plain), ``urlencoded`` (percent-encoded as Node's
  querystring does), ``formdata`` (multipart; text fields, and file fields read from the
  file beside the collection), ``file`` and ``graphql`` (``{"query": ..., "variables":
  ...}``). A body of a GET, HEAD, COPY, PURGE or UNLOCK request is dropped unless
  ``protocolProfileBehavior.disableBodyPruning`` is set, as Postman does;
* auth from the request, else its nearest folder, else the collection: ``bearer``,
  ``basic`` and ``apikey`` (header or query); ``noauth`` sends none; other kinds are
  not applied (a warning says so).

Postman's own ``User-Agent``, ``Accept``, ``Accept-Encoding`` and ``Postman-Token``
headers are not in the collection, so they are not in the document; a warning says so.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reqbisect.bodies import multipart_body
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.formats.native import parse_json
from reqbisect.wire import WireRequest, from_wire

__all__ = ["load", "load_environment", "looks_like"]

_VARIABLE = re.compile(r"\{\{([^{}]+)\}\}")
_RAW_TYPES = {"json": "application/json", "javascript": "application/javascript", "html": "text/html",
              "xml": "application/xml"}
_PRUNED = frozenset({"GET", "HEAD", "COPY", "PURGE", "UNLOCK"})


def looks_like(text: str) -> bool:
    """Whether a JSON text is a Postman collection (its ``info`` names Postman's schema)."""
    head = text[:4096]
    return bool(re.search(r'"info"\s*:', head) and re.search(r'"item"\s*:', text)
                and re.search(r'schema\.(get)?postman\.com|"_postman_id"', head))


def load_environment(path: str | Path) -> dict[str, str]:
    """The enabled values of a Postman environment (or globals) export, by name.

    Raises:
        InputError: unreadable file, invalid JSON (line and column), or not an environment.
    """
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    except OSError as exc:
        raise InputError(f"cannot read the environment: {exc.strerror}", source=source) from None
    data = parse_json(text, source=source)
    values = data.get("values") if isinstance(data, dict) else None
    if not isinstance(values, list):
        raise InputError("not a Postman environment", source=source, location="/values",
                         expected="a list of {key, value, enabled}")
    out: dict[str, str] = {}
    for i, item in enumerate(values):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise InputError("wrong type", source=source, location=f"/values/{i}", expected="an object with a key")
        if item.get("enabled", True) is not False:
            out[item["key"]] = _scalar(item.get("value"))
    return out


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


class _Collection:
    """The collection, the variables in scope, and the request being read."""

    def __init__(self, data: Any, source: str, env: Mapping[str, str] | None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("item"), list):
            raise InputError("not a Postman collection", source=source, location="/item", expected="a list of items")
        self.data, self.source, self.env = data, source, env
        self.variables = {v["key"]: _scalar(v.get("value")) for v in data.get("variable") or []
                          if isinstance(v, dict) and isinstance(v.get("key"), str) and not v.get("disabled")}
        self.variables.update(env or {})
        #: (path of names, pointer, the item, the auth blocks of its ancestors, nearest last)
        self.requests: list[tuple[str, str, dict[str, Any], list[Any]]] = []
        self._walk(data["item"], "", "/item", [data.get("auth")])

    def _walk(self, items: list[Any], prefix: str, pointer: str, auths: list[Any]) -> None:
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError("wrong type", source=self.source, location=f"{pointer}/{i}", expected="an object")
            name = prefix + str(item.get("name", i))
            if isinstance(item.get("item"), list):
                self._walk(item["item"], name + "/", f"{pointer}/{i}/item", [*auths, item.get("auth")])
            elif "request" in item:
                self.requests.append((name, f"{pointer}/{i}", item, auths))

    def listing(self) -> str:
        lines = []
        for i, (name, _, item, _) in enumerate(self.requests[:30]):
            request = item["request"]
            method = request.get("method", "GET") if isinstance(request, dict) else "GET"
            lines.append(f"#{i} {method} {name}")
        return "; ".join(lines) + ("; ..." if len(self.requests) > 30 else "")

    def select(self, selector: str | None) -> int:
        count, source = len(self.requests), self.source
        if not count:
            raise InputError("the collection has no requests", source=source)
        if selector is None:
            if count == 1:
                return 0
            raise InputError(f"the collection has {count} requests; pick one with {source}#Folder/Name or "
                             f"{source}#N: {self.listing()}", source=source)
        if selector.isdigit():
            if int(selector) >= count:
                raise InputError(f"no request {selector} (the collection has {count}: #0..#{count - 1})",
                                 source=f"{source}#{selector}")
            return int(selector)
        for whole in (True, False):
            found = [i for i, r in enumerate(self.requests) if (r[0] if whole else r[0].rpartition("/")[2]) == selector]
            if len(found) == 1:
                return found[0]
            if found:
                raise InputError(f"{len(found)} requests are named {selector!r}; give the folders too or #N: "
                                 f"{self.listing()}", source=f"{source}#{selector}")
        raise InputError(f"no request named {selector!r} (requests: {self.listing()})", source=f"{source}#{selector}")

    def resolve(self, text: str, pointer: str) -> str:
        """``text`` with every ``{{name}}`` replaced, nested ones too."""
        for _ in range(20):
            match = _VARIABLE.search(text)
            if not match:
                return text
            name = match.group(1).strip()
            if name not in self.variables:
                if name.startswith("$"):
                    raise InputError(f"the dynamic variable {{{{{name}}}}} gets a new value on every send",
                                     source=self.source, location=pointer,
                                     hint=f"give {name!r} a fixed value in the environment (--env FILE)")
                where = "in the environment or the collection's variables" if self.env is not None else \
                    "in the collection's variables, and no environment was given (--env FILE)"
                raise InputError(f"the variable {{{{{name}}}}} is not defined {where}", source=self.source,
                                 location=pointer)
            text = _VARIABLE.sub(lambda m: self.variables.get(m.group(1).strip(), m.group()), text)
        raise InputError("variables refer to each other in a loop", source=self.source, location=pointer)

    def string(self, obj: Mapping[str, Any], key: str, pointer: str, default: str = "") -> str:
        value = obj.get(key, default)
        if value is None:
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise InputError("wrong type", source=self.source, location=f"{pointer}/{key}", expected="a string",
                             got=type(value).__name__)
        return self.resolve(str(value), f"{pointer}/{key}")

    def pairs(self, items: Any, pointer: str) -> list[tuple[str, str, dict[str, Any]]]:
        """Enabled ``{key, value}`` entries, resolved."""
        if items is None:
            return []
        if not isinstance(items, list):
            raise InputError("wrong type", source=self.source, location=pointer, expected="a list")
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError("wrong type", source=self.source, location=f"{pointer}/{i}", expected="an object")
            if not item.get("disabled"):
                out.append((self.string(item, "key", f"{pointer}/{i}"), self.string(item, "value", f"{pointer}/{i}"),
                            item))
        return out


def _url(c: _Collection, url: Any, pointer: str) -> str:
    if isinstance(url, str):
        text = c.resolve(url, f"{pointer}/url")
    elif isinstance(url, dict) and "raw" in url:
        text = c.string(url, "raw", f"{pointer}/url")
    elif isinstance(url, dict):
        host = ".".join(url.get("host") or []) if isinstance(url.get("host"), list) else str(url.get("host", ""))
        path = "/".join(url.get("path") or []) if isinstance(url.get("path"), list) else str(url.get("path", ""))
        query = "&".join(f"{k}={v}" for k, v, _ in c.pairs(url.get("query"), f"{pointer}/url/query"))
        text = c.resolve(f"{url.get('protocol', 'http')}://{host}{':' + str(url['port']) if url.get('port') else ''}"
                         f"/{path.lstrip('/')}{'?' + query if query else ''}", f"{pointer}/url")
    else:
        raise InputError("the request has no URL", source=c.source, location=f"{pointer}/url")
    if isinstance(url, dict):
        for name, value, _ in c.pairs(url.get("variable"), f"{pointer}/url/variable"):
            text = re.sub(rf"(?<=/):{re.escape(name)}(?=[/?#]|$)", value.replace("\\", "\\\\"), text)
    text = text.strip().partition("#")[0]
    if not re.match(r"[A-Za-z][\w+.-]*://", text):
        text = "http://" + text
    if not re.match(r"https?://", text, re.I):
        raise InputError(f"unsupported URL {text!r}", source=c.source, location=f"{pointer}/url",
                         expected="http:// or https://")
    return quote(text, safe="!#$%&'()*+,/:;=?@[]~")


def _auth(c: _Collection, auths: list[Any], pointer: str, warnings: list[str]) -> tuple[str, str, str] | None:
    """(``header`` or ``query``, name, value) the nearest auth block adds, or ``None``."""
    auth = next((a for a in reversed(auths) if isinstance(a, dict) and a.get("type") not in (None, "inherit")), None)
    if auth is None or auth.get("type") == "noauth":
        return None
    kind = str(auth["type"])
    raw = auth.get(kind) or []
    fields = {k: _scalar(v) for k, v in raw.items()} if isinstance(raw, dict) else \
        {str(f.get("key")): _scalar(f.get("value")) for f in raw if isinstance(f, dict)}
    fields = {k: c.resolve(v, f"{pointer}/auth/{kind}") for k, v in fields.items()}
    if kind == "bearer":
        return "header", "Authorization", f"Bearer {fields.get('token', '')}"
    if kind == "basic":
        pair = f"{fields.get('username', '')}:{fields.get('password', '')}".encode()
        return "header", "Authorization", "Basic " + base64.b64encode(pair).decode()
    if kind == "apikey":
        return fields.get("in", "header"), fields.get("key", ""), fields.get("value", "")
    warnings.append(f"auth of type {kind!r} is not applied; send its header yourself")
    return None


def _body(c: _Collection, body: Any, pointer: str, base_dir: Path) -> tuple[bytes, str | None]:
    """The body bytes and the Content-Type its mode implies."""
    if not isinstance(body, dict) or body.get("disabled"):
        return b"", None
    mode, at = body.get("mode"), f"{pointer}/body"
    if mode == "raw":
        language = ((body.get("options") or {}).get("raw") or {}).get("language", "text")
        return c.string(body, "raw", at).encode("utf-8"), _RAW_TYPES.get(language, "text/plain")
    if mode == "urlencoded":
        fields = c.pairs(body.get("urlencoded"), f"{at}/urlencoded")
        text = "&".join(f"{quote(k, safe=_QS_SAFE)}={quote(v, safe=_QS_SAFE)}" for k, v, _ in fields)
        return text.encode(), "application/x-www-form-urlencoded"
    if mode == "formdata":
        parts: list[tuple[str, Any]] = []
        for i, (name, value, item) in enumerate(c.pairs(body.get("formdata"), f"{at}/formdata")):
            if item.get("type") == "file":
                src = item.get("src")
                src = src[0] if isinstance(src, list) and src else src
                content = _read_beside(c, src, base_dir, f"{at}/formdata/{i}/src")
                ctype = item.get("contentType") or mimetypes.guess_type(str(src))[0] or "application/octet-stream"
                parts.append((name, {"filename": Path(str(src)).name, "content_type": ctype,
                                     "content_base64": base64.b64encode(content).decode()}))
            elif item.get("contentType"):
                parts.append((name, {"content_type": item["contentType"], "content": value}))
            else:
                parts.append((name, value))
        boundary = "-" * 26 + hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
        return multipart_body(parts, boundary), f"multipart/form-data; boundary={boundary}"
    if mode == "file":
        src = (body.get("file") or {}).get("src")
        return _read_beside(c, src, base_dir, f"{at}/file/src"), None
    if mode == "graphql":
        graphql = body.get("graphql") or {}
        query = c.string(graphql, "query", f"{at}/graphql")
        variables_text = c.string(graphql, "variables", f"{at}/graphql").strip()
        try:
            variables = json.loads(variables_text) if variables_text else {}
        except json.JSONDecodeError as exc:
            raise InputError(f"the GraphQL variables are not JSON: {exc.msg}", source=c.source,
                             location=f"{at}/graphql/variables") from None
        return json.dumps({"query": query, "variables": variables}, ensure_ascii=False,
                          separators=(",", ":")).encode(), "application/json"
    raise InputError(f"unknown body mode {mode!r}", source=c.source, location=f"{at}/mode",
                     expected="raw, urlencoded, formdata, file or graphql")


# Node's querystring.escape leaves these unescaped besides letters and digits.
_QS_SAFE = "-_.!~*'()"


def _read_beside(c: _Collection, src: Any, base_dir: Path, pointer: str) -> bytes:
    if not isinstance(src, str) or not src:
        raise InputError("a file field names no file", source=c.source, location=pointer)
    for candidate in (base_dir / src, base_dir / Path(src.replace("\\", "/")).name):
        if candidate.is_file():
            return candidate.read_bytes()
    raise InputError(f"the file {src!r} is not beside the collection", source=c.source, location=pointer,
                     hint=f"put {Path(src.replace(chr(92), '/')).name!r} in {str(base_dir)!r}")


def load(text: str, *, source: str, base_dir: Path | None = None, entry: str | None = None,
         env: Mapping[str, str] | None = None) -> Capture:
    """Read one request of a Postman collection v2.1.

    Args:
        text: the collection (JSON).
        source: the file name, for messages.
        base_dir: where file fields of form bodies are read from (default: the working directory).
        entry: ``"Folder/Request name"``, a unique request name, or ``"N"``.
        env: values of ``{{variables}}`` (see :func:`load_environment`).

    Raises:
        InputError: invalid JSON (line and column), no such request (listing them), an
            undefined variable (naming it), a missing file, a wrong type (JSON pointer).
    """
    c = _Collection(parse_json(text, source=source), source, env)
    index = c.select(entry)
    name, pointer, item, auths = c.requests[index]
    request = item["request"]
    request = {"url": request} if isinstance(request, str) else request
    if not isinstance(request, dict):
        raise InputError("wrong type", source=source, location=f"{pointer}/request", expected="an object")
    pointer += "/request"
    warnings: list[str] = []
    method = c.string(request, "method", pointer, "GET").upper()
    url = _url(c, request.get("url"), pointer)
    headers = [(k, v) for k, v, _ in c.pairs(request.get("header"), f"{pointer}/header")]
    names = {k.lower() for k, _ in headers}
    auth = _auth(c, [*auths, request.get("auth")] if "auth" in request else auths, pointer, warnings)
    if auth and auth[0] == "query":
        url += ("&" if "?" in url else "?") + f"{quote(auth[1], safe=_QS_SAFE)}={quote(auth[2], safe=_QS_SAFE)}"
    elif auth and auth[1].lower() in names:
        warnings.append(f"the request sets {auth[1]} itself, so its auth block is not applied")
    elif auth:
        headers.append((auth[1], auth[2]))
    body, content_type = _body(c, request.get("body"), pointer, base_dir or Path.cwd())
    if body and method in _PRUNED and not (item.get("protocolProfileBehavior") or {}).get("disableBodyPruning"):
        warnings.append(f"the body of a {method} request is not sent (Postman prunes it unless "
                        "protocolProfileBehavior.disableBodyPruning is set)")
        body, content_type = b"", None
    if content_type and "content-type" not in names:
        headers.append(("Content-Type", content_type))
    warnings.append("Postman adds its own User-Agent, Accept, Accept-Encoding and Postman-Token headers unless the "
                    "request sets them; they are not in the request")
    label = f"{source}#{name}"
    capture = from_wire(WireRequest(method, url, tuple(headers), body), source=label)
    return Capture(capture.document, capture.wire, label, (*capture.warnings, *(f"{label}: {w}" for w in warnings)))
