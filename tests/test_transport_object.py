"""When the document is not the cause: header order, header-name spelling, HTTP/2 (docs/design.md).

Each server here judges how a request is sent, over real sockets on 127.0.0.1:
uvicorn (h11 hands the app its headers in wire order), the standard library's
``http.server`` (it keeps each name as spelled), and hypercorn over TLS with a
``trustme`` certificate (it tells the app which HTTP version the client chose), each
started by the helpers in ``tests/servers.py`` that the socket-served cases use too.
"""

from __future__ import annotations

import asyncio
import copy
import json
import http.server
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from click.testing import CliRunner

from reqbisect import BaselineError, abisect
from reqbisect.cli import cli
from reqbisect.options import RunOptions
from reqbisect.formats import dump
from reqbisect.sender import wire_key
from reqbisect.wire import to_wire

from .conftest import serve
from .servers import serve_handler, serve_tls

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


@pytest.fixture(scope="module")
def spelling_server() -> Iterator[str]:
    with serve_handler(_Spelling) as origin:
        yield origin.url


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


@pytest.fixture(scope="module")
def h2_server() -> Iterator[tuple[str, Path]]:
    with serve_tls(_h2_only) as origin:
        assert origin.ca_cert is not None
        yield origin.url, origin.ca_cert


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


def test_the_same_lines_over_http2_are_another_request() -> None:
    """Under HTTP/2 no spelling is sent, so a spelling change and a version change can give the same lines."""
    document = {"method": "GET", "url": "https://127.0.0.1:9/x", "headers": {"accept": "*/*"},
                "transport": {"header_case": {"accept": "Accept"}}}
    lower = copy.deepcopy(document)
    del lower["transport"]["header_case"]
    over_h2 = copy.deepcopy(document)
    over_h2["transport"]["http"] = "2"
    assert to_wire(lower).headers == to_wire(over_h2).headers
    assert wire_key(to_wire(lower)) != wire_key(to_wire(over_h2))
    plain = {"method": "GET", "url": "https://127.0.0.1:9/x", "headers": {"accept": "*/*"}}
    assert wire_key(to_wire(plain)) == wire_key(to_wire({**plain, "transport": {}}))  # keys without a version stay


def test_curl_is_told_the_http_version_a_document_with_transport_says() -> None:
    document = {"method": "GET", "url": "https://127.0.0.1:9/x", "headers": {"accept": "*/*"}}
    assert "--http1.1" not in dump(document, "curl") and "--http2" not in dump(document, "curl")  # as before
    assert "--http1.1" in dump({**document, "transport": {}}, "curl")  # curl would offer h2 by ALPN
    assert "--http2" in dump({**document, "transport": {"http": "2"}}, "curl")
