"""Every case's report fits a GitHub issue and shows the minimal pair as a diff that is the patch.

A GitHub issue body holds 65,536 characters. The report must fit whatever the
bodies are, render as Markdown, and hold a ```diff block whose ``-``/``+`` lines
are exactly the leaves the patch's operations remove and add, one per line.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import replace
from typing import Any

import jsonpatch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import reqbisect
from reqbisect.pointer import parse_pointer, resolve
from reqbisect.report.diffview import diff_lines, flatten, line_text, unified_diff
from reqbisect.report.markdown import REPORT_LIMIT, render_markdown
from reqbisect.report.patch import patch_base
from reqbisect.report.redact import Redactor
from reqbisect.result import Result, Stats

from .conftest import case_expected, case_file, case_names, case_route
from .test_cases import case_hook

LONG = "lorem ipsum dolor sit amet " * 1000  # 27 KB: far above what a report inlines


@functools.lru_cache(maxsize=None)
def case_run(name: str) -> tuple[Result, dict[str, Any], dict[str, Any]]:
    good, bad = case_file(name, "good"), case_file(name, "bad")
    result = reqbisect.bisect(good, bad, **case_route(name), prepare=case_hook(name))
    return result, reqbisect.load_request(good).document, reqbisect.load_request(bad).document


def with_long_body(result: Result) -> Result:
    """The same result with a long value shared by both minimal requests (outside the patch)."""
    def padded(document: Any) -> Any:
        document = copy.deepcopy(document)
        if isinstance(document.get("body"), dict):
            document["body"]["padding"] = LONG
        else:
            document.setdefault("headers", {})["x-padding"] = LONG
        return document

    return replace(result, minimal_good=padded(result.minimal_good), minimal_bad=padded(result.minimal_bad))


def diff_blocks(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    return [t.content for t in tokens if t.type == "fence" and t.info == "diff"]


def changed_lines(block: str) -> tuple[list[str], list[str]]:
    lines = block.splitlines()
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    minus = [line[1:] for line in lines[2:] if line.startswith("-")]
    plus = [line[1:] for line in lines[2:] if line.startswith("+")]
    return minus, plus


def patch_lines(base: Any, patch: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """What each operation removes and adds, leaf by leaf, computed by applying the patch one op at a time."""
    document, minus, plus = copy.deepcopy(base), [], []
    for op in patch:
        tokens = parse_pointer(op["path"])
        if op["op"] in ("remove", "replace"):
            found, old = resolve(document, op["path"])
            assert found
            minus += [line_text(t, v) for t, v in flatten(old, tokens)]
        if op["op"] in ("add", "replace"):
            plus += [line_text(t, v) for t, v in flatten(op["value"], tokens)]
        document = jsonpatch.apply_patch(document, [op])
    return minus, plus


def assert_hunks_count_their_lines(block: str) -> None:
    lines = block.splitlines()[2:]
    i = 0
    while i < len(lines):
        header = lines[i]
        assert header.startswith("@@ -") and header.endswith(" @@"), header
        old, new = (part.split(",") for part in header[4:-3].split(" +"))
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("@@ "):
            body.append(lines[i][0])
            i += 1
        assert body.count(" ") + body.count("-") == int(old[1])
        assert body.count(" ") + body.count("+") == int(new[1])


def check_report(result: Result, good: Any, bad: Any) -> str:
    text = render_markdown(result, good=good, bad=bad)
    assert len(text) <= REPORT_LIMIT
    (block,) = diff_blocks(text)
    redactor = Redactor.for_result(result, documents=[good, bad])
    expected = patch_lines(redactor.redact_document(patch_base(result)), redactor.redact_patch(result.patch))
    minus, plus = changed_lines(block)
    assert (sorted(minus), sorted(plus)) == (sorted(expected[0]), sorted(expected[1]))
    assert_hunks_count_their_lines(block)
    return text


@pytest.mark.parametrize("name", case_names())
def test_every_case_report_fits_an_issue_and_its_diff_is_the_patch(name: str) -> None:
    result, good, bad = case_run(name)
    assert result.patch == case_expected(name)["patch"]
    check_report(result, good, bad)
    long = check_report(with_long_body(result), good, bad)
    assert "lorem ipsum dolor sit amet " * 200 not in long
    assert len(long) < 20_000


def test_a_patch_that_adds_a_huge_value_still_fits() -> None:
    base = {"method": "POST", "url": "https://api.example.com/v1/x", "headers": {"x-api-key": "k3y-v4lue-0001"},
            "body": {"model": "m"}}
    patch = [{"op": "add", "path": "/body/blob", "value": [{"i": i, "text": LONG[:100]} for i in range(400)]},
             {"op": "add", "path": "/body/text", "value": LONG}]
    result = Result(mode="fix", outcome="found", patch=patch, minimal_bad=base,
                    minimal_good=jsonpatch.apply_patch(base, patch), stats=Stats(), verified=True, minimal=True)
    text = render_markdown(result)
    assert len(text) <= REPORT_LIMIT
    assert diff_blocks(text) and "k3y-v4lue-0001" not in text
    assert "Cut to fit an issue" in text


def test_the_diff_places_each_change_where_the_patch_puts_it() -> None:
    base = {"method": "POST", "url": "https://x/v1",
            "headers": {"a": "1", "b": "2", "c": "3"},
            "body": {"system": [{"type": "text", "text": "hello"}], "tools": [], "model": "m"}}
    patch = [{"op": "add", "path": "/body/system/0", "value": {"type": "text", "text": "billing"}},
             {"op": "remove", "path": "/headers/b"},
             {"op": "replace", "path": "/body/model", "value": "n"},
             {"op": "add", "path": "/body/tools/0", "value": 1},
             {"op": "add", "path": "/headers/z", "value": "new"}]
    assert diff_lines(base, patch) == [
        (" ", '/method: "POST"'), (" ", '/url: "https://x/v1"'), (" ", '/headers/a: "1"'),
        ("-", '/headers/b: "2"'), (" ", '/headers/c: "3"'), ("+", '/headers/z: "new"'),
        ("+", '/body/system/0/type: "text"'), ("+", '/body/system/0/text: "billing"'),
        (" ", '/body/system/0/type: "text"'), (" ", '/body/system/0/text: "hello"'),
        (" ", "/body/tools: []"), ("+", "/body/tools/0: 1"),
        ("-", '/body/model: "m"'), ("+", '/body/model: "n"'),
    ]


def test_unchanged_context_is_folded_into_hunks() -> None:
    base = {"headers": {f"h{i:02}": str(i) for i in range(40)}}
    patch = [{"op": "replace", "path": "/headers/h05", "value": "x"}, {"op": "remove", "path": "/headers/h30"}]
    text = unified_diff(base, patch, labels=("minimal bad", "minimal good"))
    assert text.splitlines()[:3] == ["--- minimal bad", "+++ minimal good", "@@ -3,7 +3,7 @@"]
    assert "@@ -28,7 +28,6 @@" in text
    assert '/headers/h15: "15"' not in text and len(text.splitlines()) == 2 + 9 + 8
    assert_hunks_count_their_lines(text)


def test_long_values_are_cut_on_their_line_but_never_inside_a_placeholder() -> None:
    value = "a" * 150 + "<redacted:authorization#1>" + "b" * 100
    line = line_text(("body", "note"), value)
    assert "<redacted:authorization#1>" not in line and "<redacted:auth" not in line
    assert line.endswith(f"… ({len(json.dumps(value))} characters)")


KEYS = st.sampled_from(["a", "b", "c", "id", "name", "text"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["x", "y", "z", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=16,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some members kept, some changed, some added or dropped."""
    if isinstance(value, dict) and draw(st.booleans()):
        out = {key: draw(mutated(item)) for key, item in value.items() if draw(st.integers(0, 4))}
        out.update(draw(st.dictionaries(KEYS, JSON, max_size=2)))
        return out
    if isinstance(value, list) and draw(st.booleans()):
        out = [draw(mutated(item)) for item in value if draw(st.integers(0, 4))]
        position = draw(st.integers(0, len(out)))
        return out[:position] + draw(st.lists(JSON, max_size=2)) + out[position:]
    return value if draw(st.integers(0, 3)) else draw(JSON)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_diff_lines_are_the_patch_for_random_documents_and_subsets(data: st.DataObject) -> None:
    a = data.draw(JSON)
    b = data.draw(mutated(a))
    tree = reqbisect.diff(a, b)
    ids = data.draw(st.sets(st.sampled_from(range(len(tree.changes))))) if tree.changes else set()
    patch = tree.patch(ids)
    lines = diff_lines(a, patch)
    minus = [text for tag, text in lines if tag == "-"]
    plus = [text for tag, text in lines if tag == "+"]
    expected = patch_lines(a, patch)
    assert (sorted(minus), sorted(plus)) == (sorted(expected[0]), sorted(expected[1]))
    context = [text for tag, text in lines if tag == " "]
    assert len(context) + len(minus) == len(flatten(a))
