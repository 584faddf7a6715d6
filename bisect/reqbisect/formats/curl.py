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
``-F``. ``-H 'Name:'`` removes one of these, ``-H 'Name;'`` sends an empty header.
``Host`` and ``Content-Length`` are derived when sending (an ``-H 'Host: ...'`` is
dropped with a warning). The multipart boundary curl draws at random is replaced by a
fixed one derived from the content.

No option is dropped silently. Options that would make curl send something else but are
not modelled (proxies, other auth schemes, TLS client certificates, ``-T`` uploads,
cookie files, config files, a second URL) get a warning each; ``-k`` and ``-L`` get one
saying reqbisect's own settings apply; options that change nothing that is sent
(output, verbosity, timeouts, retries, TLS versions) are listed together in one warning.
Warnings are returned in :attr:`Capture.warnings`, one line each, for stderr.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from reqbisect._types import Document
from reqbisect.bodies import multipart_body
from reqbisect.document import Capture
from reqbisect.errors import InputError
from reqbisect.formats.shell import Word, commands, quote
from reqbisect.wire import WireRequest, from_wire, to_wire

__all__ = ["CURL_ACCEPT_ENCODING", "CURL_USER_AGENT", "Word", "dump", "load", "quote", "split_words"]

#: The User-Agent a parsed command gets when it sets none.
CURL_USER_AGENT = "curl/7.88.1"
#: What ``--compressed`` asks for (curl 7.88.1 built with brotli and zstd).
CURL_ACCEPT_ENCODING = "deflate, gzip, br, zstd"

_SHORT = dict(pair.split("=") for pair in (
    "a=append b=cookie c=cookie-jar d=data e=referer f=fail g=globoff h=help i=include j=junk-session-cookies "
    "k=insecure l=list-only m=max-time n=netrc o=output p=proxytunnel q=disable r=range s=silent "
    "t=telnet-option u=user v=verbose w=write-out x=proxy y=speed-time z=time-cond A=user-agent B=use-ascii "
    "C=continue-at D=dump-header E=cert F=form G=get H=header I=head J=remote-header-name K=config L=location "
    "M=manual N=no-buffer O=remote-name P=ftp-port Q=quote R=remote-time S=show-error T=upload-file "
    "U=proxy-user V=version X=request Y=speed-limit Z=parallel 0=http1.0 1=tlsv1 2=sslv2 3=sslv3 4=ipv4 "
    "6=ipv6 #=progress-bar :=next"
).split())
_WITH_VALUE = frozenset(
    "abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type ciphers config connect-timeout "
    "connect-to continue-at cookie cookie-jar create-file-mode crlfile curves data data-ascii data-binary "
    "data-raw data-urlencode delegation dns-interface dns-ipv4-addr dns-ipv6-addr dns-servers doh-url "
    "dump-header egd-file engine etag-compare etag-save expect100-timeout form form-string ftp-account "
    "ftp-alternative-to-user ftp-method ftp-port ftp-ssl-ccc-mode happy-eyeballs-timeout-ms header "
    "hostpubmd5 hostpubsha256 hsts interface json keepalive-time key key-type krb libcurl limit-rate "
    "local-port login-options mail-auth mail-from mail-rcpt max-filesize max-redirs max-time netrc-file "
    "noproxy oauth2-bearer output output-dir parallel-max pass pinnedpubkey preproxy proto proto-default "
    "proto-redir proxy proxy-cacert proxy-capath proxy-cert proxy-cert-type proxy-ciphers proxy-crlfile "
    "proxy-header proxy-key proxy-key-type proxy-pass proxy-pinnedpubkey proxy-service-name "
    "proxy-tls13-ciphers proxy-tlsauthtype proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote "
    "random-file range rate referer request request-target resolve retry retry-delay retry-max-time "
    "sasl-authzid service-name socks4 socks4a socks5 socks5-gssapi-service socks5-hostname speed-limit "
    "speed-time stderr telnet-option tftp-blksize time-cond tls-max tls13-ciphers tlsauthtype tlspassword "
    "tlsuser trace trace-ascii unix-socket upload-file url url-query user user-agent write-out".split()
)
_FLAGS = frozenset(
    "anyauth append basic cert-status compressed compressed-ssh create-dirs crlf digest disable disable-eprt "
    "disable-epsv disallow-username-in-url doh-cert-status doh-insecure fail fail-early fail-with-body "
    "false-start form-escape ftp-create-dirs ftp-pasv ftp-pret ftp-skip-pasv-ip ftp-ssl-ccc ftp-ssl-control "
    "get globoff haproxy-protocol head help http0.9 http1.0 http1.1 http2 http2-prior-knowledge http3 "
    "http3-only ignore-content-length include insecure ipv4 ipv6 junk-session-cookies list-only location "
    "location-trusted mail-rcpt-allowfails manual metalink negotiate netrc netrc-optional next no-alpn "
    "no-buffer no-clobber no-keepalive no-npn no-progress-meter no-sessionid ntlm ntlm-wb parallel "
    "parallel-immediate path-as-is post301 post302 post303 progress-bar proxy-anyauth proxy-basic "
    "proxy-digest proxy-insecure proxy-negotiate proxy-ntlm proxy-ssl-allow-beast proxy-ssl-auto-client-cert "
    "proxy-tlsv1 proxytunnel raw remote-header-name remote-name remote-name-all remote-time remove-on-error "
    "retry-all-errors retry-connrefused sasl-ir show-error silent socks5-basic socks5-gssapi "
    "socks5-gssapi-nec ssl ssl-allow-beast ssl-auto-client-cert ssl-no-revoke ssl-reqd "
    "ssl-revoke-best-effort sslv2 sslv3 styled-output suppress-connect-headers tcp-fastopen tcp-nodelay "
    "tftp-no-options tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 tr-encoding trace-time use-ascii verbose version "
    "xattr".split()
)
# Options that change nothing that is sent (output, verbosity, timeouts, retries, TLS versions).
_NO_EFFECT = frozenset(
    "append basic cacert capath cert-status ciphers compressed-ssh connect-timeout create-dirs "
    "create-file-mode curves disable dump-header expect100-timeout fail fail-early fail-with-body false-start "
    "happy-eyeballs-timeout-ms http1.1 http2 include ipv4 ipv6 keepalive-time limit-rate "
    "max-filesize max-redirs max-time no-alpn no-buffer no-clobber no-keepalive "
    "no-npn no-progress-meter no-sessionid output output-dir pinnedpubkey post301 post302 post303 "
    "progress-bar proto proto-default proto-redir remote-header-name remote-name remote-name-all remote-time "
    "remove-on-error retry retry-all-errors retry-connrefused retry-delay retry-max-time show-error silent "
    "speed-limit speed-time ssl-no-revoke ssl-revoke-best-effort stderr styled-output tcp-fastopen "
    "tcp-nodelay tls-max tls13-ciphers tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 trace trace-ascii trace-time "
    "verbose write-out cookie-jar junk-session-cookies xattr".split()
)
_ALL = _WITH_VALUE | _FLAGS
# File extensions curl knows a content type for (curl's lib/mime.c); the rest are octet-stream.
_FILE_TYPES = {
    ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".svg": "image/svg+xml", ".txt": "text/plain", ".htm": "text/html", ".html": "text/html",
    ".pdf": "application/pdf", ".xml": "application/xml",
}
def split_words(
    text: str, *, source: str, dialect: str | None = None
) -> tuple[list[Word], dict[str, bytes], list[str]]:
    """Split a shell text into the words of its first command that runs curl.

    Args:
        text: a command or a script, in bash, cmd or PowerShell syntax.
        source: the file name, for messages.
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.

    Returns:
        The words (with their positions), the contents of ``<(printf ...)`` process
        substitutions by the path that stands for them, and warnings.

    Raises:
        InputError: an unterminated quote (with line and column), or no curl command.
    """
    found, files, warnings = commands(text, source=source, dialect=dialect)
    for index, command in enumerate(found):
        words = command[next((k for k, w in enumerate(command) if "=" not in w.text), len(command)):]
        if words and Path(words[0].text.replace("\\", "/")).name.lower() in ("curl", "curl.exe"):
            if index + 1 < len(found):
                rest = found[index + 1][0]
                warnings.append(f"line {rest.line}: everything after the curl command (from {rest.text!r}) is ignored")
            return words, files, warnings
    raise InputError("no curl command found", source=source, hint="the first word must be curl or curl.exe")


# -- curl's options ---------------------------------------------------------------------


@dataclass
class _Command:
    """What the options asked for, before the request is built."""

    source: str
    base_dir: Path
    files: dict[str, bytes]
    warnings: list[str]
    method: str | None = None
    urls: list[Word] = field(default_factory=list)
    headers: list[tuple[str, str | None]] = field(default_factory=list)
    data: list[tuple[bytes, bool]] = field(default_factory=list)
    forms: list[tuple[str, object]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    authorization: str | None = None
    agent: str | None = None
    referer: str | None = None
    flags: set[str] = field(default_factory=set)
    #: Options written in the command that change nothing reqbisect sends, as spelled.
    ignored: list[tuple[str, Word]] = field(default_factory=list)

    def error(self, message: str, word: Word, **kwargs: str) -> InputError:
        return InputError(message, source=self.source, location=f"line {word.line}", **kwargs)

    def warn(self, message: str, word: Word) -> None:
        self.warnings.append(f"line {word.line}: {message}")

    def read(self, path: str, word: Word, option: str) -> bytes:
        if path in self.files:
            return self.files[path]
        if path == "-":
            raise self.error(f"{option} reads standard input, which a capture cannot replay", word)
        try:
            return (self.base_dir / path).read_bytes()
        except OSError as exc:
            raise self.error(f"cannot read {str(self.base_dir / path)!r} for {option}: {exc.strerror}", word
                             ) from None


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _curl_escape(data: bytes) -> str:
    """--data-urlencode's encoding: unreserved bytes stay, space is +, the rest %XX."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 or chr(b) in "-._~" else "+" if b == 32 else f"%{b:02X}"
                   for b in data)


def _read_options(cmd: _Command, args: Sequence[Word]) -> None:
    k = 0
    while k < len(args):
        word = args[k]
        k += 1
        text = word.text
        names: list[tuple[str, str | None, str]] = []
        if text.startswith("--") and len(text) > 2:
            name = text[2:]
            if name not in _ALL and name.startswith("no-") and name[3:] in _FLAGS:
                cmd.flags.discard(name[3:])
                continue
            if name not in _ALL:
                if "=" in name and name.partition("=")[0] in _ALL:
                    raise cmd.error(f"unknown option '{text}'", word,
                                    hint=f"curl takes the value as the next word: --{name.partition('=')[0]} VALUE")
                close = difflib.get_close_matches(name, sorted(_ALL), n=1)
                suggestion = f" (did you mean '--{close[0]}'?)" if close else ""
                raise cmd.error(f"unknown option '{text}'{suggestion}", word)
            names.append((name, None, text))
        elif text.startswith("-") and len(text) > 1:
            for j, letter in enumerate(text[1:], 1):
                if letter not in _SHORT:
                    raise cmd.error(f"unknown option '-{letter}'", word)
                name = _SHORT[letter]
                if name in _WITH_VALUE:
                    names.append((name, text[j + 1 :] or None, f"-{letter}"))
                    break
                names.append((name, None, f"-{letter}"))
        else:
            cmd.urls.append(word)
            continue
        for name, attached, spelling in names:
            value = None
            if name in _WITH_VALUE:
                if attached is not None:
                    value = Word(attached, word.line, word.column)
                elif k < len(args):
                    value, k = args[k], k + 1
                else:
                    raise cmd.error(f"option '{text}' needs a value", word)
            if name in _NO_EFFECT:
                cmd.ignored.append((spelling, word))
            else:
                _option(cmd, name, value, word)
    if cmd.ignored:
        spellings = ", ".join(dict.fromkeys(spelling for spelling, _ in cmd.ignored))
        cmd.warn(f"options that change nothing reqbisect sends are ignored: {spellings}", cmd.ignored[0][1])


def _option(cmd: _Command, name: str, value: Word | None, word: Word) -> None:
    text = value.text if value is not None else ""
    if name == "request":
        cmd.method = text
    elif name == "header":
        lines = cmd.read(text[1:], word, "-H").decode("utf-8", "surrogateescape").splitlines() \
            if text.startswith("@") else [text]
        for line in lines:
            _header(cmd, line, word)
    elif name in ("data", "data-ascii", "data-binary", "data-raw", "data-urlencode", "json"):
        assert value is not None
        cmd.data.append((_data(cmd, name, value), name == "json"))
    elif name in ("form", "form-string"):
        assert value is not None
        cmd.forms.append(_form_part(cmd, value, literal=name == "form-string"))
    elif name == "cookie":
        if "=" in text:
            cmd.cookies.append(text)
        else:
            cmd.warn(f"-b {text!r} names a cookie file, which is not read; no cookies are sent from it", word)
    elif name == "user":
        if ":" not in text:
            cmd.warn("-u without a password makes curl ask for one; an empty password is used", word)
        cmd.authorization = "Basic " + base64.b64encode(_encode(text if ":" in text else text + ":")).decode()
    elif name == "oauth2-bearer":
        cmd.authorization = f"Bearer {text}"
    elif name == "user-agent":
        cmd.agent = text
    elif name == "referer":
        cmd.referer = text.removesuffix(";auto")
    elif name == "url":
        assert value is not None
        cmd.urls.append(value)
    elif name in ("get", "head", "compressed", "globoff", "path-as-is"):
        cmd.flags.add(name)
    elif name in ("proxy", "socks5", "socks5-hostname", "socks4", "socks4a", "preproxy", "proxy-user"):
        cmd.warn(f"option --{name} is ignored: reqbisect sends directly to the URL", word)
    elif name == "insecure":
        cmd.warn("option --insecure is ignored: certificate checks follow reqbisect's own settings", word)
    elif name in ("location", "location-trusted"):
        cmd.warn(f"option --{name} is ignored: redirects follow reqbisect's own settings", word)
    else:
        cmd.warn(f"option --{name} is not supported and was ignored; curl may send something else", word)


def _header(cmd: _Command, line: str, word: Word) -> None:
    line = line.strip(" \t")
    name, colon, value = line.partition(":")
    if colon and ";" not in name and name:
        low = name.strip().lower()
        if low in ("host", "content-length", "transfer-encoding") and value.strip():
            cmd.warn(f"the {name.strip()} header is dropped: it is derived when sending", word)
        cmd.headers.append((name.strip(), value.strip() or None))
    elif line.endswith(";") and re.fullmatch(r"[^\s:;]+;", line):
        cmd.headers.append((line[:-1], ""))
    else:
        cmd.warn(f"-H {line!r} is not a header ('Name: value', 'Name:' or 'Name;'); curl ignores it", word)


def _data(cmd: _Command, name: str, value: Word) -> bytes:
    text = value.text
    if name == "data-urlencode":
        sep = text.find("=") if "=" in text else text.find("@")
        key, content = (text[:sep], text[sep + 1 :]) if sep >= 0 else ("", text)
        raw = cmd.read(content, value, "--data-urlencode") if sep >= 0 and text[sep] == "@" else _encode(content)
        return _encode(f"{key}={_curl_escape(raw)}" if key else _curl_escape(raw))
    if name == "data-raw" or not text.startswith("@"):
        return _encode(text)
    data = cmd.read(text[1:], value, f"--{name}")
    if name in ("data", "data-ascii"):
        data = data.split(b"\0", 1)[0].replace(b"\r", b"").replace(b"\n", b"")
    return data


def _form_params(text: str) -> tuple[str, dict[str, str]]:
    """curl's ``-F`` value syntax: a value (maybe quoted), then ``;type=``, ``;filename=``, ``;headers=``."""
    def take(i: int) -> tuple[str, int]:
        if text.startswith('"', i):
            out, j = [], i + 1
            while j < len(text) and text[j] != '"':
                j += 1 if text[j] != "\\" else 2
                out.append(text[j - 1])
            return "".join(out), j + 1
        j = text.find(";", i)
        return (text[i:], len(text)) if j < 0 else (text[i:j], j)

    value, i = take(0)
    params: dict[str, str] = {}
    while i < len(text) and text[i] == ";":
        key, eq, _ = text[i + 1 :].partition("=")
        key = key.strip().lower()
        item, i = take(i + 2 + len(key) if eq else len(text))
        if key in ("type", "filename", "headers"):
            params[key] = item
        elif "type" in params:
            params["type"] += f";{key}={item}"
    return value, params


def _form_part(cmd: _Command, word: Word, *, literal: bool) -> tuple[str, object]:
    name, eq, rest = word.text.partition("=")
    if not eq:
        raise cmd.error(f"-F {word.text!r} is not name=content", word)
    if literal:
        return name, rest
    if rest[:1] in ("@", "<"):
        path, params = _form_params(rest[1:])
        content = cmd.read(path, word, "-F")
        if rest[0] == "@":
            params.setdefault("filename", Path(path).name)
            params.setdefault("type", _FILE_TYPES.get(Path(path).suffix.lower(), "application/octet-stream"))
    else:
        value, params = _form_params(rest)
        content = _encode(value)
    if not params:
        return name, content.decode("utf-8", "surrogateescape")
    part: dict[str, object] = {}
    if "filename" in params:
        part["filename"] = params["filename"]
    if "type" in params:
        part["content_type"] = params["type"]
    if "headers" in params:
        header, _, item = params["headers"].partition(":")
        part["headers"] = {header.strip(): item.strip()}
    part["content_base64"] = base64.b64encode(content).decode()
    return name, part


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


def _url(cmd: _Command, word: Word) -> tuple[str, str | None]:
    """The URL curl requests, and the credentials it carried (as a Basic value)."""
    text = word.text.strip()
    if "://" not in text.partition("?")[0]:
        text = "http://" + text
    text = text.partition("#")[0]
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise cmd.error(f"unsupported URL scheme {parts.scheme!r}", word, expected="http or https")
    if re.search(r"[\[\]{}]", text) and "globoff" not in cmd.flags:
        cmd.warn("curl expands [] and {} in URLs unless -g is given; the URL is taken literally", word)
    userinfo, at, host = parts.netloc.rpartition("@")
    credentials = None
    if at:
        user, _, password = userinfo.partition(":")
        credentials = "Basic " + base64.b64encode(_encode(f"{unquote(user)}:{unquote(password)}")).decode()
    path = parts.path or "/"
    if "path-as-is" not in cmd.flags:
        path = _remove_dots(path)
    query = "?" + parts.query if "?" in text else ""
    return f"{parts.scheme.lower()}://{host}{path}{query}", credentials


def _build(cmd: _Command) -> WireRequest:
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
    if cmd.method:
        method = cmd.method
    elif "head" in cmd.flags:
        method = "HEAD"
    else:
        method = "GET" if "get" in cmd.flags or not (cmd.data or cmd.forms) else "POST"
    return WireRequest(method, url, tuple(headers), body)


def load(text: str, *, source: str, base_dir: Path | None = None, dialect: str | None = None) -> Capture:
    """Read a curl command line (bash, cmd or PowerShell) into the request curl would send.

    Args:
        text: the command, possibly inside a script.
        source: the file name, for messages.
        base_dir: where ``@file`` arguments are read from (default: the working directory).
        dialect: ``"bash"``, ``"cmd"`` or ``"powershell"``; sniffed when ``None``.

    Returns:
        The capture; ``warnings`` lists options that were ignored and other approximations.

    Raises:
        InputError: unterminated quotes, unknown options, unreadable files, no URL.
    """
    words, files, warnings = split_words(text, source=source, dialect=dialect)
    cmd = _Command(source, base_dir or Path.cwd(), files, warnings)
    _read_options(cmd, words[1:])
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
