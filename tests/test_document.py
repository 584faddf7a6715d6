"""The request document: its origin, and the validation of native documents."""

from __future__ import annotations

from typing import Any

import jsonpatch
import pytest

from reqbisect.diff import diff
from reqbisect.document import MAX_DEPTH, origin, validate_document
from reqbisect.errors import InputError

def test_origin_makes_the_default_port_explicit() -> None:
    assert origin({"url": "https://API.example.com/x"}) == "https://api.example.com:443"
    assert origin({"url": "http://h.example:8080/"}) == "http://h.example:8080"
    assert origin({"url": "http://[::1]/"}) == "http://[::1]:80"


VALID = {"method": "POST", "url": "https://a.example/v1", "headers": {"Content-Type": "application/json"},
         "body": {"a": 1}}


def test_validation_lower_cases_header_names() -> None:
    assert validate_document(VALID, source="ok.json")["headers"] == {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"headers": {"accept": 3}},
         "bad.json, /headers/accept: wrong type (expected a string or a list of strings, got 3)"),
        ({"query": {"a/b": ["x", 1]}},
         'bad.json, /query/a~1b: wrong type (expected a string or a list of strings, got ["x", 1])'),
        ({"cookies": []}, "bad.json, /cookies: wrong type (expected an object, got [])"),
        ({"body_base64": "AA=="}, "bad.json, /body_base64: both body and body_base64; keep one of them"),
        ({"url": "https://a.example/v1?x=1"},
         "bad.json, /url: the URL has a query or fragment; put query parameters in /query"),
        ({"url": "ftp://a.example/"}, 'bad.json, /url: not an absolute http(s) URL '
                                      '(expected e.g. "https://api.example.com/v1", got "ftp://a.example/")'),
        ({"method": 7}, 'bad.json, /method: wrong type (expected an HTTP method such as "GET", got 7)'),
        ({"headers": {"Host": "x"}}, "bad.json, /headers/Host: header 'host' is not allowed; "
                                     "it is derived when sending"),
        ({"headers": {"cookie": "a=1"}}, "bad.json, /headers/cookie: header 'cookie' is not allowed; "
                                         "put cookies in /cookies"),
        ({"headers": {"x": "a\r\nb"}}, "bad.json, /headers/x: value has a line break or another control character"),
        ({"headers": {"x": " a"}},
         "bad.json, /headers/x: value starts or ends with a space, which HTTP does not keep; remove the space"),
        ({"cookies": {"a;b": "c"}},
         "bad.json, /cookies/a;b: not a cookie (a name without spaces, ';', '=' or ',', a value without ';')"),
        ({"cookies": {"a": "c; d=e"}},
         "bad.json, /cookies/a: not a cookie (a name without spaces, ';', '=' or ',', a value without ';')"),
        ({"url": "https://a.example/caf\u00e9"}, "bad.json, /url: the URL has a space, a control or a non-ASCII "
                                                "character; percent-encode it (a space is %20); a domain name "
                                                "goes in its xn-- form"),
        ({"url": "https://a.example:99999/"}, "bad.json, /url: not a valid URL: Port out of range 0-65535"),
        ({"url": "http://[::1/x"}, "bad.json, /url: not a valid URL: Invalid IPv6 URL"),
        ({"body": {"a": [1, float("inf")]}}, "bad.json, /body/a/1: inf is not a JSON number; the body must be "
                                             "JSON that any parser reads back the same"),
        ({"hedaers": {}}, "bad.json, /hedaers: unknown key 'hedaers'; did you mean 'headers'?"),
        ({"headers": {"authorization": ["Bearer LEAKY123", 5]}},
         "bad.json, /headers/authorization: wrong type (expected a string or a list of strings, got a secret value)"),
    ],
)
def test_validation_errors_name_the_file_and_pointer(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError) as info:
        validate_document({**VALID, **changes}, source="bad.json")
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def nested(leaf: str, depth: int) -> Any:
    value: Any = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_validation_rejects_bodies_nested_deeper_than_diff_and_apply_handle() -> None:
    good, bad = {**VALID, "body": nested("a", MAX_DEPTH)}, {**VALID, "body": nested("b", MAX_DEPTH)}
    for doc in (good, bad):
        validate_document(doc, source="ok.json")
    with pytest.raises(InputError, match=f"/body(/0){{{MAX_DEPTH}}}: nested more than {MAX_DEPTH} levels deep"):
        validate_document({**VALID, "body": nested("a", MAX_DEPTH + 1)}, source="deep.json")
    # What is accepted can be diffed, applied and patched.
    tree = diff(bad, good)
    assert tree.apply(range(len(tree.changes))) == good
    assert jsonpatch.apply_patch(bad, tree.patch(range(len(tree.changes)))) == good


def test_validation_rejects_bad_base64_and_missing_keys() -> None:
    with pytest.raises(InputError, match=r"/body_base64: not valid base64"):
        validate_document({"method": "GET", "url": "https://a.example/", "body_base64": "@@"}, source="b.json")
    with pytest.raises(InputError, match=r"b.json, /: missing 'url'"):
        validate_document({"method": "GET"}, source="b.json")
    with pytest.raises(InputError, match=r"expected a request document"):
        validate_document([1], source="b.json")


def test_cookie_names_browsers_send_are_accepted() -> None:
    cookies = {"__Host-session": "1", "user[name]": "ann", "wp-settings-time-1": "1700000000", "a": "b=c"}
    assert validate_document({**VALID, "cookies": cookies}, source="ok.json")["cookies"] == cookies
