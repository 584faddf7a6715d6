"""load_request: paths, stdin, selectors, extensions, sniffing; dump by format name."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from reqbisect.errors import InputError
from reqbisect.formats import FORMATS, dump, load_request, sniff

FIXTURES = Path(__file__).parent / "fixtures"
DOCUMENT = {"method": "GET", "url": "https://a.example/x", "headers": {"accept": "*/*"}}


def test_formats_are_the_designed_four() -> None:
    assert FORMATS == ("json", "curl", "http", "har")


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"log": {"entries": []}}', "har"),
        ('\ufeff {"method": "GET"}', "json"),
        ("#!/bin/bash\n# note\ncurl https://a.example/", "curl"),
        ("/usr/bin/curl.exe -s x", "curl"),
        ("GET /x HTTP/1.1\nHost: a\n\n", "http"),
        (":method: GET\n", "http"),
        ("hello", None),
    ],
)
def test_sniff_recognises_each_format(text: str, fmt: str | None) -> None:
    assert sniff(text) == fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_files_load_by_extension_and_sniffing(fmt: str, tmp_path: Path) -> None:
    text = dump(DOCUMENT, fmt)
    named = tmp_path / f"req.{ {'json': 'json', 'curl': 'curl', 'http': 'http', 'har': 'har'}[fmt] }"
    named.write_text(text)
    assert load_request(named).document == DOCUMENT
    unnamed = tmp_path / "capture"
    unnamed.write_text(text)
    assert load_request(str(unnamed)).document == DOCUMENT


def test_stdin_and_inline_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(dump(DOCUMENT, "http").encode())))
    capture = load_request("-")
    assert capture.document == DOCUMENT and capture.source == "-"
    assert load_request("curl https://a.example/x -H 'accept: */*' -H 'User-Agent:'").document == DOCUMENT
    assert load_request("req.json", text=dump(DOCUMENT, "json")).document == DOCUMENT


def test_curl_files_are_read_relative_to_their_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    capture = load_request(FIXTURES / "curl" / "15_data_binary_file.sh")
    assert capture.wire is not None and capture.wire.body == bytes(range(256))


def test_windows_shells_are_picked_by_extension(tmp_path: Path) -> None:
    text = 'curl "http://a.example/" -d "a ""b"""'
    (tmp_path / "req.cmd").write_text(text)
    (tmp_path / "req.sh").write_text(text)
    assert load_request(tmp_path / "req.cmd").document["body"] == 'a "b"'
    assert load_request(tmp_path / "req.sh").document["body"] == "a b"


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("missing.json", "missing.json: cannot read the request: No such file or directory"),
        (str(FIXTURES / "curl" / "data" / "notes.txt"), "no curl command found"),
        (f"{FIXTURES / 'http' / 'get_lf.http'}#2", "only HAR files take an entry selector (#2)"),
    ],
)
def test_load_errors_are_one_line(arg: str, message: str) -> None:
    with pytest.raises(InputError) as info:
        load_request(arg)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_format_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "blob").write_text("hello")
    with pytest.raises(InputError, match=r"cannot tell the format of the request"):
        load_request(tmp_path / "blob")
    with pytest.raises(InputError, match=r"unknown format 'xml' \(expected one of json, curl, http, har\)"):
        dump(DOCUMENT, "xml")


def har_with(headers: list[dict[str, str]], url: str = "https://a.example/x") -> str:
    entry = {"request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1", "headers": headers,
                         "queryString": [], "cookies": []}}
    return json.dumps({"log": {"version": "1.2", "entries": [entry]}})


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        # A header line break would inject a second header into every candidate.
        ("inject.curl", "curl https://a.example/x -H $'X-A: 1\\r\\nInjected: 1'",
         "inject.curl, /headers/x-a: value has a line break or another control character"),
        ("inject.har", har_with([{"name": "X-A", "value": "1\r\nInjected: 1"}]),
         "inject.har, /headers/x-a: value has a line break or another control character"),
        ("name.curl", "curl https://a.example/x -H 'bad name: v'", "name.curl, /headers/bad name: not a valid header name"),
        ("method.curl", "curl -X 'GET /x' https://a.example/x", "method.curl, /method: wrong type"),
        ("scheme.har", har_with([], url="ftp://a.example/x"), "scheme.har, /url: not an absolute http(s) URL"),
        ("host.http", "GET /x HTTP/1.1\nHost: a b\n\n", "host.http, /url: the URL has a space"),
        ("port.http", "GET /x HTTP/1.1\nHost: a.example:99999\n\n", "port.http, /url: not a valid URL"),
    ],
)
def test_every_format_yields_a_request_that_can_be_sent(name: str, text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_request(str(path))
    assert str(info.value).replace(str(tmp_path) + "/", "").startswith(message), str(info.value)


def test_what_a_capture_loses_is_said_once_and_what_it_cannot_mean_is_refused(tmp_path: Path) -> None:
    (tmp_path / "creds.http").write_text("GET http://user:pw@a.example/x HTTP/1.1\n\n", encoding="utf-8")
    capture = load_request(str(tmp_path / "creds.http"))
    assert "user" not in capture.document["url"]
    assert [w.count("creds.http") for w in capture.warnings] == [1]
    assert "credentials in the URL" in capture.warnings[0]

    entry = json.loads(har_with([]))
    entry["log"]["entries"][0]["request"]["postData"] = {"mimeType": "application/json", "text": {"a": 1}}
    (tmp_path / "object.har").write_text(json.dumps(entry), encoding="utf-8")
    with pytest.raises(InputError, match=r"/postData/text: wrong type \(expected the body as a string, got dict\)"):
        load_request(str(tmp_path / "object.har"))

    (tmp_path / "one.har").write_text(har_with([]), encoding="utf-8")
    with pytest.raises(InputError, match="nothing after '#'"):
        load_request(str(tmp_path / "one.har") + "#")


def test_one_entry_is_one_entry(tmp_path: Path) -> None:
    (tmp_path / "one.har").write_text(har_with([]), encoding="utf-8")
    with pytest.raises(InputError, match=r"no entry 3 \(the file has 1 entry: #0\.\.#0\)"):
        load_request(str(tmp_path / "one.har") + "#3")


def test_a_missing_path_is_not_read_as_a_command(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the request"):
        load_request(str(tmp_path / "captures" / "curl"))


def test_a_har_file_named_json_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "capture.json").write_text(har_with([]), encoding="utf-8")
    with pytest.raises(InputError, match="unknown key 'log'; this looks like a HAR file; give it the .har extension"):
        load_request(str(tmp_path / "capture.json"))


def test_har_header_values_lose_surrounding_spaces_like_curl_and_raw_http(tmp_path: Path) -> None:
    (tmp_path / "spaced.har").write_text(har_with([{"name": "X-Foo", "value": " bar "}]), encoding="utf-8")
    (tmp_path / "spaced.curl").write_text("curl https://a.example/x -H 'X-Foo:  bar '", encoding="utf-8")
    (tmp_path / "spaced.http").write_text("GET /x HTTP/1.1\nHost: a.example\nX-Foo:  bar \n\n", encoding="utf-8")
    documents = [load_request(str(tmp_path / name)).document for name in ("spaced.har", "spaced.curl", "spaced.http")]
    assert [doc["headers"]["x-foo"] for doc in documents] == ["bar", "bar", "bar"]
