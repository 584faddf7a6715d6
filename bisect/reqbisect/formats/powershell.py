"""PowerShell ``Invoke-WebRequest`` / ``Invoke-RestMethod`` scripts ("Copy as PowerShell").

Chrome and Firefox write the same shape (Firefox puts the user agent in ``-UserAgent``,
Chrome in the session, and Chrome turns HTTP/2 pseudo-headers into headers named
``authority``, ``method``, ``path`` and ``scheme``)::

    $session = New-Object Microsoft.PowerShell.Commands.WebRequestSession
    $session.UserAgent = "Mozilla/5.0 ..."
    $session.Cookies.Add((New-Object System.Net.Cookie("sid", "abc", "/", "example.com")))
    Invoke-WebRequest -UseBasicParsing -Uri "https://example.com/api" `
    -Method "POST" `
    -WebSession $session `
    -Headers @{
    "accept"="*/*"
      "x-note"="caf$([char]233) `"quoted`""
    } `
    -ContentType "application/json" `
    -Body ([System.Text.Encoding]::UTF8.GetBytes("{`"a`":`"$([char]233)`"}"))

What is read: statements separated by newlines or ``;`` (a backtick before the newline
continues the line); ``$name = VALUE`` assignments, ``$s.UserAgent = ...`` and
``$s.Cookies.Add(...)`` on a session; then the first ``Invoke-WebRequest``,
``Invoke-RestMethod``, ``iwr`` or ``irm`` command, whose parameter names are
case-insensitive and may be abbreviated, as in PowerShell. Values are read by
:mod:`.powershell_syntax`; nothing is run, so a variable the script does not assign or
another expression is an error with its line and column. Other statements are skipped
with a warning.

What is sent is what PowerShell 7 sends: the ``-Headers`` in order (a hashtable has no
order in PowerShell; the written one is kept), ``User-Agent`` first when given,
``Cookie`` from the session's cookies, ``Content-Type`` from ``-ContentType`` (for a POST
with a body and none, ``application/x-www-form-urlencoded``), and the body (a string in
the content type's charset, UTF-8 by default; a hashtable form-encoded, or as the query
of a GET). Parameters that change nothing that is sent are listed in one warning; others
that would (``-Credential``, ``-Proxy``, ``-InFile``...) get a warning each.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from reqbisect.codecs import charset_of
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.formats.powershell_syntax import NAME, Cookie, Hash, Reader, Session
from reqbisect.wire import WireRequest, from_wire

__all__ = ["load", "looks_like"]

_COMMANDS = frozenset({"invoke-webrequest", "invoke-restmethod", "iwr", "irm"})
_SWITCHES = frozenset(
    "UseBasicParsing PassThru SkipCertificateCheck DisableKeepAlive UseDefaultCredentials SkipHeaderValidation "
    "SkipHttpErrorCheck FollowRelLink Resume AllowUnencryptedAuthentication PreserveAuthorizationOnRedirect "
    "ProxyUseDefaultCredentials NoProxy AllowInsecureRedirect PreserveHttpMethodOnRedirect Verbose Debug".split()
)
_NO_EFFECT = frozenset(
    "UseBasicParsing PassThru SkipCertificateCheck DisableKeepAlive SkipHeaderValidation SkipHttpErrorCheck "
    "FollowRelLink Verbose Debug SessionVariable TimeoutSec MaximumRedirection OutFile MaximumRetryCount "
    "RetryIntervalSec ErrorAction ErrorVariable WarningAction ResponseHeadersVariable StatusCodeVariable "
    "SslProtocol ConnectionTimeoutSeconds OperationTimeoutSeconds HttpVersion MaximumFollowRelLink "
    "OutVariable PreserveHttpMethodOnRedirect AllowInsecureRedirect".split()
)
_MODELLED = ("Uri", "Method", "CustomMethod", "Headers", "Body", "ContentType", "WebSession", "UserAgent")
_UNMODELLED = ("Credential", "UseDefaultCredentials", "Proxy", "ProxyCredential", "ProxyUseDefaultCredentials",
               "NoProxy", "InFile", "Form", "Authentication", "Token", "TransferEncoding", "Certificate",
               "CertificateThumbprint", "UnixSocket", "AllowUnencryptedAuthentication",
               "PreserveAuthorizationOnRedirect", "Resume")
_PARAMETERS = tuple(dict.fromkeys((*_MODELLED, *_UNMODELLED, *sorted(_NO_EFFECT))))
_PSEUDO = ("authority", "method", "path", "scheme")


def looks_like(text: str) -> bool:
    """Whether a script runs Invoke-WebRequest or Invoke-RestMethod (or their aliases)."""
    return re.search(r"(?im)^[ \t]*(?:\$\w+\s*=\s*)?(invoke-webrequest|invoke-restmethod|iwr|irm)\b", text) is not None


class _Script(Reader):
    """The script's statements, and the Invoke-WebRequest command's parameters."""

    def variable_statement(self) -> None:
        start = self.pos
        match = re.compile(r"\$(" + NAME.pattern + r")\s*(\.UserAgent\s*=|\.Cookies\.Add\s*\(|=)", re.I).match(
            self.text, self.pos)
        if not match:
            self.warnings.append(f"line {self.line(start)}: a statement that is not an assignment is ignored")
            self.skip_statement()
            return
        name, action = match.group(1).lower(), match.group(2).lower()
        self.pos = match.end()
        if action == "=":
            self.variables[name] = self.expression()
            return
        session = self.variables.get(name)
        if not isinstance(session, Session):
            raise self.error(f"${match.group(1)} is not a WebRequestSession", start,
                             hint="create it first: $session = New-Object Microsoft.PowerShell.Commands."
                                  "WebRequestSession")
        if action.startswith(".useragent"):
            session.user_agent = self.text_of(self.expression(), "UserAgent", start)
            return
        cookie = self.resolve(self.expression())
        self.blank()
        if not isinstance(cookie, Cookie) or self.peek() != ")":
            raise self.error("Cookies.Add takes one New-Object System.Net.Cookie(name, value, path, domain)", start)
        self.pos += 1
        session.cookies.append((cookie.name, cookie.value))

    def parameter(self) -> tuple[str, bool]:
        """The canonical name of the ``-Name`` at the cursor, and whether ``:`` gives its value."""
        start = self.pos
        match = re.compile(r"-([A-Za-z]\w*)(:?)").match(self.text, self.pos)
        assert match is not None
        written, self.pos = match.group(1), match.end()
        exact = [p for p in _PARAMETERS if p.lower() == written.lower()]
        found = exact or [p for p in _PARAMETERS if p.lower().startswith(written.lower())]
        if len(found) == 1:
            return found[0], bool(match.group(2))
        if found:
            raise self.error(f"parameter -{written} is ambiguous: it could be {', '.join('-' + p for p in found)}",
                             start)
        close = difflib.get_close_matches(written, _PARAMETERS, n=1)
        raise self.error(f"unknown parameter -{written}" + (f" (did you mean -{close[0]}?)" if close else ""), start)

    def invocation(self) -> dict[str, tuple[Any, int]]:
        """The parameters of an Invoke-WebRequest command, by canonical name."""
        params: dict[str, tuple[Any, int]] = {}
        while True:
            self.blank()
            if self.at_end():
                return params
            at = self.pos
            if re.compile(r"-[A-Za-z]").match(self.text, self.pos):
                name, colon = self.parameter()
                value: Any = True
                if name not in _SWITCHES or colon:
                    value = self.value(bare=True)
            elif "Uri" not in params:
                name, value = "Uri", self.value(bare=True)
            else:
                raise self.error("a second positional argument: only the URI may be given without a parameter name")
            if name in params:
                raise self.error(f"parameter -{name} is given twice", at)
            params[name] = (value, at)


def _pairs(parser: _Script, value: Any, what: str, pos: int) -> list[tuple[str, str]]:
    table = parser.resolve(value)
    if not isinstance(table, Hash):
        raise parser.error(f"{what} must be a hashtable @{{...}}", pos, got=type(table).__name__)
    return [(key, parser.text_of(item, f"the value of {key!r}", at)) for key, item, at in table.pairs]


def _request(parser: _Script, params: dict[str, tuple[Any, int]]) -> WireRequest:
    if "Uri" not in params:
        raise parser.error("the command has no -Uri")
    uri = parser.text_of(params["Uri"][0], "-Uri", params["Uri"][1])
    if not re.match(r"[A-Za-z][\w+.-]*://", uri):
        uri = "http://" + uri
    if urlsplit(uri).scheme.lower() not in ("http", "https"):
        raise parser.error(f"unsupported URI scheme in {uri!r}", params["Uri"][1], expected="http or https")
    method = "GET"
    if "Method" in params:
        method = parser.text_of(params["Method"][0], "-Method", params["Method"][1]).upper()
    if "CustomMethod" in params:
        method = parser.text_of(params["CustomMethod"][0], "-CustomMethod", params["CustomMethod"][1])
    session = Session()
    if "WebSession" in params:
        session = parser.resolve(params["WebSession"][0])
        if not isinstance(session, Session):
            raise parser.error("-WebSession must be a WebRequestSession", params["WebSession"][1])
    agent = session.user_agent
    if "UserAgent" in params:
        agent = parser.text_of(params["UserAgent"][0], "-UserAgent", params["UserAgent"][1])
    headers = [("User-Agent", agent)] if agent is not None else []
    content_type = None
    if "ContentType" in params:
        content_type = parser.text_of(params["ContentType"][0], "-ContentType", params["ContentType"][1])
    parts, dropped = urlsplit(uri), []
    said = {"authority": parts.netloc, "method": method, "scheme": parts.scheme,
            "path": parts.path + ("?" + parts.query if parts.query else "")}
    if "Headers" in params:
        for name, value in _pairs(parser, params["Headers"][0], "-Headers", params["Headers"][1]):
            low = name.lower()
            if low in _PSEUDO and said[low] == value:
                dropped.append(name)
            elif low == "user-agent" and agent is not None:
                headers = [(n, v) for n, v in headers if n != "User-Agent"] + [(name, value)]
            elif not (low == "content-type" and content_type is not None):
                headers.append((name, value))
    if dropped:
        parser.warnings.append(f"the headers {', '.join(dropped)} stand for HTTP/2 pseudo-headers (as Chrome writes "
                               "them) and are dropped")
    if session.cookies:
        headers.append(("Cookie", "; ".join(f"{n}={v}" for n, v in session.cookies)))
    body = b""
    if "Body" in params:
        value, at = parser.resolve(params["Body"][0]), params["Body"][1]
        if isinstance(value, Hash):
            form = "&".join(f"{quote_plus(k, safe='-_.!*()')}={quote_plus(v, safe='-_.!*()')}"
                            for k, v in _pairs(parser, value, "-Body", at))
            if method == "GET":
                uri += ("&" if "?" in uri else "?") + form
            else:
                body = form.encode()
        elif isinstance(value, bytes):
            body = value
        else:
            text = parser.text_of(value, "-Body", at)
            try:
                body = text.encode(charset_of(content_type), "surrogateescape")
            except (LookupError, UnicodeEncodeError):
                body = text.encode("utf-8", "surrogateescape")
    has_type = content_type is not None or any(n.lower() == "content-type" for n, _ in headers)
    if body and method == "POST" and not has_type:
        content_type = "application/x-www-form-urlencoded"
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if agent is None and not any(n.lower() == "user-agent" for n, _ in headers):
        parser.warnings.append("no -UserAgent: PowerShell sends its own User-Agent, which is not in the request")
    return WireRequest(method, uri.partition("#")[0], tuple(headers), body)


def load(text: str, *, source: str, base_dir: Path | None = None) -> Capture:
    """Read a PowerShell script into the request its Invoke-WebRequest command sends.

    Args:
        text: the script, as copied from devtools or written by hand.
        source: the file name, for messages.
        base_dir: unused; the script's values are inline.

    Returns:
        The capture, with warnings for parameters and statements that were not modelled.

    Raises:
        InputError: unterminated strings or hashtables, unknown parameters, values that
            cannot be evaluated without running PowerShell, each with line and column;
            or no Invoke-WebRequest/Invoke-RestMethod command.
    """
    parser = _Script(text.replace("\r\n", "\n"), source)
    params: dict[str, tuple[Any, int]] | None = None
    while params is None:
        parser.blank(newlines=True)
        if parser.pos >= len(parser.text):
            raise InputError("no Invoke-WebRequest or Invoke-RestMethod command found", source=source)
        if parser.peek() == "$":
            parser.variable_statement()
            continue
        match = re.compile(r"[\w.-]+").match(parser.text, parser.pos)
        if match and match.group().lower() in _COMMANDS:
            parser.pos = match.end()
            params = parser.invocation()
        else:
            parser.warnings.append(f"line {parser.line(parser.pos)}: a statement that is not Invoke-WebRequest "
                                   "is ignored")
            parser.skip_statement()
    rest = parser.text[parser.pos :].strip()
    if rest and not rest.startswith("|"):
        parser.warnings.append(f"line {parser.line(parser.pos)}: everything after the Invoke-WebRequest command "
                               "is ignored")
    ignored = [f"-{name}" for name in params if name in _NO_EFFECT and name != "UseBasicParsing"]
    if ignored:
        parser.warnings.append(f"parameters that change nothing reqbisect sends are ignored: {', '.join(ignored)}")
    for name in params:
        if name in _UNMODELLED:
            parser.warnings.append(f"parameter -{name} is not supported and was ignored; PowerShell may send "
                                   "something else")
    capture = from_wire(_request(parser, params), source=source)
    return Capture(capture.document, capture.wire, source,
                   (*capture.warnings, *(f"{source}, {w}" for w in parser.warnings)))
