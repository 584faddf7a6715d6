"""Results people can act on: plain-language summaries, the Markdown report, the JSON result.

Results are built by hand (documents and replies), so these tests pin the
reports without running a search.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt
from markdown_it.token import Token

import reqbisect
from reqbisect.oracle import Reply
from reqbisect.report.json import result_to_json
from reqbisect.report.markdown import render_markdown
from reqbisect.report.patch import (
    describe_change,
    describe_finding,
    describe_op,
    describe_patch,
    describe_reply,
    name_pointer,
)
from reqbisect.report.redact import Redactor
from reqbisect.result import Result, Stats

SCHEMA = json.loads((Path(reqbisect.__file__).parent / "result.schema.json").read_text(encoding="utf-8"))
BILLING = "x-anthropic-billing-header: cc_version=2.1.83.c50; cc_entrypoint=cli; cch=00000;"
API_KEY = "sk-ant-api03-EXAMPLEconsoleKey3Fh8Lp2Wq6Yt1Zr5Vn9Mb4Xc7Gd0-BBBB"


def bad_document() -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "https://api.example.com/v1/messages",
        "headers": {"anthropic-version": "2023-06-01", "x-api-key": API_KEY, "content-type": "application/json"},
        "body": {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 50},
    }


def good_document() -> dict[str, Any]:
    good = bad_document()
    good["headers"]["user-agent"] = "claude-cli/2.1.83 (external, cli)"
    good["body"]["system"] = [
        {"type": "text", "text": BILLING},
        {"type": "text", "text": "You are Claude Code, a long system prompt."},
    ]
    return good


FIX = [{"op": "add", "path": "/body/system", "value": [{"type": "text", "text": BILLING}]}]
ERROR = {"type": "error", "error": {"type": "invalid_request_error", "message": "Error"}}


def reply(status: int | None, body: Any = b"", *, error: str | None = None, **headers: str) -> Reply:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Reply(status=status, headers=tuple(headers.items()), body=data, elapsed=0.05, error=error)


GOOD_REPLY = reply(200, {"id": "msg_01", "content": [{"type": "text", "text": "Hello!"}]},
                   **{"content-type": "application/json", "request-id": "req_good"})
BAD_REPLY = reply(400, ERROR, **{"content-type": "application/json", "request-id": "req_bad"})
STATS = Stats(requests=11, cache_hits=2, unresolved=0, rounds=3, seconds=0.42, candidates=12, cancelled=1,
              verification=2)


def found(**changes: Any) -> Result:
    bad = bad_document()
    fields: dict[str, Any] = dict(
        mode="fix", outcome="found", patch=copy.deepcopy(FIX), minimal_good=jsonpatch.apply_patch(bad, FIX),
        minimal_bad=bad, stats=STATS, verified=True, minimal=True, changes=23,
        baseline_good=GOOD_REPLY, baseline_bad=BAD_REPLY, reply_good=GOOD_REPLY, reply_bad=BAD_REPLY,
    )
    fields.update(changes)
    return Result(**fields)


def inconclusive() -> Result:
    return found(outcome="inconclusive", verified=False, minimal=False, reply_good=None, reply_bad=None,
                 reason="the request budget (40) ran out before the search finished",
                 warnings=("bad.har#2: the entry's text and params disagree; using text",))


def baselines_failed() -> Result:
    return Result(mode="fix", outcome="baselines-failed", patch=[], minimal_good=None, minimal_bad=None,
                  stats=Stats(requests=2, seconds=0.1), changes=23,
                  baseline_good=BAD_REPLY, baseline_bad=BAD_REPLY)


# -- words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "words"),
    [
        ({"op": "add", "path": "/headers/anthropic-beta", "value": "tools-2024"},
         'added header anthropic-beta = "tools-2024"'),
        ({"op": "remove", "path": "/cookies/sessionid"}, "removed cookie sessionid"),
        ({"op": "remove", "path": "/query/beta"}, "removed query parameter beta"),
        ({"op": "replace", "path": "/body/model", "value": "claude-haiku-4-5"},
         'changed body.model from "claude-sonnet-4-6" to "claude-haiku-4-5"'),
        ({"op": "replace", "path": "/body/messages/0/content", "value": "hello"},
         'changed body.messages[0].content from "hi" to "hello"'),
        ({"op": "add", "path": "/body/messages/-", "value": {"role": "user", "content": "x"}},
         'appended {"role": "user", "content": "x"} to body.messages'),
        ({"op": "move", "path": "/body/b", "from": "/body/a"}, "moved body.a to body.b"),
    ],
)
def test_operations_read_as_plain_language(op: dict[str, Any], words: str) -> None:
    assert describe_op(op, bad_document()) == words


def test_a_partly_added_container_says_how_much_of_it_the_patch_needs() -> None:
    words = describe_op(FIX[0], bad_document(), target=good_document())
    assert words == f'added 1 of 2 elements to body.system: [text block "{BILLING[:58]}…]'
    assert describe_op(FIX[0], bad_document()).startswith("added body.system = [text block")
    keys = describe_op({"op": "add", "path": "/body/metadata", "value": {"user_id": "u"}}, {},
                       target={"body": {"metadata": {"user_id": "u", "a": 1, "b": 2}}})
    assert keys == 'added 1 of 3 keys to body.metadata: {"user_id": "u"}'


def test_a_replaced_string_names_the_tokens_that_changed() -> None:
    base = {"headers": {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0"}}
    op = {"op": "replace", "path": "/headers/user-agent", "value": "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"}
    assert describe_op(op, base) == (
        'changed header user-agent (token "126.0" -> "127.0") from "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0" '
        'to "Mozilla/5.0 (X11; Linux x86_64) Firefox/127.0"'
    )


def test_pointer_names() -> None:
    assert name_pointer("/body/system/0/text") == "body.system[0].text"
    assert name_pointer("/headers/x~1y") == "header x/y"
    assert name_pointer("") == "the whole request"


def test_patch_summary_is_capped() -> None:
    patch = [{"op": "remove", "path": f"/headers/x-{i}"} for i in range(5)]
    assert describe_patch(patch, limit=2) == "removed header x-0; removed header x-1; and 3 more operations"
    assert describe_patch([]) == "no change"


def test_responses_are_named_by_status_and_message() -> None:
    assert describe_reply(BAD_REPLY) == '400 "Error"'
    assert describe_reply(GOOD_REPLY) == "200"
    assert describe_change(BAD_REPLY, GOOD_REPLY) == '400 "Error" -> 200'
    assert describe_reply(reply(403, b"<html><head><title>403 Forbidden</title></head></html>")) == '403 "403 Forbidden"'
    assert describe_reply(reply(502, b"upstream connect error")) == '502 "upstream connect error"'
    assert describe_reply(reply(None, error="timed out")) == "transport error (timed out)"
    assert describe_reply(None) == "(not sent)"


def test_the_finding_names_patch_and_response_change() -> None:
    assert describe_finding(found(), good=good_document()) == (
        f'added 1 of 2 elements to body.system: [text block "{BILLING[:58]}…] (400 "Error" -> 200)'
    )
    broken = found(mode="break", patch=[{"op": "remove", "path": "/body/system"}],
                   minimal_good=good_document(), minimal_bad=bad_document())
    assert describe_finding(broken) == 'removed body.system (200 -> 400 "Error")'


# -- Markdown -------------------------------------------------------------------------------


def parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").parse(text)


def headings(tokens: list[Token]) -> list[tuple[str, str]]:
    return [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


def test_markdown_report_has_the_expected_sections() -> None:
    result = found()
    text = render_markdown(result, good=good_document(), bad=bad_document())
    tokens = parse(text)
    names = headings(tokens)
    assert names[0][0] == "h1" and "POST https://api.example.com/v1/messages" in names[0][1]
    assert '400 "Error" -\\> 200' in names[0][1]
    assert names[1:] == [
        ("h2", "Minimal patch"), ("h2", "The difference"), ("h2", "Reproduce"),
        ("h3", "Works: the minimal good request"), ("h3", "Fails: the minimal bad request"), ("h2", "Responses"), ("h2", "What was tried"), ("h2", "Baselines"),
    ]
    paragraphs = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "paragraph_open"]
    assert paragraphs[0].startswith("**Finding:** The failing request works after this change: added 1 of 2")
    assert '`400 "Error"`' in paragraphs[0] and "`200`" in paragraphs[0]

    fences = [t for t in tokens if t.type == "fence"]
    patch_blocks = [json.loads(f.content) for f in fences if f.info == "json" and f.content.startswith("[")]
    assert patch_blocks == [Redactor.for_result(result).redact_patch(result.patch)]
    commands = [f.content for f in fences if f.info == "bash"]
    assert len(commands) == 2 and all(c.startswith("curl ") for c in commands)
    assert "system" in commands[0] and "system" not in commands[1]
    assert all("<redacted:x-api-key#1>" in c and API_KEY not in c for c in commands)

    details = [t.content for t in tokens if t.type == "html_block" and t.content.startswith("<details>")]
    assert len(details) == 4  # two minimal and two baseline bodies
    assert any("minimal bad body (" in d for d in details)
    assert f"reqbisect {reqbisect.__version__}" in text
    assert "11 requests sent" in text and "3 rounds" in text


def test_markdown_folds_and_trims_long_parts() -> None:
    big = "x" * 5000
    long_reply = reply(400, {"error": {"message": "Error", "detail": big}})
    patch = [{"op": "add", "path": f"/headers/x-h{i}", "value": str(i)} for i in range(20)]
    bad = bad_document()
    result = found(patch=patch, minimal_good=jsonpatch.apply_patch(bad, patch), reply_bad=long_reply)
    tokens = parse(render_markdown(result))
    details = [t.content for t in tokens if t.type == "html_block" and t.content.startswith("<details>")]
    assert any("The patch (20 operations)" in d for d in details)
    assert any("KB, first 1.0 KB shown" in d for d in details)
    bodies = [t.content for t in tokens if t.type == "fence" and t.info == "json" and "xxxx" in t.content]
    assert bodies and all(len(b) <= 1025 for b in bodies)
    paragraphs = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "paragraph_open"]
    assert "20 operations (listed below)" in paragraphs[0]


def test_markdown_for_inconclusive_and_failed_baselines() -> None:
    text = render_markdown(inconclusive())
    assert "**Inconclusive:** the request budget (40) ran out before the search finished. Best so far, the" in text
    assert "## Warnings" in text and "these are the baselines' answers" in text
    assert "## Baselines" not in text
    failed = parse(render_markdown(baselines_failed()))
    assert [name for _, name in headings(failed)][1:] == ["What was tried", "Baselines"]
    assert "**The baselines did not reproduce:** GOOD got `400 \"Error\"`" in render_markdown(baselines_failed())


def test_markdown_for_plain_json_documents_shows_them_as_json() -> None:
    result = Result(mode="fix", outcome="found", patch=[{"op": "add", "path": "/b", "value": 1}],
                    minimal_good={"a": 1, "b": 1}, minimal_bad={"a": 1}, stats=STATS, verified=True, minimal=True)
    text = render_markdown(result)
    tokens = parse(text)
    assert [f.info for f in tokens if f.type == "fence"] == ["json", "diff", "json", "json"]
    assert [name for _, name in headings(tokens)] == [
        "The minimal difference", "Minimal patch", "The difference", "Reproduce", "Works: the minimal good request",
        "Fails: the minimal bad request", "What was tried",
    ]
    assert "**Finding:** The failing request works after this change: added b = 1.\n" in text


def test_result_methods_use_the_reports() -> None:
    result = found()
    assert result.to_markdown() == render_markdown(result)
    assert result.to_json() == result_to_json(result)
    assert API_KEY in json.dumps(result.to_json(redact=False))


def test_markdown_escapes_markup_in_values() -> None:
    patch = [{"op": "replace", "path": "/body/model", "value": "*bold* <b>|pipe|</b> `tick`"}]
    result = found(patch=patch, minimal_good=jsonpatch.apply_patch(bad_document(), patch))
    html = MarkdownIt("commonmark").render(render_markdown(result))
    assert "<strong>bold</strong>" not in html and "<b>" not in html.replace("&lt;b&gt;", "")


# -- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [found, inconclusive, baselines_failed], ids=["found", "inconclusive", "failed"])
@pytest.mark.parametrize("redact", [True, False])
def test_json_result_validates_against_the_schema(make: Any, redact: bool) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    data = result_to_json(make(), redact=redact)
    Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(data)))
    assert data["redacted"] is redact


def test_json_result_fields() -> None:
    data = result_to_json(found(), good=good_document())
    assert data["outcome"] == "found" and data["reason"] is None
    assert data["summary"].startswith("added 1 of 2 elements to body.system")
    assert data["minimal_bad"]["headers"]["x-api-key"] == "<redacted:x-api-key#1>"
    assert data["responses"]["minimal_bad"]["status"] == 400
    assert data["responses"]["minimal_bad"]["body_size"] == len(BAD_REPLY.body)
    assert data["stats"] == {"requests": 11, "cache_hits": 2, "unresolved": 0, "rounds": 3, "seconds": 0.42,
                             "candidates": 12, "cancelled": 1, "verification": 2,
                             "shrink": 0}
    failed = result_to_json(baselines_failed())
    assert failed["reason"] == 'the baselines did not reproduce: GOOD got 400 "Error", BAD got 400 "Error"'


def test_schema_is_not_vacuous() -> None:
    validator = Draft202012Validator(SCHEMA)
    data = result_to_json(found())
    assert not list(validator.iter_errors(data))
    for broken in (
        {**data, "surprise": 1},
        {**data, "verified": False},
        {**data, "outcome": "maybe"},
        {**data, "patch": [{"op": "add", "path": "/a"}]},
        {**data, "stats": {**data["stats"], "requests": -1}},
        {**data, "minimal_bad": {**data["minimal_bad"], "extra": 1}},
    ):
        assert list(validator.iter_errors(broken)), broken


def test_a_short_value_never_cuts_a_placeholder() -> None:
    from reqbisect.report.patch import short_value

    value = "Bearer " + "x" * 40 + " <redacted:authorization#1> and more"
    shown = short_value(value, limit=60)
    assert shown.endswith("…") and "<redacted:" not in shown.replace("<redacted:authorization#1>", "")


def test_a_report_shows_control_bytes_of_a_body_escaped() -> None:
    text = render_markdown(found(reply_bad=reply(400, b"ok\x00\x1b[31mred\r\nnext\tline\rend")))
    assert "\x00" not in text and "\x1b" not in text and "\r" not in text
    assert "ok\\x00\\x1b[31mred\nnext\tline\\x0dend" in text
