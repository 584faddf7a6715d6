"""Round trips: document -> wire / each format -> document is the identity."""

from __future__ import annotations

import base64
import string
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reqbisect.document import DERIVED
from reqbisect.formats import FORMATS, curl, dump, har, http, native
from reqbisect.wire import from_wire, to_wire

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RESERVED = DERIVED | {"cookie", "content-type", "content-encoding"}
BOUNDARY = "----reqbisectTestBoundary7MA4YWxkTrZu0gW"

token = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10).filter(
    lambda s: s[0].isalpha()
)
printable = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"))
value = st.text(printable, max_size=16).filter(lambda s: s == s.strip())
any_text = st.text(st.characters(codec="utf-8"), max_size=24)


def grouped(keys: st.SearchStrategy[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(keys, values | st.lists(values, min_size=2, max_size=3), max_size=4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=8,
)
file_name = st.text(printable, max_size=12).filter(lambda s: not set(s) & set('"\\') and s == s.strip())
parts = st.text(printable, max_size=10).filter(lambda s: '"' not in s) | st.just("")
part_values = any_text | st.builds(
    lambda name, content: {"filename": name, "content_type": "text/plain", "content": content}, file_name, any_text
) | st.builds(
    lambda name, data: {"filename": name, "content_type": "application/octet-stream",
                        "content_base64": base64.b64encode(data).decode()},
    file_name, st.binary(max_size=16),
)
bodies = st.one_of(
    st.just(({}, {})),
    st.builds(lambda v: ({"content-type": "application/json"}, {"body": v}), json_values),
    st.builds(lambda v: ({"content-type": "application/json", "content-encoding": "gzip"}, {"body": v}),
              json_values),
    st.builds(lambda v: ({"content-type": "application/x-www-form-urlencoded"}, {"body": v}),
              grouped(any_text, any_text).filter(bool)),
    st.builds(lambda v: ({"content-type": f"multipart/form-data; boundary={BOUNDARY}"}, {"body": v}),
              grouped(parts, part_values).filter(bool)),
    st.builds(lambda v: ({"content-type": "text/plain; charset=utf-8"}, {"body": v}), any_text.filter(bool)),
    st.builds(lambda v: ({"content-type": "application/octet-stream"},
                         {"body_base64": base64.b64encode(v).decode()}), st.binary(min_size=1, max_size=32)),
)
urls = st.builds(
    lambda scheme, host, port, segments: f"{scheme}://{host}.example{port}/" + "/".join(segments),
    st.sampled_from(["http", "https"]), st.text(string.ascii_lowercase, min_size=1, max_size=8),
    st.sampled_from(["", ":8443"]),
    st.lists(st.text(string.ascii_letters + string.digits + "-_~", min_size=1, max_size=6) | st.just("%20x"),
             max_size=3),
)
cookie_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=";"),
                        max_size=10)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "purge"])),
        "url": draw(urls),
    }
    body_headers, body = draw(bodies)
    headers = draw(grouped(token.filter(lambda n: n not in RESERVED), value))
    headers.update(body_headers)
    for key, obj in (("query", draw(grouped(any_text, any_text))), ("headers", headers),
                     ("cookies", draw(grouped(token, cookie_values)))):
        if obj:
            doc[key] = obj
    doc.update(body)
    return doc


EXAMPLE = {
    "method": "POST",
    "url": "https://api.example.com/v1/messages",
    "query": {"beta": "true", "tag": ["a", "b"], "flag": ""},
    "headers": {"x-api-key": "sk-1", "empty": "", "content-type": "application/json"},
    "cookies": {"session": "abc", "dup": ["1", "2"]},
    "body": {"model": "m", "system": [{"type": "text", "text": "é \u2713"}], "n": 1.5},
}


def _meaning(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without its ``transport``, which a loader fills from what the capture shows."""
    return {key: value for key, value in doc.items() if key != "transport"}


@SETTINGS
@given(documents())
@example(EXAMPLE)
def test_document_survives_the_wire(doc: dict[str, Any]) -> None:
    loaded = from_wire(to_wire(doc), source="t").document
    assert _meaning(loaded) == doc
    # Once the order and spelling are explicit, the round trip is exact.
    assert from_wire(to_wire(loaded), source="t").document == loaded


@SETTINGS
@given(documents())
@example(EXAMPLE)
def test_unchanged_document_reuses_the_capture_bytes(doc: dict[str, Any]) -> None:
    capture = from_wire(to_wire(doc), source="t")
    assert to_wire(capture.document, like=[capture]) == capture.wire


@SETTINGS
@given(documents(), documents())
def test_rebuilding_in_another_capture_style_keeps_the_meaning(doc: dict[str, Any], other: dict[str, Any]) -> None:
    style = from_wire(to_wire(other), source="t")
    assert _meaning(from_wire(to_wire(doc, like=[style]), source="t").document) == doc


def _load(fmt: str, text: str) -> dict[str, Any]:
    module = {"json": native, "curl": curl, "http": http, "har": har}[fmt]
    document: dict[str, Any] = module.load(text, source=f"t.{fmt}").document
    return document


@SETTINGS
@given(documents(), st.sampled_from(FORMATS))
@example(EXAMPLE, "curl")
@example({"method": "GET", "url": "http://a.example/", "headers": {"content-type": "application/json"},
          "body": {"^": None}}, "curl")
@example({"method": "HEAD", "url": "http://a.example/", "headers": {"content-type": "application/octet-stream"},
          "body_base64": "AC0t"}, "curl")
@example({"method": "GET", "url": "http://a.example/", "query": {"": ["", "%\x80", "50%"]}}, "curl")
@example({"method": "POST", "url": "http://a.example/", "headers": {"content-type": "application/x-www-form-urlencoded"},
          "body": {"discount": "50%", "name": "Zürich 50%", "x": "%E9"}}, "har")
def test_every_format_round_trips(doc: dict[str, Any], fmt: str) -> None:
    assert _meaning(_load(fmt, dump(doc, fmt))) == doc
    explicit = from_wire(to_wire(doc), source="t").document
    assert _meaning(_load(fmt, dump(explicit, fmt))) == doc
    assert _load(fmt, dump(explicit, fmt)).get("transport", {}).get("header_order") == \
        explicit.get("transport", {}).get("header_order")


@SETTINGS
@given(documents(), st.sampled_from(FORMATS))
@example({"method": "GET", "url": "http://a.example/", "headers": {"a": ["", "'"]}, "cookies": {"a": ["", "^'"]}},
         "curl")
def test_every_format_keeps_the_capture_bytes(doc: dict[str, Any], fmt: str) -> None:
    capture = from_wire(to_wire(doc), source="t")
    text = dump(capture.document, fmt, like=[capture])
    module = {"json": native, "curl": curl, "http": http, "har": har}[fmt]
    loaded = module.load(text, source=f"t.{fmt}")
    assert _meaning(loaded.document) == doc
    assert capture.wire is not None
    if loaded.wire is not None:
        assert loaded.wire.body == capture.wire.body
        assert loaded.wire.url == capture.wire.url
