"""JSON Pointers (RFC 6901): formatting and parsing are inverse, resolving follows the tokens."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reqbisect.errors import InputError
from reqbisect.pointer import format_pointer, parse_pointer, resolve, starts_with


@given(st.lists(st.text(alphabet="ab~/01", max_size=5), max_size=4))
def test_parsing_a_formatted_pointer_gives_back_its_tokens(tokens: list[str]) -> None:
    assert parse_pointer(format_pointer(tokens)) == tuple(tokens)


def test_escapes_follow_rfc_6901_section_3_and_4() -> None:
    assert format_pointer(("a/b", 0, "~")) == "/a~1b/0/~0"
    assert parse_pointer("/~01") == ("~1",)  # not "/"
    assert parse_pointer("") == ()


def test_a_pointer_without_leading_slash_names_its_source() -> None:
    with pytest.raises(InputError, match="--ignore.*JSON pointer"):
        parse_pointer("headers/x", source="--ignore")


def test_resolve_walks_objects_and_arrays_and_says_when_it_leads_nowhere() -> None:
    doc = {"body": {"system": [{"text": "x"}], "a/b": 1}}
    assert resolve(doc, "/body/system/0/text") == (True, "x")
    assert resolve(doc, "/body/a~1b") == (True, 1)
    assert resolve(doc, "/body/system/1") == (False, None)
    assert resolve(doc, "/body/system/-") == (False, None)
    assert resolve(doc, "") == (True, doc)


def test_starts_with_compares_indices_as_tokens() -> None:
    assert starts_with(("body", "system", 0), ("body", "system", "0"))
    assert not starts_with(("body",), ("body", "system"))
