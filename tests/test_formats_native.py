"""The native format: the request document as JSON."""

from __future__ import annotations

import json

import pytest

from reqbisect.errors import InputError
from reqbisect.formats import native

DOCUMENT = {
    "method": "POST",
    "url": "https://api.example.com/v1/messages",
    "query": {"beta": "true", "tag": ["a", "b"]},
    "headers": {"anthropic-version": "2023-06-01", "x-api-key": "sk-..."},
    "cookies": {"session": "abc"},
    "body": {"model": "m", "messages": [{"role": "user", "content": "hé"}]},
}


def test_design_example_loads_unchanged() -> None:
    capture = native.load(json.dumps(DOCUMENT), source="good.json")
    assert capture.document == DOCUMENT
    assert capture.wire is None
    assert capture.source == "good.json"


def test_dump_is_indented_json_with_unicode_kept() -> None:
    text = native.dump(DOCUMENT)
    assert text.startswith('{\n  "method": "POST",\n')
    assert '"hé"' in text and text.endswith("}\n")
    assert native.load(text, source="t").document == DOCUMENT


def test_header_names_are_lower_cased_on_load() -> None:
    text = '{"method": "GET", "url": "https://a.example/", "headers": {"X-Api-Key": "k"}}'
    assert native.load(text, source="t").document["headers"] == {"x-api-key": "k"}


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        native.load('{\n  "method": "GET",\n  "url": "https://a.example/",,\n}', source="bad.json")
    assert str(info.value) == "bad.json, line 3, column 31: invalid JSON: Expecting property name enclosed in double quotes"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"headers": {"accept": 3}},
         "bad.json, /headers/accept: wrong type (expected a string or a list of strings, got 3)"),
        ({"body_base64": "AA=="}, "bad.json, /body_base64: both body and body_base64; keep one of them"),
    ],
)
def test_invalid_documents_name_the_pointer(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        native.load(json.dumps({**DOCUMENT, **changes}), source="bad.json")
    assert str(info.value) == message
