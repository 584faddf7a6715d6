"""curl's options: which exist, which take a value, and what each one asks for.

:func:`read_options` reads the words after ``curl`` the way curl 7.88 does, into a
:class:`CurlCommand`: the method, URLs, headers, data, form parts, cookies and
credentials the options ask for. Building the request from it is ``curl.py``'s job.

Rules
-----
* **Spelling.** Long options are ``--name`` or, as curl allows, a prefix of exactly one
  name (``--sil``; an ambiguous prefix such as ``--hea`` is an error that lists the
  candidates); ``--no-name`` turns a flag off (written in full); short options may be
  bundled (``-sSL``) and a short option's value may be attached (``-XPOST``) or the
  next word. ``--name=value`` is not curl syntax and is refused with a hint. An
  unknown option is an error that suggests the closest one.
* **Cookies past curl's limit.** curl 7.88 silently drops ``-b`` cookies whose joined
  string passes :data:`COOKIE_LIMIT` bytes. The document keeps them (they are what the
  capture means) and a warning says curl itself would not send them.
* **Refused.** ``--digest`` and ``--ntlm`` need a challenge-response handshake with
  the server, which replaying one request cannot do: an error says so.
* **No option is dropped silently.** Options that would make curl send something
  else but are not modelled (proxies, other auth schemes, TLS client certificates,
  ``-T`` uploads, cookie files, config files, a second URL) get a warning each;
  ``-k`` and ``-L`` get one saying reqbisect's own settings apply; options that
  change nothing that is sent (output, verbosity, timeouts, retries, TLS versions)
  are listed together in one warning.
* **Files.** ``@file`` arguments (``-d``, ``-H``, ``-F``, ``--data-urlencode``) are
  read relative to the capture's directory, or from the ``<(printf ...)`` process
  substitutions the command carries; standard input cannot be replayed and is an error.
* **Data as curl sends it.** ``-d @file`` drops CR, LF and everything from the first
  NUL; ``--data-binary`` and ``--data-raw`` keep the bytes; ``--data-urlencode``
  encodes as curl does (unreserved bytes stay, space is ``+``). ``-F`` parses curl's
  ``;type=``, ``;filename=`` and ``;headers=`` and guesses a file's type as curl does.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reqbisect.errors import InputError
from reqbisect.formats.shell import Word

__all__ = ["COOKIE_LIMIT", "CurlCommand", "encode", "read_options"]

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
#: Options that choose the HTTP version (the document's transport/http).
HTTP_VERSION_FLAGS = ("http0.9", "http1.0", "http1.1", "http2", "http2-prior-knowledge", "http3", "http3-only")
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
    "happy-eyeballs-timeout-ms include ipv4 ipv6 keepalive-time limit-rate "
    "max-filesize max-redirs max-time no-alpn no-buffer no-clobber no-keepalive "
    "no-npn no-progress-meter no-sessionid output output-dir pinnedpubkey post301 post302 post303 "
    "progress-bar proto proto-default proto-redir remote-header-name remote-name remote-name-all remote-time "
    "remove-on-error retry retry-all-errors retry-connrefused retry-delay retry-max-time show-error silent "
    "speed-limit speed-time ssl-no-revoke ssl-revoke-best-effort stderr styled-output tcp-fastopen "
    "tcp-nodelay tls-max tls13-ciphers tlsv1 tlsv1.0 tlsv1.1 tlsv1.2 tlsv1.3 trace trace-ascii trace-time "
    "verbose write-out cookie-jar junk-session-cookies xattr".split()
)
_ALL = _WITH_VALUE | _FLAGS
#: The longest ``-b`` string (all of them joined with ``;``, in bytes) curl 7.88 sends;
#: past it curl silently sends no Cookie header from ``-b`` at all.
COOKIE_LIMIT = 4095
# Authentication schemes that answer a server's challenge: a capture cannot replay them.
_HANDSHAKES = frozenset({"digest", "ntlm", "ntlm-wb"})
# File extensions curl knows a content type for (curl's lib/mime.c); the rest are octet-stream.
_FILE_TYPES = {
    ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".svg": "image/svg+xml", ".txt": "text/plain", ".htm": "text/html", ".html": "text/html",
    ".pdf": "application/pdf", ".xml": "application/xml",
}


@dataclass
class CurlCommand:
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
    #: ``-r``/``--range`` as written: a Range header, or Content-Range for a body.
    range: str | None = None
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


def encode(text: str) -> bytes:
    """A shell word's text as the bytes curl gets (words hold undecodable bytes as surrogates)."""
    return text.encode("utf-8", "surrogateescape")


_encode = encode


def _curl_escape(data: bytes) -> str:
    """--data-urlencode's encoding: unreserved bytes stay, space is +, the rest %XX."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 or chr(b) in "-._~" else "+" if b == 32 else f"%{b:02X}"
                   for b in data)


def read_options(cmd: CurlCommand, args: Sequence[Word]) -> None:
    """Read the words after ``curl`` into ``cmd``, warning in ``cmd.warnings`` about what is not modelled.

    Raises:
        InputError: an unknown option, an option without its value, an unreadable
            ``@file``, or a ``-F`` value that is not ``name=content``.
    """
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
            name = _unabbreviate(cmd, name, word)
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


def _unabbreviate(cmd: CurlCommand, name: str, word: Word) -> str:
    """The long option ``name`` starts, when it is not one itself: curl takes an unambiguous prefix."""
    if name in _ALL or "=" in name:
        return name
    starting = sorted(option for option in _ALL if option.startswith(name))
    if len(starting) > 1:
        raise cmd.error(f"option '--{name}' is ambiguous", word, expected="one of " + ", ".join(
            f"--{option}" for option in starting), hint="write the option out in full")
    return starting[0] if starting else name


def _option(cmd: CurlCommand, name: str, value: Word | None, word: Word) -> None:
    text = value.text if value is not None else ""
    if name == "request":
        cmd.method = text
    elif name == "range":
        cmd.range = text
    elif name in _HANDSHAKES:
        raise cmd.error(f"--{name} authentication needs a handshake with the server (a challenge, then an "
                        "answer computed from it), which a replayed request cannot do", word,
                        hint="capture the request that carried the final Authorization header, or use -u "
                             "for Basic authentication")
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
            size = len(encode(";".join(cmd.cookies)))
            if size > COOKIE_LIMIT >= size - len(encode(text)) - 1:
                cmd.warn(f"the -b cookies come to {size} bytes; curl 7.88 sends no Cookie header past "
                         f"{COOKIE_LIMIT} bytes, so curl itself would not send them; reqbisect sends them, and "
                         "the commands it writes pass them as -H 'Cookie: ...'", word)
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
    elif name in ("get", "head", "compressed", "globoff", "path-as-is", *HTTP_VERSION_FLAGS):
        cmd.flags.add(name)
    elif name in ("proxy", "socks5", "socks5-hostname", "socks4", "socks4a", "preproxy", "proxy-user"):
        cmd.warn(f"option --{name} is ignored: reqbisect sends directly to the URL", word)
    elif name == "insecure":
        cmd.warn("option --insecure is ignored: certificate checks follow reqbisect's own settings", word)
    elif name in ("location", "location-trusted"):
        cmd.warn(f"option --{name} is ignored: redirects follow reqbisect's own settings", word)
    else:
        cmd.warn(f"option --{name} is not supported and was ignored; curl may send something else", word)


def _header(cmd: CurlCommand, line: str, word: Word) -> None:
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


def _data(cmd: CurlCommand, name: str, value: Word) -> bytes:
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


def _form_part(cmd: CurlCommand, word: Word, *, literal: bool) -> tuple[str, object]:
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


