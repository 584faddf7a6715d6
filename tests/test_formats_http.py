"""Raw HTTP/1.1 requests: request line forms, line endings, body length, errors, dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reqbisect.errors import InputError
from reqbisect.formats import http, load_request

FIXTURES = Path(__file__).parent / "fixtures" / "http"

EXPECTED: dict[str, dict[str, Any]] = {
    "post_crlf.http": {
        "method": "POST", "url": "https://api.example.com/v1/messages", "query": {"beta": "true"},
        "headers": {"content-type": "application/json", "x-api-key": "sk-test"},
        "cookies": {"session": "abc", "theme": "dark"}, "body": {"model": "m", "stream": False},
    },
    "get_lf.http": {
        "method": "GET", "url": "https://www.example.com:8443/search", "query": {"q": "café", "page": "2"},
        "headers": {"accept": ["text/html", "application/xhtml+xml"], "user-agent": "raw/1.0"},
    },
    "absolute_form.http": {
        "method": "DELETE", "url": "http://legacy.example.com/items/7", "query": {"force": "1"},
        "headers": {"authorization": "Basic YTpi"},
    },
    "chunked.http": {
        "method": "POST", "url": "https://up.example.com/upload", "headers": {"content-type": "text/plain"},
        "body": "hello world",
    },
    "h2_pseudo.http": {
        "method": "PUT", "url": "https://api.example.com/v2/things/1", "query": {"dry": "1"},
        "headers": {"accept": "application/json", "content-type": "application/json"}, "body": {"a": 1},
    },
    "rest_of_file.http": {
        "method": "PATCH", "url": "https://notes.example.com/notes/1",
        "headers": {"content-type": "text/plain; charset=utf-8"}, "body": "first line\nsecond line ✓\n",
    },
}


#: The order and spelling of each file's header lines; pseudo-headers mean HTTP/2.
TRANSPORT: dict[str, dict[str, Any]] = {
    "post_crlf.http": {"header_order": ["content-type", "x-api-key", "cookie"],
                       "header_case": {"content-type": "Content-Type", "x-api-key": "X-Api-Key", "cookie": "Cookie"}},
    "get_lf.http": {"header_order": ["accept", "accept", "user-agent"],
                    "header_case": {"accept": "Accept", "user-agent": "User-Agent"}},
    "absolute_form.http": {"header_case": {"authorization": "Authorization"}},
    "chunked.http": {"header_case": {"content-type": "Content-Type"}},
    "h2_pseudo.http": {"http": "2", "header_order": ["accept", "content-type"]},
    "rest_of_file.http": {"header_case": {"content-type": "Content-Type"}},
}


@pytest.mark.parametrize("name", EXPECTED)
def test_raw_requests_load_to_the_expected_document(name: str) -> None:
    capture = load_request(FIXTURES / name)
    assert capture.document == {**EXPECTED[name], "transport": TRANSPORT[name]}
    assert capture.warnings == ()


def test_exact_body_bytes_are_kept() -> None:
    capture = load_request(FIXTURES / "post_crlf.http")
    assert capture.wire is not None
    assert capture.wire.body == b'{"model":"m","stream":false}'
    assert capture.wire.url == "https://api.example.com/v1/messages?beta=true"


def test_scheme_for_origin_form_is_an_argument() -> None:
    text = (FIXTURES / "get_lf.http").read_text()
    assert http.load(text, source="t.http", scheme="http").document["url"] == "http://www.example.com:8443/search"


def test_bytes_after_content_length_are_reported() -> None:
    capture = http.load("POST / HTTP/1.1\nHost: a.example\nContent-Length: 2\n\nabcd", source="t.http")
    assert capture.document["body"] == "ab"
    assert capture.warnings == ("t.http: 2 bytes after the body (Content-Length 2) are ignored",)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_host.http", "no_host.http, line 1: origin-form request line needs a Host header"),
        ("bad_header.http", "bad_header.http, line 3: not a header line (expected Name: value, "
                            "got 'this is not a header')"),
        ("short_body.http", "short_body.http: the body is 5 bytes but Content-Length says 50"),
    ],
)
def test_malformed_requests_name_the_line(name: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        http.load((FIXTURES / name).read_text(), source=name)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\n\nnot http at all\n", "t.http, line 3: not a request line (expected METHOD TARGET HTTP/1.1, "
                                   "got 'not http at all')"),
        ("CONNECT a.example:443 HTTP/1.1\n\n", "t.http, line 1: unsupported request target "
                                              "(expected /path or http(s)://host/path, got 'a.example:443')"),
        ("", "t.http: empty request (expected a request line such as 'GET / HTTP/1.1')"),
        ("GET /x HTTP/1.1\nHost: a.example\nHost: b.example\n\n", "t.http: host appears more than once; keep one"),
        ("POST /x HTTP/1.1\nHost: a\nContent-Length: -1\n\nabcdef",
         "t.http: Content-Length is not a number of bytes (expected digits, got '-1')"),
    ],
)
def test_other_malformed_requests(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        http.load(text, source="t.http")
    assert str(info.value) == message


def test_dump_writes_host_and_content_length() -> None:
    document = EXPECTED["post_crlf.http"]
    assert http.dump(document) == (
        "POST /v1/messages?beta=true HTTP/1.1\r\n"
        "Host: api.example.com\r\n"
        "content-type: application/json\r\n"
        "x-api-key: sk-test\r\n"
        "cookie: session=abc; theme=dark\r\n"
        "Content-Length: 28\r\n"
        "\r\n"
        '{"model":"m","stream":false}'
    )


def test_dump_keeps_the_http_version_order_and_spelling() -> None:
    for name in ("post_crlf.http", "h2_pseudo.http"):
        document = {**EXPECTED[name], "transport": TRANSPORT[name]}
        assert http.load(http.dump(document), source="t").document == document


def test_dump_keeps_the_scheme_of_plain_http_with_absolute_form() -> None:
    document = EXPECTED["absolute_form.http"]
    text = http.dump(document)
    assert text.startswith("DELETE http://legacy.example.com/items/7?force=1 HTTP/1.1\r\nHost: legacy.example.com\r\n")
    assert http.load(text, source="t").document == document


def test_dump_keeps_capture_bytes_and_binary_bodies() -> None:
    capture = load_request(FIXTURES / "post_crlf.http")
    text = http.dump(capture.document, like=[capture])
    assert text.endswith("Content-Length: 28\r\n\r\n" + '{"model":"m","stream":false}')
    binary = {"method": "PUT", "url": "https://a.example/", "body_base64": "AP8="}
    assert http.load(http.dump(binary), source="t").document == binary
