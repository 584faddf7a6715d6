"""curl command lines in and out.

``load`` splits a command into words the way its shell would (:mod:`.shell`: bash,
Windows cmd or PowerShell), then reads curl's options the way curl 7.88 does, and builds
the request curl would send. The first command of a script that runs curl is read; the
rest is ignored with a warning. ``dump`` writes a bash command that makes curl send
exactly a document's request.

What curl adds by itself
------------------------
The document describes what curl sends, so the headers curl adds on its own are part of
it, in curl's order: ``Authorization`` (``-u``, ``--oauth2-bearer``, URL credentials),
``User-Agent: curl/7.88.1`` (:data:`CURL_USER_AGENT`; the command does not say which
curl runs it, so this is the version reqbisect is tested against), ``Accept: */*``,
``Accept-Encoding`` (``--compressed``, :data:`CURL_ACCEPT_ENCODING`), ``Referer``,
``Cookie`` (``-b``), then the ``-H`` headers, then ``Content-Type`` for ``-d`` and
``-F``. ``-r RANGE`` adds ``Range: bytes=RANGE`` after ``Authorization`` (or, when a
body is sent, ``Content-Range: bytes RANGE/LENGTH``, as curl does). ``-H 'Name:'`` removes one of these, ``-H 'Name;'`` sends an empty header.
``Host`` and ``Content-Length`` are derived when sending (an ``-H 'Host: ...'`` is
dropped with a warning). The multipart boundary curl draws at random is replaced by a
fixed one derived from the content.

Options are read by :mod:`.curl_options`, which says which are modelled and how the
others are reported: no option is dropped silently. Warnings are returned in
:attr:`Capture.warnings`, one line each, for stderr.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reqbisect._types import Document
from reqbisect.bodies import multipart_body
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.formats.curl_options import CurlCommand, encode as _encode, read_options
from reqbisect.formats.shell import Word, commands, quote
from reqbisect.wire import WireRequest, from_wire, to_wire

__all__ = ["CURL_ACCEPT_ENCODING", "CURL_USER_AGENT", "Word", "dump", "load", "quote", "split_words"]

#: The User-Agent a parsed command gets when it sets none.
CURL_USER_AGENT = "curl/7.88.1"
#: What ``--compressed`` asks for (curl 7.88.1 built with brotli and zstd).
CURL_ACCEPT_ENCODING = "deflate, gzip, br, zstd"


def split_words(
    text: str, *, source: str, dialect: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[list[Word], dict[str, bytes], list[str]]:
    """Split a shell text into the words of its first command that runs curl.

    Args:
        text: a command or a script, in bash, cmd or PowerShell syntax.
        source: the file name, for messages.
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.
        env: what bash's ``$NAME`` expands to (nothing is set when ``None``).

    Returns:
        The words (with their positions), the contents of ``<(printf ...)`` process
        substitutions by the path that stands for them, and warnings.

    Raises:
        InputError: an unterminated quote (with line and column), or no curl command.
    """
    found, files, warnings = commands(text, source=source, dialect=dialect, env=env)
    for index, command in enumerate(found):
        words = command[next((k for k, w in enumerate(command) if "=" not in w.text), len(command)):]
        if words and Path(words[0].text.replace("\\", "/")).name.lower() in ("curl", "curl.exe"):
            if index + 1 < len(found):
                rest = found[index + 1][0]
                warnings.append(f"line {rest.line}: everything after the curl command (from {rest.text!r}) is ignored")
            return words, files, warnings
    raise InputError("no curl command found", source=source, hint="the first word must be curl or curl.exe")


# -- the request curl sends --------------------------------------------------------------


def _remove_dots(path: str) -> str:
    segments, out = path.split("/"), [""]
    for k, segment in enumerate(segments[1:], 1):
        last = k == len(segments) - 1
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
            continue
        if last:
            out.append("")
    return "/".join(out) or "/"


def _ascii(text: str) -> str:
    """Bytes past ASCII percent-encoded in lower-case hex, as curl 7.88 writes them in a path.

    curl sends a query's bytes raw, which HTTP/1.1 does not allow in a request target
    (RFC 9112 section 3.2) and the HTTP client refuses to send; percent-encoded, the
    server decodes the same bytes.
    """
    return re.sub(r"[^\x00-\x7f]+", lambda m: "".join(f"%{b:02x}" for b in _encode(m.group())), text)


def _url(cmd: CurlCommand, word: Word) -> tuple[str, str | None]:
    """The URL curl requests, and the credentials it carried (as a Basic value)."""
    text = word.text.strip()
    if "://" not in text.partition("?")[0]:
        text = "http://" + text
    text = text.partition("#")[0]
    if "globoff" not in cmd.flags:
        if re.search(r"[\[\]{}]", re.sub(r"\\[\[\]{}]", "", text)):
            cmd.warn("curl expands [] and {} in URLs unless -g is given; the URL is taken literally", word)
        text = re.sub(r"\\([\[\]{}])", r"\1", text)  # curl's glob: \[ is a literal [
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise cmd.error(f"unsupported URL scheme {parts.scheme!r}", word, expected="http or https")
    userinfo, at, host = parts.netloc.rpartition("@")
    credentials = None
    if at:
        user, _, password = userinfo.partition(":")
        credentials = "Basic " + base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode("utf-8", "surrogateescape")).decode()
    path = _ascii(parts.path or "/")
    if "path-as-is" not in cmd.flags:
        path = _remove_dots(path)
    query = "?" + _ascii(parts.query) if "?" in text else ""
    return f"{parts.scheme.lower()}://{host}{path}{query}", credentials


def _build(cmd: CurlCommand) -> WireRequest:
    if not cmd.urls:
        raise InputError("no URL in the curl command", source=cmd.source)
    for extra in cmd.urls[1:]:
        cmd.warn(f"curl would also request {extra.text!r}; only the first URL is used", extra)
    url, credentials = _url(cmd, cmd.urls[0])
    body = b""
    for k, (piece, is_json) in enumerate(cmd.data):
        body += (b"" if k == 0 or is_json else b"&") + piece
    if "get" in cmd.flags and cmd.data:
        # curl appends the data through its URL parser, which lower-cases %XX escapes.
        query = re.sub(r"%[0-9A-Fa-f]{2}", lambda m: m.group().lower(), body.decode("utf-8", "surrogateescape"))
        url += ("&" if "?" in url else "?") + query
        body = b""
    has_json = any(is_json for _, is_json in cmd.data)
    custom = list(cmd.headers)
    present = {name.lower() for name, _ in custom}
    if has_json:
        custom += [(n, v) for n, v in (("Content-Type", "application/json"), ("Accept", "application/json"))
                   if n.lower() not in present]
        present |= {"content-type", "accept"}
    headers: list[tuple[str, str]] = []
    for name, value in (("Authorization", cmd.authorization or credentials), ("User-Agent", cmd.agent),
                        ("Accept", "*/*"), ("Accept-Encoding", "compressed" in cmd.flags and CURL_ACCEPT_ENCODING),
                        ("Referer", cmd.referer), ("Cookie", ";".join(cmd.cookies))):
        if name == "User-Agent" and value is None:
            value = CURL_USER_AGENT
        if value and name.lower() not in present:
            headers.append((name, str(value)))
    headers += [(n, v) for n, v in custom if v is not None]
    if cmd.forms:
        seed = hashlib.sha256(repr(cmd.forms).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        boundary = "-" * 24 + seed
        body = multipart_body(cmd.forms, boundary)
        for k, (name, value) in enumerate(headers):
            if name.lower() == "content-type" and "boundary=" not in value.lower():
                headers[k] = (name, f"{value}; boundary={boundary}")
        if "content-type" not in present:
            headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
    elif cmd.data and "get" not in cmd.flags and "content-type" not in present:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    if cmd.range is not None:
        # curl asks for a range of the answer, or, sending a body, states which range it is.
        sends_body = cmd.forms or (cmd.data and "get" not in cmd.flags)
        name, value = ("Content-Range", f"bytes {cmd.range}/{len(body)}") if sends_body else \
            ("Range", f"bytes={cmd.range}")
        if name.lower() not in present:
            headers.insert(1 if headers and headers[0][0] == "Authorization" else 0, (name, value))
    if cmd.method:
        method = cmd.method
    elif "head" in cmd.flags:
        method = "HEAD"
    else:
        method = "GET" if "get" in cmd.flags or not (cmd.data or cmd.forms) else "POST"
    # Only an explicit option says which version was meant: a command copied from a browser
    # or written by hand rarely does, and HTTP/1.1 is what this client sends by default.
    http = "2" if url.startswith("https:") and cmd.flags & {"http2", "http2-prior-knowledge", "http3", "http3-only"} \
        else None
    if cmd.flags & {"http3", "http3-only"}:
        cmd.warn("HTTP/3 cannot be sent from here; HTTP/2 is offered instead", cmd.urls[0])
    return WireRequest(method, url, tuple(headers), body, http)


def load(
    text: str, *, source: str, base_dir: Path | None = None, dialect: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Capture:
    """Read a curl command line (bash, cmd or PowerShell) into the request curl would send.

    Args:
        text: the command, possibly inside a script.
        source: the file name, for messages.
        base_dir: where ``@file`` arguments are read from (default: the working directory).
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.
        env: what bash's ``$NAME`` and ``${NAME}`` expand to; the process environment
            when ``None``, as when the command runs in this shell.

    Returns:
        The capture; ``warnings`` lists options that were ignored and other approximations.

    Raises:
        InputError: unterminated quotes, unknown options, unreadable files, no URL.
    """
    words, files, warnings = split_words(text, source=source, dialect=dialect,
                                         env=os.environ if env is None else env)
    cmd = CurlCommand(source, base_dir or Path.cwd(), files, warnings)
    read_options(cmd, words[1:])
    capture = from_wire(_build(cmd), source=source)
    return replace(capture, warnings=tuple(f"{source}, {w}" for w in cmd.warnings))


# -- writing a command ----------------------------------------------------------------


def _printf_file(data: bytes) -> str:
    # A format starting with "-" would read as an option, so a leading "-" is escaped too.
    fmt = "".join("%%" if b == 0x25 else chr(b) if 0x20 <= b < 0x7F and b not in b"\\'" and (k or b != 0x2D)
                  else f"\\x{b:02x}" for k, b in enumerate(data))
    return f"@<(printf '{fmt}')"


def dump(doc: Document, *, like: Sequence[Capture] = ()) -> str:
    """A bash command that makes curl send exactly the document's request.

    curl's own headers that the document does not have are removed with ``-H 'Name:'``;
    the body goes as ``--data-binary`` (through ``<(printf ...)`` when it holds NUL bytes).
    """
    wire = to_wire(doc, like=like)
    args = [quote(wire.url)]
    path = urlsplit(wire.url).path
    if re.search(r"[\[\]{}]", wire.url):
        args.append("--globoff")
    if re.search(r"(^|/)\.\.?(/|$)", path):
        args.append("--path-as-is")
    if wire.http == "2" and wire.url.startswith("https:"):
        args.append("--http2")
    elif wire.url.startswith("https:") and isinstance(doc.get("transport"), dict):
        args.append("--http1.1")  # curl would offer h2 by ALPN; a document that says how it is sent says 1.1
    if wire.method == "HEAD" and not wire.body:
        args.append("-I")
    elif wire.method != ("POST" if wire.body else "GET"):
        args.append(f"-X {quote(wire.method)}")
    names = {name.lower() for name, _ in wire.headers}
    removed = [n for n in ("User-Agent", "Accept") if n.lower() not in names]
    if wire.body and "content-type" not in names:
        removed.append("Content-Type")
    if len(wire.body) > 1024 * 1024 and "expect" not in names:
        removed.append("Expect")
    args += [f"-H {quote(name + ':')}" for name in removed]
    args += [f"-H {quote(f'{n}: {v}' if v.strip() else f'{n};')}" for n, v in wire.headers]
    if b"\0" in wire.body:
        args.append(f"--data-binary {_printf_file(wire.body)}")
    elif wire.body:
        args.append(f"{'--data-raw' if wire.body.startswith(b'@') else '--data-binary'} {quote(wire.body)}")
    return "curl " + " \\\n  ".join(args) + "\n"
