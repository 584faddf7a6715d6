"""HAR 1.2 in the styles of Chrome, Firefox, Safari, Charles, mitmproxy, Insomnia and Proxyman."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from reqbisect.errors import InputError
from reqbisect.formats import har, load_request
from reqbisect.wire import from_wire, to_wire

HARS = Path(__file__).parent / "fixtures" / "har"

EXPECTED: dict[str, tuple[dict[str, Any], list[str]]] = {
    "chrome.har#1": ({
        "method": "POST",
        "url": "https://api.example.com/v1/messages",
        "query": {"beta": "true"},
        "headers": {"accept": "application/json", "anthropic-version": "2023-06-01",
                    "content-type": "application/json", "x-api-key": "sk-test"},
        "cookies": {"session": "abc", "theme": "dark"},
        "body": {"model": "m", "system": [{"type": "text", "text": "x"}], "messages": [{"role": "user", "content": "hi"}]},
    }, []),
    "chrome.har#2": ({
        "method": "POST",
        "url": "https://api.example.com/login",
        "headers": {"content-type": "application/x-www-form-urlencoded"},
        "body": {"user": "alice", "pass": "p@ss word"},
    }, []),
    "firefox.har": ({
        "method": "POST",
        "url": "http://shop.example.org/cart/add",
        "headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                    "accept": "*/*", "content-type": "application/x-www-form-urlencoded"},
        "cookies": {"cart": "xyz"},
        "body": {"sku": "A 1", "qty": "2", "note": "gift & wrap"},
    }, ["firefox.har#0: postData has no text; the body was rebuilt from postData.params"]),
    "safari.har": ({
        "method": "PUT",
        "url": "https://photos.example.net/albums/9/items",
        "headers": {"content-type": "multipart/form-data; boundary=----WebKitFormBoundaryQ3x",
                    "accept": "application/json", "user-agent": "Mozilla/5.0 (Macintosh) Version/17.4 Safari/605.1.15"},
        "body": {"title": "Holiday", "photo": {"filename": "a.txt", "content_type": "text/plain", "content": "hello"}},
    }, []),
    "charles.har": ({
        "method": "POST",
        "url": "https://ingest.example.com/v2/blob",
        "query": {"id": "7"},
        "headers": {"content-type": "application/octet-stream", "x-client": "sdk/2.1"},
        "body_base64": base64.b64encode(bytes([0, 1, 2, 250, 251, 252])).decode(),
    }, []),
    "mitmproxy.har": ({
        "method": "POST",
        "url": "https://telemetry.example.com/collect",
        "headers": {"content-type": "application/json", "content-encoding": "gzip"},
        "body": {"events": [{"name": "open"}]},
    }, []),
    "insomnia.har": ({
        "method": "PATCH",
        "url": "https://api.example.com/users/3",
        "query": {"notify": ["false", "true"]},
        "headers": {"authorization": "Bearer tok", "content-type": "application/json"},
        "cookies": {"sid": "s1", "lang": "en"},
        "body": {"name": "Zoë"},
    }, []),
    "proxyman.har": ({
        "method": "POST",
        "url": "https://forms.example.com/submit",
        "headers": {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        "body": {"a": "1", "b": "café"},
    }, ["proxyman.har#0: postData.params disagree with postData.text; the text is used"]),
}


#: What each capture shows of how it was sent (docs/design.md, "When the document is not the cause"):
#: HTTP/2 entries say so and spell names in lower case; HTTP/1.1 exporters keep each name's spelling.
TRANSPORT: dict[str, dict[str, Any]] = {
    "chrome.har#1": {"http": "2", "header_order": ["accept", "anthropic-version", "content-type", "cookie", "x-api-key"]},
    "chrome.har#2": {"http": "2"},
    "firefox.har": {"header_order": ["user-agent", "accept", "content-type", "cookie"],
                    "header_case": {"user-agent": "User-Agent", "accept": "Accept", "content-type": "Content-Type",
                                    "cookie": "Cookie"}},
    "safari.har": {"header_order": ["content-type", "accept", "user-agent"],
                   "header_case": {"content-type": "Content-Type", "accept": "Accept", "user-agent": "User-Agent"}},
    "charles.har": {"header_order": ["content-type", "x-client"],
                    "header_case": {"content-type": "Content-Type", "x-client": "X-Client"}},
    "mitmproxy.har": {"http": "2", "header_order": ["content-type", "content-encoding"]},
    "insomnia.har": {"header_order": ["authorization", "cookie", "content-type"],
                     "header_case": {"authorization": "Authorization", "cookie": "Cookie", "content-type": "Content-Type"}},
    "proxyman.har": {"header_case": {"content-type": "Content-Type"}},
}


def _load(name: str) -> Any:
    file, _, entry = name.partition("#")
    return har.load((HARS / file).read_text(), source=file, entry=entry or None)


@pytest.mark.parametrize("name", EXPECTED)
def test_exporter_styles_load_to_the_expected_document(name: str) -> None:
    capture = _load(name)
    document, warnings = EXPECTED[name]
    assert capture.document == {**document, "transport": TRANSPORT[name]}
    assert list(capture.warnings) == warnings


def test_pseudo_and_derived_headers_never_reach_the_wire() -> None:
    capture = _load("chrome.har#1")
    assert [name for name, _ in capture.wire.headers] == [
        "accept", "anthropic-version", "content-type", "cookie", "x-api-key",
    ]
    assert capture.wire.url == "https://api.example.com/v1/messages?beta=true"
    assert capture.source == "chrome.har#1"


def test_base64_bodies_keep_their_exact_bytes() -> None:
    capture = _load("mitmproxy.har")
    entry = json.loads((HARS / "mitmproxy.har").read_text())["log"]["entries"][0]
    assert capture.wire.body == base64.b64decode(entry["request"]["postData"]["text"])
    assert to_wire(capture.document, like=[capture]).body == capture.wire.body


def test_entries_are_picked_by_index_or_by_a_unique_url_match() -> None:
    assert load_request(HARS / "chrome.har#0").document["url"] == "https://api.example.com/v1/models"
    assert load_request(f"{HARS / 'chrome.har'}#/v1/messages").source.endswith("chrome.har#1")
    assert load_request(f"{HARS / 'chrome.har'}#login").source.endswith("chrome.har#2")


def _entry(method: str, url: str) -> dict[str, Any]:
    return {"request": {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": []},
            "response": {"status": 200}}


API = json.dumps({"log": {"entries": [
    _entry("GET", "https://api.example.com/v1/models"),
    _entry("POST", "https://api.example.com/v1/messages/count_tokens"),
    _entry("OPTIONS", "https://api.example.com/v1/messages?beta=true"),
    _entry("POST", "https://api.example.com/v1/messages?beta=true"),
    _entry("POST", "https://api.example.com/v1/messages/batches"),
]}})


@pytest.mark.parametrize(("selector", "index"), [
    ("POST /v1/messages", 3),  # the path equals it; count_tokens and batches only contain it
    ("post /v1/messages?beta=true", 3),
    ("OPTIONS /v1/messages", 2),
    ("https://api.example.com/v1/models", 0),
    ("count_tokens", 1),  # a unique substring
    ("GET /v1", 0),
    ("4", 4),
])
def test_a_path_that_equals_wins_over_substrings_and_a_method_narrows(selector: str, index: int) -> None:
    assert har.load(API, source="api.har", entry=selector).source == f"api.har#{index}"


def test_several_matching_entries_are_an_error_that_lists_them() -> None:
    with pytest.raises(InputError) as info:
        har.load(API, source="api.har", entry="/v1/messages")
    assert str(info.value) == (
        "api.har#/v1/messages: 2 entries match (the path '/v1/messages'): "
        "#2 OPTIONS https://api.example.com/v1/messages?beta=true -> 200; "
        "#3 POST https://api.example.com/v1/messages?beta=true -> 200; "
        "pick one by index (api.har#N) or by method and path (api.har#POST /path)"
    )
    with pytest.raises(InputError, match=r"^api.har#POST messages/: 2 entries match \(the URL contains "
                                         r"'messages/', method POST\): #1 POST .*count_tokens -> 200; #4 POST "):
        har.load(API, source="api.har", entry="POST messages/")


def test_an_ambiguous_selector_exits_2_naming_the_file(tmp_path: Path) -> None:
    from tests.test_cli import invoke

    path = tmp_path / "capture.har"
    path.write_text(API)
    code, out, err = invoke("convert", f"{path}#api.example.com", "--to", "json")
    assert code == 2 and not out
    assert "capture.har#api.example.com: 5 entries match" in err and "#4 POST" in err and "Traceback" not in err


def test_missing_entry_says_how_many_there_are() -> None:
    with pytest.raises(InputError) as info:
        har.load((HARS / "chrome.har").read_text(), source="capture.har", entry="7")
    assert str(info.value) == "capture.har#7: no entry 7 (the file has 3 entries: #0..#2)"


def test_several_entries_without_a_selector_are_listed() -> None:
    with pytest.raises(InputError) as info:
        har.load((HARS / "chrome.har").read_text(), source="capture.har")
    assert str(info.value) == (
        "capture.har: the file has 3 entries; pick one with capture.har#N or capture.har#URL-PART: "
        "#0 GET https://api.example.com/v1/models?limit=20 -> 200; "
        "#1 POST https://api.example.com/v1/messages?beta=true -> 400; "
        "#2 POST https://api.example.com/login -> 302"
    )
    assert har.list_entries((HARS / "chrome.har").read_text(), source="capture.har")[1] == \
        "#1 POST https://api.example.com/v1/messages?beta=true -> 400"


def test_no_url_match_lists_the_entries() -> None:
    with pytest.raises(InputError, match=r"^capture.har#/nope: no entry whose URL contains '/nope' \(entries: #0 GET"):
        har.load((HARS / "chrome.har").read_text(), source="capture.har", entry="/nope")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ((HARS / "not_json.har").read_text(),
         "bad.har, line 2, column 32: invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"entries": []}', "bad.har, /log/entries: not a HAR file (expected a list of entries)"),
        ('{"log": {"entries": []}}', "bad.har: the HAR file has no entries"),
        ('{"log": {"entries": [{"request": {"method": "GET", "url": 5}}]}}',
         "bad.har, /log/entries/0/request/url: wrong type (expected a string, got 5)"),
        ('{"log": {"entries": [{"request": {"method": "GET", "url": "https://a/", "headers": [{"name": 1}]}}]}}',
         "bad.har, /log/entries/0/request/headers/0/name: wrong type (expected a string, got 1)"),
    ],
)
def test_malformed_har_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        har.load(text, source="bad.har")
    assert str(info.value) == message


def test_dump_is_a_one_entry_har_that_loads_back() -> None:
    document = EXPECTED["chrome.har#1"][0]
    text = har.dump(document)
    entry = json.loads(text)["log"]["entries"][0]
    assert json.loads(text)["log"]["version"] == "1.2"
    assert entry["request"]["postData"]["mimeType"] == "application/json"
    assert entry["request"]["queryString"] == [{"name": "beta", "value": "true"}]
    loaded = har.load(text, source="out.har").document
    # The dump says how it would be sent: HTTP/1.1, names in lower case, in document order.
    assert loaded.pop("transport") == {"header_order": ["accept", "anthropic-version", "content-type", "x-api-key",
                                                        "cookie"]}
    assert loaded == document


def test_dump_keeps_the_transport_of_a_document() -> None:
    http1 = {**EXPECTED["firefox.har"][0], "transport": TRANSPORT["firefox.har"]}
    http2 = {**EXPECTED["chrome.har#1"][0], "transport": TRANSPORT["chrome.har#1"]}
    for document in (http1, http2):
        assert har.load(har.dump(document), source="out.har").document == document


def test_dump_writes_binary_bodies_as_base64_and_keeps_capture_bytes() -> None:
    capture = _load("charles.har")
    text = har.dump(capture.document, like=[capture])
    post = json.loads(text)["log"]["entries"][0]["request"]["postData"]
    assert post["encoding"] == "base64"
    again = har.load(text, source="out.har")
    assert again.wire is not None and again.wire.body == capture.wire.body
    latin = from_wire(to_wire({"method": "POST", "url": "https://a.example/",
                               "headers": {"content-type": "text/plain; charset=latin-1"}, "body": "café"}),
                      source="t")
    assert "encoding" not in json.loads(har.dump(latin.document))["log"]["entries"][0]["request"]["postData"]
    loaded = har.load(har.dump(latin.document), source="t")
    assert loaded.wire is not None and loaded.wire.body == "café".encode("latin-1")
