"""When the document is not the cause: header order, header-name spelling, HTTP/2 (docs/design.md).

Each server here judges how a request is sent, over real sockets on 127.0.0.1:
uvicorn (h11 hands the app its headers in wire order), the standard library's
``http.server`` (it keeps each name as spelled), and hypercorn over TLS with a
``trustme`` certificate (it tells the app which HTTP version the client chose).
"""

from __future__ import annotations

import asyncio
import copy
import json
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import trustme
from click.testing import CliRunner
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from reqbisect import BaselineError, abisect
from reqbisect.cli import cli
from reqbisect.options import RunOptions
from reqbisect.wire import to_wire

from .conftest import serve

pytestmark = pytest.mark.network


async def _ordered(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """403 unless user-agent comes before accept, as a bot manager scoring header order does."""
    names = [name.decode() for name, _ in scope["headers"]]
    ok = "user-agent" in names and "accept" in names and names.index("user-agent") < names.index("accept")
    status, body = (200, b'{"ok": true}') if ok else (403, b'{"error": "request blocked"}')
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _document(url: str, order: list[str]) -> dict[str, Any]:
    return {
        "method": "GET", "url": url + "/v1/items",
        "headers": {"user-agent": "Mozilla/5.0", "accept": "*/*", "x-client": "web", "accept-language": "en"},
        "transport": {"header_order": order},
    }


@pytest.mark.parametrize("mode", ["fix", "break"])
async def test_header_order_is_minimised_to_the_headers_whose_order_matters(mode: str) -> None:
    with serve(_ordered) as served:
        good = _document(served.url, ["x-client", "user-agent", "accept-language", "accept"])
        bad = _document(served.url, ["accept", "accept-language", "x-client", "user-agent"])
        result = await abisect(good, bad, mode=mode)
    assert result.outcome == "found" and result.verified
    assert {op["path"].rsplit("/", 1)[0] for op in result.patch} == {"/transport/header_order"}
    # The minimal pair differs only in where user-agent and accept stand relative to each other.
    assert result.minimal_good is not None and result.minimal_bad is not None
    assert jsonpatch.apply_patch(
        result.minimal_bad if mode == "fix" else result.minimal_good, result.patch
    ) == (result.minimal_good if mode == "fix" else result.minimal_bad)
    moved = {op.get("value") for op in result.patch} - {None}
    assert result.patch and moved <= {"user-agent", "accept"}

    def sent(document: dict[str, Any]) -> list[str]:
        return [name for name, _ in to_wire(document).headers]

    good_order, bad_order = sent(result.minimal_good), sent(result.minimal_bad)
    assert good_order.index("user-agent") < good_order.index("accept")
    assert bad_order.index("accept") < bad_order.index("user-agent")


class _Spelling(http.server.BaseHTTPRequestHandler):
    """An old server that looks its API key up by exact spelling (``X-API-Key``)."""

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        spelled = [name for name in self.headers.keys() if name.lower() == "x-api-key"]
        ok = spelled == ["X-API-Key"]
        body = b"ok" if ok else b"missing X-API-Key"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def spelling_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Spelling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", ["fix", "break"])
async def test_header_name_spelling_is_found(spelling_server: str, mode: str) -> None:
    bad = {
        "method": "GET", "url": spelling_server + "/report", "headers": {"x-api-key": "k1", "accept": "*/*"},
        "transport": {"header_case": {"x-api-key": "X-Api-Key", "accept": "Accept"}},
    }
    good = copy.deepcopy(bad)
    good["transport"]["header_case"]["x-api-key"] = "X-API-Key"
    result = await abisect(good, bad, mode=mode)
    assert result.outcome == "found"
    assert [op["path"] for op in result.patch] == ["/transport/header_case/x-api-key"]


# -- HTTP/2 -------------------------------------------------------------------------------


async def _h2_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    ok = scope["http_version"] == "2"
    status, body = (200, b"streamed") if ok else (426, b"this endpoint needs HTTP/2")
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def h2_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    config = Config()
    config.certfile, config.keyfile = str(cert_file), str(key_file)
    config.alpn_protocols = ["h2", "http/1.1"]
    config.accesslog = config.errorlog = None
    # A free port read back first: simpler than hypercorn's own sockets.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config.bind = [f"127.0.0.1:{port}"]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def run() -> None:
        await hypercorn_serve(_h2_only, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    _wait_for_port(port)
    try:
        yield f"https://127.0.0.1:{port}", ca_file
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _wait_for_port(port: int) -> None:
    for _ in range(500):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise RuntimeError("hypercorn did not start")


@pytest.mark.parametrize("mode", ["fix", "break"])
async def test_an_http2_only_endpoint_is_found_in_the_transport(h2_server: tuple[str, Path], mode: str) -> None:
    url, ca_file = h2_server
    bad = {
        "method": "GET", "url": url + "/v1/stream", "headers": {"accept": "text/plain", "x-a": "1"},
        "transport": {"header_order": ["accept", "x-a"]},
    }
    good = copy.deepcopy(bad)
    good["transport"]["http"] = "2"
    result = await abisect(good, bad, options=RunOptions(mode=mode, ca_cert=ca_file))
    assert result.outcome == "found" and result.verified
    expected = {"fix": [{"op": "add", "path": "/transport/http", "value": "2"}],
                "break": [{"op": "remove", "path": "/transport/http"}]}
    assert result.patch == expected[mode]


def test_requests_equal_including_transport_say_what_cannot_be_reproduced(tmp_path: Path) -> None:
    document = '{"method": "GET", "url": "http://127.0.0.1:9/x", "transport": {"http": "2"}}'
    (tmp_path / "good.json").write_text(document)
    (tmp_path / "bad.json").write_text(document)
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "good.json"), str(tmp_path / "bad.json")])
    assert result.exit_code == 1
    assert "header order" in result.stderr and "TLS handshake" in result.stderr
    with pytest.raises(BaselineError):
        asyncio.run(abisect(tmp_path / "good.json", tmp_path / "bad.json"))


async def _fingerprinting(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers every client but a browser 403, whatever the request says (as a TLS-fingerprinting CDN does)."""
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"access denied"})


def test_a_good_capture_that_fails_from_here_is_said_to_be_beyond_the_document(tmp_path: Path) -> None:
    with serve(_fingerprinting) as served:
        def har(status: int) -> str:
            entry = {"request": {"method": "GET", "url": served.url + "/page", "httpVersion": "HTTP/1.1",
                                 "headers": [{"name": "Accept", "value": "text/html"}]},
                     "response": {"status": status}}
            return json.dumps({"log": {"version": "1.2", "entries": [entry]}})

        (tmp_path / "good.har").write_text(har(200))
        (tmp_path / "bad.json").write_text(json.dumps({"method": "GET", "url": served.url + "/page"}))
        result = CliRunner().invoke(cli, ["run", str(tmp_path / "good.har"), str(tmp_path / "bad.json")])
    assert result.exit_code == 1
    assert "GOOD's capture says its client got 200, sent from here it gets 403" in result.stderr
    assert "TLS handshake" in result.stderr
