"""The real curl binary is the oracle for the curl format.

For every command of the corpus in ``tests/fixtures/curl`` (written with the placeholder
origin ``http://ECHO``), the real curl runs it against a loopback echo server, and
reqbisect sends the parsed document (``to_wire`` with the capture as ``like``) with
httpx to the same server. Then real curl runs ``dump(doc, "curl")`` and must send the
same request again. Commands in cmd and PowerShell syntax cannot run here; their parse
must equal that of their bash twin (same stem, ``.sh``), which does run. (Chrome's cmd
escaping doubles every backslash, but the C runtime halves only those before a quote, so
a lone backslash in a Chrome cmd command reaches curl.exe doubled; the corpus avoids it.)

What is compared: method, raw path and query, the ordered header list and the body
bytes, exactly, except for
* ``Content-Length``: its position is not compared (curl puts it before its own
  Content-Type, httpx last) and a missing one equals ``0``, because httpx sends
  ``Content-Length: 0`` for an empty POST/PUT/PATCH where curl sends none;
* hop-by-hop headers (``Connection``, ``Proxy-Connection``, ``TE``...): the document
  drops them by design (docs/design.md);
* header values are compared without surrounding whitespace (RFC 9110 section 5.5);
* curl's random multipart boundary, which is replaced by the document's;
* ``User-Agent: curl/X`` and ``--compressed``'s ``Accept-Encoding``: when the local curl
  sends other defaults than curl 7.88.1 (what the parser assumes), those values are
  mapped to the documented ones.
Everything goes to 127.0.0.1 only: the commands' origin is the echo server, and proxy
variables point at a closed local port so a stray request to any other host fails.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import httpx
import pytest

from reqbisect.document import DERIVED, HOP_BY_HOP
from reqbisect.errors import InputError
from reqbisect.formats import curl, curl_options, dump, load_request
from reqbisect.wire import to_wire

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash"),
]

CORPUS = Path(__file__).parent / "fixtures" / "curl"
BASH = sorted(CORPUS.glob("*.sh"))
WINDOWS = sorted([*CORPUS.glob("*.cmd.txt"), *CORPUS.glob("*.ps1.txt")])


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: queue.Queue[Seen]

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        target = re.sub(r"^https?://[^/]+", "", self.path)  # absolute-form, as sent to a proxy
        headers = tuple((name, value) for name, value in self.headers.items())
        self.seen.put(Seen(self.command, target, headers, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Echo:
    origin: str
    seen: queue.Queue[Seen]
    env: dict[str, str]
    defaults: dict[str, str]

    def drain(self) -> list[Seen]:
        out = []
        while True:
            try:
                out.append(self.seen.get_nowait())
            except queue.Empty:
                return out

    def run_curl(self, command: str, cwd: Path, env: dict[str, str] | None = None) -> Seen:
        self.drain()
        subprocess.run(["bash", "-c", command], cwd=cwd, env=env or self.env, capture_output=True, timeout=30,
                       check=False)
        requests = self.drain()
        assert requests, f"curl sent nothing for:\n{command}"
        return requests[0]

    def send(self, wire: Any) -> Seen:
        self.drain()
        headers = [(n.encode(), v.encode("utf-8", "surrogateescape")) for n, v in wire.headers]
        # httpx normalises dot segments and re-quotes the query; the "target" extension
        # puts the exact path and query on the wire.
        target = re.sub(r"^https?://[^/?]*", "", wire.url) or "/"
        request = httpx.Request(wire.method, wire.url, headers=headers, content=wire.body,
                                extensions={"target": target.encode("utf-8", "surrogateescape")})
        request.method = wire.method  # httpx upper-cases methods; curl sends them as given
        with httpx.Client(trust_env=False) as client:
            client.send(request)
        requests = self.drain()
        assert len(requests) == 1
        return requests[0]


@pytest.fixture(scope="session")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Echo]:
    seen: queue.Queue[Seen] = queue.Queue()
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    home = tmp_path_factory.mktemp("home")  # no ~/.curlrc
    dead = "http://127.0.0.1:9"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LC_ALL": "C.UTF-8",
           "http_proxy": dead, "https_proxy": dead, "HTTPS_PROXY": dead, "all_proxy": dead, "ALL_PROXY": dead,
           "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
    echo = Echo(f"http://127.0.0.1:{server.server_address[1]}", seen, env, {})
    probe = echo.run_curl(f"curl -s --compressed {echo.origin}/probe", home)
    echo.defaults = {name.lower(): value for name, value in probe.headers}
    yield echo
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _compare_form(seen: Seen, echo: Echo) -> dict[str, Any]:
    """What is compared (see the module docstring)."""
    headers, length = [], 0
    boundary = None
    for name, value in seen.headers:
        low, value = name.lower(), value.strip()
        if low == "content-length":
            length = int(value)
            continue
        if low in HOP_BY_HOP or (low in DERIVED and low != "host"):
            continue
        if low == "user-agent" and value == echo.defaults.get("user-agent"):
            value = curl.CURL_USER_AGENT
        if low == "accept-encoding" and value == echo.defaults.get("accept-encoding"):
            value = curl.CURL_ACCEPT_ENCODING
        if low == "content-type" and value.startswith("multipart/"):
            match = re.search(r"boundary=(\S+)", value)
            boundary = match.group(1) if match else None
            value = value.replace(boundary or "", "BOUNDARY")
        headers.append((name, value))
    body = seen.body.replace(boundary.encode(), b"BOUNDARY") if boundary else seen.body
    return {"method": seen.method, "target": seen.target, "headers": headers, "length": length, "body": body}


def _command(path: Path, echo: Echo) -> str:
    return re.sub(r"\bECHO\b", echo.origin.removeprefix("http://"), path.read_text())


@pytest.mark.parametrize("path", BASH, ids=lambda p: p.name)
def test_curl_sends_what_reqbisect_sends(path: Path, echo: Echo) -> None:
    command = _command(path, echo)
    capture = curl.load(command, source=path.name, base_dir=path.parent)
    assert capture.document["url"].startswith(echo.origin + "/")
    real = echo.run_curl(command, path.parent)
    ours = echo.send(to_wire(capture.document, like=[capture]))
    assert _compare_form(ours, echo) == _compare_form(real, echo)


@pytest.mark.parametrize("path", BASH, ids=lambda p: p.name)
def test_curl_runs_our_dump_as_reqbisect_sends_it(path: Path, echo: Echo, tmp_path: Path) -> None:
    capture = curl.load(_command(path, echo), source=path.name, base_dir=path.parent)
    command = dump(capture.document, "curl", like=[capture])
    real = echo.run_curl(command, tmp_path)
    ours = echo.send(to_wire(capture.document, like=[capture]))
    assert _compare_form(ours, echo) == _compare_form(real, echo)
    rebuilt = echo.run_curl(dump(capture.document, "curl"), tmp_path)
    assert _compare_form(rebuilt, echo) == _compare_form(echo.send(to_wire(capture.document)), echo)


@pytest.mark.parametrize("path", WINDOWS, ids=lambda p: p.name)
def test_windows_command_parses_like_its_bash_twin(path: Path) -> None:
    twin = path.with_name(path.name.split(".")[0] + ".sh")
    windows = load_request(path)
    bash = curl.load(twin.read_text(), source=twin.name, base_dir=twin.parent)
    assert windows.document == bash.document
    assert windows.wire == bash.wire
    assert windows.warnings == ()


def test_the_corpus_is_large_enough() -> None:
    assert len(BASH) + len(WINDOWS) >= 40
    assert {p.name.split(".")[0] for p in WINDOWS} <= {p.stem for p in BASH}


def test_raw_unicode_query_reaches_the_server_as_the_bytes_curl_sends(echo: Echo, tmp_path: Path) -> None:
    # curl puts the query's UTF-8 bytes on the wire raw; HTTP/1.1 allows no such byte in a
    # request target and the HTTP client refuses it, so they go percent-encoded.
    command = f"curl '{echo.origin}/wiki/Zürich?q=東京&x=1'"
    capture = curl.load(command, source="unicode.sh")
    assert capture.document["query"] == {"q": "東京", "x": "1"}
    real = echo.run_curl(command, tmp_path)
    ours = echo.send(to_wire(capture.document, like=[capture]))
    assert real.target.encode("latin-1") == "/wiki/Z%c3%bcrich?q=東京&x=1".encode()
    assert ours.target == "/wiki/Z%c3%bcrich?q=%e6%9d%b1%e4%ba%ac&x=1"
    assert unquote_to_bytes(ours.target) == unquote_to_bytes(real.target.encode("latin-1"))


def test_bash_variables_expand_as_bash_expands_them(echo: Echo, tmp_path: Path) -> None:
    env = {**echo.env, "API_TOKEN": "t0k en", "API_PATH": "v1/items", "OPTS": "-s -X PUT"}
    command = (f'curl $OPTS "{echo.origin}/$API_PATH?x=${{API_PATH}}" -H "Authorization: Bearer $API_TOKEN" '
               "-H 'X-Literal: $API_TOKEN' -H X-Unset:$NOT_SET_HERE -H X-Bare:$API_TOKEN")
    capture = curl.load(command, source="env.sh", env=env)
    real = echo.run_curl(command, tmp_path, env=env)
    ours = echo.send(to_wire(capture.document, like=[capture]))
    assert _compare_form(ours, echo) == _compare_form(real, echo)
    assert real.method == "PUT" and ("X-Literal", "$API_TOKEN") in real.headers
    named = [w for w in capture.warnings if "is expanded from the environment" in w]
    assert [w.split(": ")[1].split()[0] for w in named] == [
        "$OPTS", "$API_PATH", "$API_PATH", "$API_TOKEN", "$NOT_SET_HERE", "$API_TOKEN"]
    assert "not set here" in named[4]


@pytest.mark.parametrize(("prefix", "candidate"), [("--hea", "--header"), ("--comp", "--compressed"), ("--dat", "--data-raw")])
def test_an_ambiguous_option_prefix_is_refused_like_curl_refuses_it(
    prefix: str, candidate: str, echo: Echo, tmp_path: Path
) -> None:
    command = f"curl {prefix} {echo.origin}/ambiguous"
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=echo.env, capture_output=True, timeout=30,
                          check=False)
    assert f"option {prefix}: is ambiguous" in done.stderr.decode() and not echo.drain()
    with pytest.raises(InputError, match=f"option '{prefix}' is ambiguous") as caught:
        curl.load(command, source="a.sh")
    assert candidate in str(caught.value)


@pytest.mark.parametrize("scheme", ["--digest", "--ntlm"])
def test_handshake_authentication_is_refused(scheme: str, echo: Echo, tmp_path: Path) -> None:
    command = f"curl {scheme} -u user:pass {echo.origin}/auth"
    first = echo.run_curl(command, tmp_path)  # curl's opening move, not the request that would succeed
    authorization = dict(first.headers).get("Authorization")
    assert authorization is None or authorization.startswith("NTLM ")
    with pytest.raises(InputError, match=f"{scheme} authentication needs a handshake"):
        curl.load(command, source="a.sh")


@pytest.mark.parametrize("size", [curl_options.COOKIE_LIMIT, curl_options.COOKIE_LIMIT + 1])
def test_cookies_past_curls_limit_load_with_a_warning_and_our_repro_sends_them(
    size: int, echo: Echo, tmp_path: Path
) -> None:
    first = "a=" + "x" * 2000
    second = "b=" + "y" * (size - len(first) - 3)  # the -b strings join with ";"
    command = f"curl -b '{first}' -b '{second}' {echo.origin}/cookies"
    real = echo.run_curl(command, tmp_path)
    capture = curl.load(command, source="big.sh")
    over = size > curl_options.COOKIE_LIMIT
    assert ("Cookie" in dict(real.headers)) is not over  # curl 7.88 drops them silently
    assert any("curl itself would not send them" in w for w in capture.warnings) is over
    assert capture.document["cookies"] == {"a": first[2:], "b": second[2:]}
    repro = dump(capture.document, "curl")  # what a report shows
    assert "-h 'cookie: " in repro.lower() and " -b " not in repro
    received = {name.lower(): value for name, value in echo.run_curl(repro, tmp_path).headers}
    assert received["cookie"] == f"{first}; {second}"
