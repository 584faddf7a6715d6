"""fetch() calls as Chrome ("Copy as fetch", "Copy as fetch (Node.js)") and Firefox copy them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli
from reqbisect.errors import InputError
from reqbisect.formats import fetch, load_request, sniff

from .format_twins import FIXTURES, assert_corpus_covers, assert_file_sends_like_its_twin, needs_curl
from .test_curl_differential import Echo, echo  # noqa: F401  (the loopback server fixture)

CALLS = sorted((FIXTURES / "fetch").glob("*.js"))


@needs_curl
@pytest.mark.network
@pytest.mark.parametrize("path", CALLS, ids=lambda p: p.stem)
def test_fetch_sends_what_its_curl_twin_sends(path: Path, echo: Echo) -> None:  # noqa: F811
    assert_file_sends_like_its_twin(path, echo)


def test_the_corpus_covers_both_browsers_node_and_every_kind_of_body() -> None:
    assert_corpus_covers(CALLS, ("chrome", "firefox", "node", "get", "json", "form", "cookies", "unicode", "empty"))


def _load(text: str) -> fetch.Capture:
    return fetch.load(text, source="t.js")


def test_node_variant_cookie_header_becomes_cookies() -> None:
    doc = load_request(FIXTURES / "fetch" / "04_chrome_node_cookies.js").document
    assert doc["cookies"] == {"sid": "a1b2c3d4", "theme": "dark", "cart": "%5B1%2C2%5D"}
    assert doc["headers"]["referer"] == "http://ECHO/cart" and "cookie" not in doc["headers"]


def test_browser_variant_says_what_the_browser_adds() -> None:
    capture = load_request(FIXTURES / "fetch" / "01_chrome_get.js")
    assert capture.document["headers"]["referer"] == "http://ECHO/items"
    assert any("its cookies (credentials: include)" in w for w in capture.warnings)


def test_a_javascript_literal_edited_by_hand_is_read() -> None:
    text = ("// copied, then edited\nfetch('https://a.example/x', {\n  method: 'patch', // as written\n"
            "  headers: {'X-A': 'it\\'s', n: 1,},\n  body: `raw \\u{1F600}`,\n});\nconsole.log('done');")
    capture = _load(text)
    assert capture.document["method"] == "patch"  # fetch upper-cases only the standard six
    assert capture.document["headers"] == {"x-a": "it's", "n": "1", "content-type": "text/plain;charset=UTF-8"}
    assert capture.document["body"] == "raw \U0001F600"
    assert any("everything after the first fetch call is ignored" in w for w in capture.warnings)


def test_standard_methods_are_upper_cased_like_fetch_does() -> None:
    assert _load('fetch("http://a.example/", {"method": "delete"})').document["method"] == "DELETE"
    assert _load('fetch("http://a.example/")').document["method"] == "GET"


@pytest.mark.parametrize(("text", "message", "where"), [
    ('fetch("http://a.example/", {\n  "method": "POST"\n  "body": "x"\n});', "missing ',' between properties",
     "line 3, column 3"),
    ('fetch("http://a.example/", {\n  "body": "abc\n});', "unterminated string", "line 2, column 11"),
    ('fetch("http://a.example/", {\n  "body": JSON.stringify(data)\n});', "'JSON' is not a literal value",
     "line 2, column 11"),
    ('fetch("http://a.example/", {\n  "headers": {"a": "b"}', "unterminated object", "line 1, column 28"),
    ('fetch("http://a.example/", {\n  "body": {"a": 1}\n});', "body must be a string", "line 2, column 11"),
    ('fetch("http://a.example/", {"headers": {"a": "b"}}', "missing ')' closing the fetch call",
     "line 1, column 51"),
    ('fetch("/relative", {})', "is not absolute", "line 1, column 7"),
    ('fetch(`http://a.example/${id}`)', "a template string with ${...} cannot be read", "line 1, column 25"),
    ('fetch("http://a.example/", {"a": 1, "a": 2})', "property 'a' appears twice", "line 1, column 37"),
])
def test_malformed_calls_name_line_and_column(text: str, message: str, where: str) -> None:
    with pytest.raises(InputError) as info:
        _load(text)
    assert message in str(info.value) and info.value.location == where


def test_sniffing_finds_fetch_without_an_extension(tmp_path: Path) -> None:
    text = (CALLS[-1]).read_text(encoding="utf-8")
    assert sniff(text) == "fetch" and sniff("await " + text.removeprefix("await ")) == "fetch"
    path = tmp_path / "capture.txt"
    path.write_text(text, encoding="utf-8")
    assert load_request(path).document["method"] == "POST"


@needs_curl
@pytest.mark.network
def test_malformed_call_exits_2_with_place_and_sends_nothing(tmp_path: Path, echo: Echo) -> None:  # noqa: F811
    path = tmp_path / "bad.js"
    path.write_text('fetch("http://a.example/x", {\n  "headers": {\n    "a": "b",\n  },\n  "body" "x"\n});\n',
                    encoding="utf-8")
    echo.drain()
    result = CliRunner().invoke(cli, ["send", str(path), "--target", echo.origin])
    assert result.exit_code == 2
    assert f"{path}, line 5, column 10: missing ':' after the property name 'body'" in result.stderr
    assert "Traceback" not in result.stderr and echo.drain() == []
