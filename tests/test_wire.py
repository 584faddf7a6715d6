"""Captures and their wire form: normalisation, bodies by kind, exact byte reuse, rebuilt style."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import replace
import zlib
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest

from reqbisect.codecs import body_kind
from reqbisect.document import Capture, validate_document
from reqbisect.wire import WireRequest, from_wire, to_wire

MULTIPART = (
    b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy photo\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
    b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\xff\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\nx\r\n"
    b"--XyZ\r\nContent-Disposition: form-data; name=\"tag\"\r\n\r\ny\r\n--XyZ--\r\n"
)


def wire(body: bytes, content_type: str | None, *extra: tuple[str, str], url: str = "https://a.example/p") -> WireRequest:
    headers = ((("Content-Type", content_type),) if content_type else ()) + extra
    return WireRequest("POST", url, headers, body)


BODIES = {
    "json-compact": wire(b'{"a":1,"b":[true,null],"c":"x"}', "application/json"),
    "json-spaced": wire(b'{"a": 1, "b": [true, null]}', "application/json; charset=utf-8"),
    "json-indented": wire(b'{\n    "a": 1,\n    "b": {\n        "c": []\n    }\n}\n', "application/vnd.api+json"),
    "json-unicode-escaped": wire(b'{"name":"Zo\\u00eb \\u2713"}', "application/x-amz-json-1.0"),
    "json-unicode-raw": wire('{"name":"Zoë ✓"}'.encode(), "text/json"),
    "json-not-parsing": wire(b'{"a": 1,', "application/json"),
    "form-plus": wire(b"a=1&b=two+words&b=%C3%A9&flag=", "application/x-www-form-urlencoded"),
    "form-percent20": wire(b"q=two%20words&lower=%c3%a9", "application/x-www-form-urlencoded"),
    "form-not-a-form": wire(b'{"a": 1}', "application/x-www-form-urlencoded"),
    "multipart": wire(MULTIPART, "multipart/form-data; boundary=XyZ"),
    "text-latin1": wire("café\r\n".encode("latin-1"), "text/plain; charset=ISO-8859-1"),
    "xml": wire(b"<a>1</a>", "application/soap+xml"),
    "binary": wire(bytes(range(256)), "application/octet-stream"),
    "no-content-type-text": wire(b"hello", None),
    "no-content-type-binary": wire(b"\x00\x01", None),
    "gzip": wire(gzip.compress(b'{"a": [1, 2]}', mtime=0), "application/json", ("Content-Encoding", "gzip")),
    "deflate": wire(zlib.compress(b"a=1&b=2"), "application/x-www-form-urlencoded", ("Content-Encoding", "deflate")),
    "br": wire(brotli.compress(b"plain text"), "text/plain", ("Content-Encoding", "br")),
    "corrupt-gzip": wire(b"not gzip", "text/plain", ("Content-Encoding", "gzip")),
    "unknown-coding": wire(b"\x28\xb5\x2f\xfd", "text/plain", ("Content-Encoding", "zstd")),
    "empty": wire(b"", "application/json"),
}


@pytest.mark.parametrize("name", BODIES)
def test_unchanged_capture_goes_out_with_its_exact_bytes(name: str) -> None:
    capture = from_wire(BODIES[name], source="t")
    assert to_wire(capture.document, like=[capture]) == capture.wire
    assert capture.wire is not None and capture.wire.body == BODIES[name].body


@pytest.mark.parametrize("name", [name for name in BODIES if name != "corrupt-gzip"])
def test_rebuilt_wire_means_the_same_document(name: str) -> None:
    # A body that does not decode under its Content-Encoding is held as captured and
    # would be encoded when rebuilt; only its exact bytes are kept.
    capture = from_wire(BODIES[name], source="t")
    assert from_wire(to_wire(capture.document), source="t").document == capture.document


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("json-compact", {"a": 1, "b": [True, None], "c": "x"}),
        ("json-not-parsing", '{"a": 1,'),
        ("form-plus", {"a": "1", "b": ["two words", "é"], "flag": ""}),
        ("form-not-a-form", '{"a": 1}'),
        ("multipart", {"title": "My photo",
                       "file": {"filename": "a.bin", "content_type": "application/octet-stream",
                                "content_base64": "AAH/"},
                       "tag": ["x", "y"]}),
        ("text-latin1", "café\r\n"),
        ("xml", "<a>1</a>"),
        ("no-content-type-text", "hello"),
        ("gzip", {"a": [1, 2]}),
        ("br", "plain text"),
    ],
)
def test_body_is_held_by_content_type(name: str, body: Any) -> None:
    assert from_wire(BODIES[name], source="t").document["body"] == body


@pytest.mark.parametrize("name", ["binary", "no-content-type-binary", "corrupt-gzip", "unknown-coding"])
def test_other_bodies_are_base64(name: str) -> None:
    document = from_wire(BODIES[name], source="t").document
    assert "body" not in document
    assert base64.b64decode(document["body_base64"]) == BODIES[name].body


def test_no_body_means_neither_key() -> None:
    document = from_wire(BODIES["empty"], source="t").document
    assert "body" not in document and "body_base64" not in document


def test_body_kind_recognises_json_media_types() -> None:
    for media in ("application/json", "application/problem+json", "application/x-amz-json-1.1", "text/json"):
        assert body_kind(media) == "json"
    assert body_kind("multipart/form-data; boundary=x") == "multipart"
    assert body_kind("image/png") == "binary"
    assert body_kind(None) == "sniff"


def test_a_transport_object_decides_order_and_spelling() -> None:
    capture = from_wire(
        WireRequest("GET", "https://a.example/", (("X-Api-Key", "k"), ("Cookie", "a=1;b=2"), ("ACCEPT", "*/*")), b""),
        source="t",
    )
    assert capture.document["transport"] == {
        "header_order": ["x-api-key", "cookie", "accept"], "header_case": {"x-api-key": "X-Api-Key",
                                                                          "cookie": "Cookie", "accept": "ACCEPT"},
    }
    document = _changed(capture, headers={"accept": "*/*", "new-one": "1", "x-api-key": "k2"})
    # The listed order wins over the headers object's; an unlisted name goes last, in lower case.
    assert to_wire(document, like=[capture]).headers == (
        ("X-Api-Key", "k2"), ("Cookie", "a=1;b=2"), ("ACCEPT", "*/*"), ("new-one", "1"),
    )
    moved = _changed(capture, transport={"header_order": ["accept", "x-api-key", "cookie"]})
    assert to_wire(moved, like=[capture]).headers == (("accept", "*/*"), ("x-api-key", "k"), ("cookie", "a=1;b=2"))
    http2 = _changed(capture, transport={**capture.document["transport"], "http": "2"})
    assert to_wire(http2, like=[capture]).http == "2"
    assert [name for name, _ in to_wire(http2, like=[capture]).headers] == ["x-api-key", "cookie", "accept"]


def test_a_repeated_header_keeps_its_place_among_the_others() -> None:
    lines = (("X-Tag", "1"), ("X-Other", "o"), ("X-Tag", "2"))
    capture = from_wire(WireRequest("GET", "https://a.example/", lines, b""), source="t")
    assert capture.document["transport"]["header_order"] == ["x-tag", "x-other", "x-tag"]
    assert to_wire(capture.document).headers == lines
    # Part of an order change may list a name once too often: the extra place is skipped.
    doubled = _changed(capture, transport={"header_order": ["x-other", "x-tag", "x-other", "x-tag"]})
    assert [v for _, v in to_wire(doubled).headers] == ["o", "1", "2"]


def test_normalisation_follows_the_design() -> None:
    capture = from_wire(
        WireRequest(
            "GET",
            "HTTPS://API.Example.com?b=1&a=x+y&b=2&flag&e=%E2%9C%93#frag",
            (
                (":authority", "api.example.com"), ("Host", "api.example.com"), ("Accept", "a"),
                ("Connection", "keep-alive"), ("Content-Length", "0"), ("Transfer-Encoding", "chunked"),
                ("TE", "trailers"), ("Keep-Alive", "5"), ("Upgrade", "h2c"), ("Proxy-Connection", "x"),
                ("Cookie", "s=1; t=2"), ("X-Dup", "1"), ("accept", "b"), ("cookie", "s=3"),
            ),
            b"",
        ),
        source="t",
    )
    assert capture.document == {
        "method": "GET",
        "url": "https://api.example.com/",
        "query": {"b": ["1", "2"], "a": "x y", "flag": "", "e": "✓"},
        "headers": {"accept": ["a", "b"], "x-dup": "1"},
        "cookies": {"s": ["1", "3"], "t": "2"},
        # The lines the document keeps, as they were sent (derived and hop-by-hop ones are not sent).
        "transport": {"header_order": ["accept", "cookie", "x-dup", "accept", "cookie"],
                      "header_case": {"accept": "Accept", "cookie": "Cookie", "x-dup": "X-Dup"}},
    }
    assert capture.wire is not None
    assert capture.wire.url == "https://api.example.com/?b=1&a=x+y&b=2&flag&e=%E2%9C%93"
    assert [name for name, _ in capture.wire.headers] == ["Accept", "Cookie", "X-Dup", "accept", "cookie"]


def _changed(capture: Capture, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(capture.document))
    document.update(changes)
    return document


def test_rebuilt_json_keeps_compact_style() -> None:
    capture = from_wire(BODIES["json-compact"], source="t")
    rebuilt = to_wire(_changed(capture, body={"a": 2, "é": "ü"}), like=[capture])
    assert rebuilt.body == '{"a":2,"é":"ü"}'.encode()


def test_rebuilt_json_keeps_spaced_style_and_ascii_escapes() -> None:
    spaced = from_wire(wire(b'{"a": "\\u00e9", "b": 1}', "application/json"), source="t")
    assert to_wire(_changed(spaced, body={"a": "ü", "b": [1, 2]}), like=[spaced]).body == \
        b'{"a": "\\u00fc", "b": [1, 2]}'


def test_rebuilt_json_keeps_indentation_and_final_newline() -> None:
    capture = from_wire(BODIES["json-indented"], source="t")
    assert to_wire(_changed(capture, body={"x": [1]}), like=[capture]).body == b'{\n    "x": [\n        1\n    ]\n}\n'


def test_rebuilt_json_keeps_raw_unicode() -> None:
    capture = from_wire(BODIES["json-unicode-raw"], source="t")
    assert to_wire(_changed(capture, body={"name": "Émile"}), like=[capture]).body == '{"name":"Émile"}'.encode()


def test_json_that_did_not_parse_is_rebuilt_as_text() -> None:
    capture = from_wire(BODIES["json-not-parsing"], source="t")
    assert to_wire(_changed(capture, body='{"a": 2,'), like=[capture]).body == b'{"a": 2,'


def test_bytes_are_reused_only_for_strictly_equal_parts() -> None:
    capture = from_wire(wire(b'{"a": 1, "b": 2}', "application/json"), source="t")
    assert to_wire(_changed(capture, body={"a": True, "b": 2}), like=[capture]).body == b'{"a": true, "b": 2}'
    assert to_wire(_changed(capture, body={"b": 2, "a": 1}), like=[capture]).body == b'{"b": 2, "a": 1}'
    assert to_wire(_changed(capture, body={"a": 1.0, "b": 2}), like=[capture]).body == b'{"a": 1.0, "b": 2}'


def test_rebuilt_form_keeps_plus_or_percent_and_unchanged_fields() -> None:
    plus = from_wire(BODIES["form-plus"], source="t")
    body = {"a": "1", "b": ["two words", "é"], "new": "x y"}
    assert to_wire(_changed(plus, body=body), like=[plus]).body == b"a=1&b=two+words&b=%C3%A9&new=x+y"
    percent = from_wire(BODIES["form-percent20"], source="t")
    body = {"q": "two words", "lower": "é", "new": "x y/ü"}
    assert to_wire(_changed(percent, body=body), like=[percent]).body == \
        b"q=two%20words&lower=%c3%a9&new=x%20y%2f%c3%bc"


def test_rebuilt_multipart_keeps_boundary_and_unchanged_parts() -> None:
    capture = from_wire(BODIES["multipart"], source="t")
    body = dict(capture.document["body"], title="Other")
    rebuilt = to_wire(_changed(capture, body=body), like=[capture])
    assert rebuilt.body == MULTIPART.replace(b"My photo", b"Other")
    assert dict(rebuilt.headers)["Content-Type"] == "multipart/form-data; boundary=XyZ"


def test_multipart_gets_a_new_boundary_when_a_part_holds_it() -> None:
    capture = from_wire(BODIES["multipart"], source="t")
    body = dict(capture.document["body"], title="a\r\n--XyZ\r\nb")
    rebuilt = to_wire(_changed(capture, body=body), like=[capture])
    content_type = dict(rebuilt.headers)["Content-Type"]
    assert content_type != "multipart/form-data; boundary=XyZ"
    assert content_type.startswith("multipart/form-data; boundary=----reqbisect")
    assert from_wire(rebuilt, source="t").document["body"] == body
    assert to_wire(_changed(capture, body=body), like=[capture]) == rebuilt


def test_content_encoding_is_applied_again_to_a_rebuilt_body() -> None:
    capture = from_wire(BODIES["gzip"], source="t")
    rebuilt = to_wire(_changed(capture, body={"a": [3]}), like=[capture])
    assert json.loads(gzip.decompress(rebuilt.body)) == {"a": [3]}
    assert gzip.decompress(rebuilt.body) == b'{"a": [3]}'
    assert ("Content-Encoding", "gzip") in rebuilt.headers


def test_rebuilt_headers_follow_document_order_and_capture_case() -> None:
    capture = from_wire(
        WireRequest("GET", "https://a.example/", (("X-Api-Key", "k"), ("Cookie", "a=1;b=2"), ("ACCEPT", "*/*")), b""),
        source="t",
    )
    # Without a transport object, the document's order and the capture's spelling decide.
    capture = replace(capture, document={k: v for k, v in capture.document.items() if k != "transport"})
    document = _changed(capture, headers={"accept": "*/*", "new-one": "1", "x-api-key": "k2"})
    assert to_wire(document, like=[capture]).headers == (
        ("ACCEPT", "*/*"), ("new-one", "1"), ("X-Api-Key", "k2"), ("Cookie", "a=1;b=2"),
    )
    document = _changed(capture, cookies={"a": "1", "c": "3"})
    assert to_wire(document, like=[capture]).headers == (
        ("X-Api-Key", "k"), ("Cookie", "a=1;c=3"), ("ACCEPT", "*/*"),
    )


def test_rebuilt_query_keeps_unchanged_pairs_spelled_as_captured() -> None:
    capture = from_wire(WireRequest("GET", "https://a.example/p?flag&x=%c3%a9&s=a+b", (), b""), source="t")
    document = _changed(capture, query={"flag": "", "x": "é", "s": "a b", "new": "1 2"})
    assert to_wire(document, like=[capture]).url == "https://a.example/p?flag&x=%c3%a9&s=a+b&new=1+2"


def test_each_part_is_reused_from_the_capture_it_matches() -> None:
    first = from_wire(wire(b'{"a":1}', "application/json", ("X-First", "1"), url="https://a.example/?q=%41"),
                      source="1")
    second = from_wire(
        WireRequest("POST", "https://a.example/?q=A", (("content-type", "application/json"),), b'{"a": 2}'),
        source="2",
    )
    document = _changed(second, query={"q": "A"})
    document["body"] = {"a": 1}
    rebuilt = to_wire(document, like=[first, second])
    assert rebuilt.url == "https://a.example/?q=%41"
    assert rebuilt.headers == (("content-type", "application/json"),)
    assert rebuilt.body == b'{"a":1}'


@pytest.mark.parametrize("text", ['{"dup": 1, "x": 2, "dup": 2}', '{"big": 1e400}', '[1, 2e999]'])
def test_a_json_body_that_would_not_read_back_the_same_stays_text(text: str) -> None:
    wire = WireRequest("POST", "https://a.example/x", (("Content-Type", "application/json"),), text.encode())
    capture = from_wire(wire, source="t.http")
    assert capture.document["body"] == text
    assert to_wire(capture.document, like=[capture]).body == text.encode()
    validate_document(capture.document, source="t.http")
