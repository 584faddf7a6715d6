"""Secrets never reach the summary, the report or ``--json``; the patch keeps real values.

A canary secret is planted everywhere a secret can hide (authorization and
x-api-key headers, cookies, the query, nested body keys, a response body) and
must not appear in any redacted output, while it does appear where docs/design.md
says the real value belongs (the raw patch, ``redact=False``).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import string
from typing import Any

import jsonpatch
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reqbisect.cli import cli
from reqbisect.cli_run import _emit
from reqbisect.errors import InputError
from reqbisect.oracle import Reply
from reqbisect.report.json import result_to_json
from reqbisect.report.markdown import _curl, render_markdown
from reqbisect.report.patch import describe_op, describe_patch
from reqbisect.report.placeholders import PLACEHOLDER, truncate
from reqbisect.report.redact import Redactor, check_extra
from reqbisect.result import Result, Stats
from reqbisect.secret_names import is_credential_header, is_credential_position, is_secret_name

CANARY = "cAnArY7Hq2ZpX9wLm4"
# Needs escaping in JSON, URLs and shell alike.
CANARY_PASSWORD = "pa ss'w0rd \"CANARYPW\""
CANARY_GOOD_KEY = "sk-ant-api03-GOODcanaryKEY5Vn9Mb4Xc7Gd0"
CANARY_RESPONSE = "respCANARY0Zr5Wb1Yc8Nd3"
CANARIES = ("cAnArY7Hq2ZpX9wLm4", "CANARYPW", "GOODcanaryKEY", "respCANARY")


def leaks(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary.lower() in text.lower()]


def bad_document() -> dict[str, Any]:
    return {
        "method": "POST",
        "url": "https://api.example.com/v1/messages",
        "query": {"api_key": CANARY, "beta": "true"},
        "headers": {
            "authorization": f"Bearer {CANARY}",
            "x-api-key": CANARY,
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        },
        "cookies": {"session": CANARY, "theme": "light"},
        "body": {
            "model": "m-large",
            "auth": {"password": CANARY_PASSWORD, "user": "dana"},
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 50,
        },
    }


def good_document() -> dict[str, Any]:
    good = bad_document()
    good["headers"]["x-api-key"] = CANARY_GOOD_KEY
    good["body"]["system"] = [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.83; cc_entrypoint=cli;"},
        {"type": "text", "text": "You are a helpful assistant."},
    ]
    return good


PATCH: list[dict[str, Any]] = [
    {"op": "replace", "path": "/headers/x-api-key", "value": CANARY_GOOD_KEY},
    {
        "op": "add",
        "path": "/body/system",
        "value": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.83; cc_entrypoint=cli;"}],
    },
]


def reply(status: int, body: Any, **headers: str) -> Reply:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Reply(status=status, headers=tuple(headers.items()), body=data, elapsed=0.12)


def canary_result(**changes: Any) -> Result:
    bad = bad_document()
    bad_reply = reply(
        400,
        {"type": "error", "error": {"message": "Error", "echo": f"key {CANARY} rejected"},
         "session_token": CANARY_RESPONSE},
        **{"content-type": "application/json", "request-id": "req_011", "set-cookie": f"sid={CANARY}; Path=/"},
    )
    good_reply = reply(200, {"id": "msg_1", "content": [{"type": "text", "text": "hello"}]},
                       **{"content-type": "application/json"})
    fields: dict[str, Any] = dict(
        mode="fix",
        outcome="found",
        patch=copy.deepcopy(PATCH),
        minimal_good=jsonpatch.apply_patch(bad, PATCH),
        minimal_bad=bad,
        stats=Stats(requests=14, cache_hits=3, unresolved=1, rounds=4, seconds=1.25, candidates=17, cancelled=2),
        verified=True,
        minimal=True,
        changes=9,
        baseline_good=good_reply,
        baseline_bad=bad_reply,
        reply_good=good_reply,
        reply_bad=bad_reply,
        warnings=(f"good.har: header x-api-key {CANARY} appears twice",),
    )
    fields.update(changes)
    return Result(**fields)


# -- the canary -------------------------------------------------------------------------


def test_canary_is_in_the_raw_patch_because_the_patch_needs_it() -> None:
    assert CANARY_GOOD_KEY in json.dumps(canary_result().patch)


def test_canary_never_appears_in_the_markdown_report() -> None:
    result = canary_result()
    text = render_markdown(result, good=good_document(), bad=bad_document())
    assert leaks(text) == []
    redactor = Redactor.for_result(result, documents=[good_document(), bad_document()])
    assert redactor.known[CANARY] in text and redactor.known[CANARY_GOOD_KEY] in text


def test_canary_never_appears_in_the_json_result() -> None:
    data = result_to_json(canary_result())
    assert leaks(json.dumps(data, ensure_ascii=False)) == []
    assert leaks(json.dumps(data)) == []
    assert data["redacted"] is True
    # Masking turns the digits of an echoed secret into '#', which redaction then misses:
    # not even its letters may show, so a reply's signature is a hash.
    assert "cAnArY" not in json.dumps(data)
    assert all(re.fullmatch(r"[0-9a-f]{16}", reply["signature"]) for reply in data["responses"].values() if reply)


def test_canary_never_appears_in_a_redacted_curl_command() -> None:
    redactor = Redactor()
    redactor.learn(bad_document())
    command = _curl(bad_document())
    assert leaks(command), "the command under test carries the secrets"
    assert leaks(redactor.redact_text(command)) == []


def test_canary_never_appears_in_the_cli_summary(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    report = tmp_path / "report.md"
    result = canary_result()
    redactor = Redactor.for_result(result, documents=[good_document(), bad_document()])
    _emit(result, as_json=False, output=None, report=str(report), redactor=redactor,
          good=good_document(), bad=bad_document())
    captured = capsys.readouterr()
    assert "minimal difference:" in captured.err
    assert leaks(captured.err) == []
    assert leaks(report.read_text(encoding="utf-8")) == []
    assert "(a secret)" in captured.err
    assert CANARY_GOOD_KEY in captured.out, "the patch on stdout keeps the real value"


def test_canary_never_appears_in_the_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = canary_result()
    _emit(result, as_json=True, output=None, report=None, redactor=Redactor.for_result(result))
    captured = capsys.readouterr()
    assert leaks(captured.out) == [] and leaks(captured.err) == []
    assert json.loads(captured.out)["outcome"] == "found"


def test_canary_appears_everywhere_with_redaction_off(capsys: pytest.CaptureFixture[str]) -> None:
    result = canary_result()
    assert CANARY in render_markdown(result, redact=False)
    assert CANARY_GOOD_KEY in json.dumps(result_to_json(result, redact=False))
    _emit(result, as_json=False, output=None, report=None, redactor=Redactor.for_result(result, enabled=False))
    assert CANARY_GOOD_KEY in capsys.readouterr().err


def test_a_secret_patch_is_described_without_revealing_it() -> None:
    result = canary_result()
    redactor = Redactor.for_result(result)
    words = describe_op(PATCH[0], result.minimal_bad, redactor=redactor)
    old, new = redactor.known[CANARY], redactor.known[CANARY_GOOD_KEY]
    assert words == f"changed header x-api-key (a secret) from {old} to {new}"
    two_keys = Redactor()
    two_keys.learn({"headers": {"x-api-key": "first-k3y-value"}})
    words = describe_op({"op": "replace", "path": "/headers/x-api-key", "value": "second-k3y-value"},
                        {"headers": {"x-api-key": "first-k3y-value"}}, redactor=two_keys)
    assert words == "changed header x-api-key (a secret) from <redacted:x-api-key#1> to <redacted:x-api-key#2>"


def test_secrets_in_a_response_body_are_redacted_by_name_and_by_value() -> None:
    redactor = Redactor()
    redactor.learn(bad_document())
    shown = redactor.redact_reply(canary_result().reply_bad)  # type: ignore[arg-type]
    text = shown.body.decode()
    assert leaks(text) == [] and leaks(repr(shown.headers)) == []
    assert json.loads(text)["error"]["echo"] == f"key {redactor.known[CANARY]} rejected"
    assert json.loads(text)["session_token"].startswith("<redacted:session_token#")


# -- names and shapes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["authorization", "proxy-authorization", "x-api-key", "api-key", "apikey", "api_key", "x-auth-token",
     "access_token", "accessToken", "authenticity_token", "x-csrftoken", "client_secret", "password", "passwd",
     "user[password]", "signature", "X-Amz-Signature", "sessionid", "session_id", "PHPSESSID", "JSESSIONID",
     "connect.sid", "set-cookie", "ocp-apim-subscription-key", "private_key", "license_key", "x-authentication", "authentication", "passcode", "mfa_code", "totp"],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)
    # A header that a report would hide never follows a redirect to another origin either.
    assert is_credential_header(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "input_tokens", "token_type", "session_count", "author", "anthropic-version", "content-type",
     "x-request-id", "user-agent", "model", "messages", "keyboard", "passport", "x-ratelimit-remaining-tokens",
     "idempotency-key", "cache_key", "sort_key", "secret_name", "key_type"],
)
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["key", "x-tenant-key", "x-functions-key", "projectKey", "x-atlassian-token"])
def test_names_that_hold_a_credential_only_when_the_value_looks_like_one(name: str) -> None:
    assert not is_secret_name(name) and is_credential_position(name)
    assert is_credential_header(name)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Authorization: Bearer abcdefgh1234567890", "authorization"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "anthropic-key"),
        ("key sk-proj-abcdefghijklmnopqrstuvwxyz012345", "openai-key"),
        ("GH ghp_abcdefghijklmnopqrstuvwxyz0123456789", "github-token"),
        ("slack xoxb-1234567890-abcdefghijkl", "slack-token"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "aws-key"),
        ("google AIzaSyA-abcdefghijklmnopqrstuvwxyz012345 ok", "google-key"),
        ("see https://dana:hunter2secret@db.example.com/x", "url-password"),
        ("Basic " + base64.b64encode(b"dana:hunter2secret").decode(), "basic"),
        ('{"client_secret": "abc123def456"}', "client_secret"),
        ("https://h/cb?code=1&access_token=abc123def456&x=2", "access_token"),
    ],
)
def test_secrets_are_found_by_shape_and_by_pair_in_free_text(text: str, label: str) -> None:
    redactor = Redactor()
    redacted = redactor.redact_text(text)
    assert f"<redacted:{label}#1>" in redacted
    assert redactor.redact_text(redacted) == redacted
    for secret in redactor.known:
        assert secret not in redacted


def test_ordinary_text_is_left_alone() -> None:
    text = 'max_tokens=50; model: m-large; {"role": "user", "content": "Bearer of bad news"} https://x.example/a?b=c'
    assert Redactor().redact_text(text) == text


def test_the_same_secret_gets_the_same_placeholder_everywhere() -> None:
    redactor = Redactor()
    document = redactor.redact_document(bad_document())
    patch = redactor.redact_patch([{"op": "add", "path": "/body/token", "value": CANARY}])
    text = redactor.redact_text(f"curl -H 'x-api-key: {CANARY}' 'https://x/?k={CANARY}'")
    placeholder = document["headers"]["x-api-key"]
    assert PLACEHOLDER.fullmatch(placeholder)
    assert document["query"]["api_key"] == document["cookies"]["session"] == placeholder
    assert patch[0]["value"] == placeholder
    assert text == f"curl -H 'x-api-key: {placeholder}' 'https://x/?k={placeholder}'"
    assert document["headers"]["authorization"] != placeholder


def test_placeholders_number_distinct_values_per_label() -> None:
    redactor = Redactor()
    first = redactor.redact_value("key-one-1111", "/headers/x-api-key")
    second = redactor.redact_value("key-two-2222", "/headers/x-api-key")
    assert (first, second) == ("<redacted:x-api-key#1>", "<redacted:x-api-key#2>")
    assert redactor.redact_value("key-one-1111", "/headers/x-api-key") == first


def test_a_fresh_redactor_never_reuses_numbers_already_in_its_input() -> None:
    redactor = Redactor()
    out = redactor.redact_document({"headers": {"x-api-key": "<redacted:x-api-key#1>"}, "body": {"api_key": "k3y-s3cr3t"}})
    assert out["body"]["api_key"] == "<redacted:api_key#1>"
    again = Redactor().redact_document({"headers": {"x-api-key": "<redacted:x-api-key#1>", "authorization": "k3y-s3cr3t"},
                                        "body": {"x-api-key": "other-s3cr3t"}})
    assert again["body"]["x-api-key"] == "<redacted:x-api-key#2>"


def test_short_and_word_like_values_are_hidden_in_place_but_not_searched_in_text() -> None:
    redactor = Redactor()
    out = redactor.redact_document({"method": "GET", "url": "https://x/", "cookies": {"theme": "light", "sid": "ab"},
                                    "body": "light and ab"})
    assert out["cookies"] == {"theme": "<redacted:theme#1>", "sid": "<redacted:sid#1>"}
    assert out["body"] == "light and ab"


def test_extra_names_and_pointers() -> None:
    redactor = Redactor(extra=["x-tenant", "/body/customer"])
    out = redactor.redact_document({
        "headers": {"x-tenant": "acme-corp-1", "x-other": "visible"},
        "body": {"customer": {"email": "dana@example.com", "plan": "pro"}, "note": "acme-corp-1"},
    })
    assert out["headers"] == {"x-tenant": "<redacted:x-tenant#1>", "x-other": "visible"}
    assert out["body"]["customer"] == {"email": "<redacted:customer#1>", "plan": "<redacted:customer#2>"}
    assert out["body"]["note"] == "<redacted:x-tenant#1>"
    assert redactor.is_secret("/body/customer/email") and not redactor.is_secret("/headers/x-other")


def test_disabled_redactor_changes_nothing_but_still_knows_what_is_secret() -> None:
    redactor = Redactor(enabled=False)
    document = bad_document()
    assert redactor.redact_document(document) == bad_document()
    assert redactor.redact_text(f"Bearer {CANARY}") == f"Bearer {CANARY}"
    assert redactor.is_secret("/headers/x-api-key")


def test_binary_bodies_lose_the_bytes_of_known_secrets() -> None:
    redactor = Redactor()
    redactor.learn({"headers": {"x-api-key": CANARY}})
    raw = b"\x00\xff" + CANARY.encode() + b"\x01"
    out = redactor.redact_document({"body_base64": base64.b64encode(raw).decode()})
    assert CANARY.encode() not in base64.b64decode(out["body_base64"])
    # A file part of a multipart form is a binary body too.
    part = {"filename": "blob.bin", "content_type": "application/octet-stream",
            "content_base64": base64.b64encode(raw).decode()}
    out = redactor.redact_document({"body": {"file": part, "note": "hi"}})
    assert CANARY.encode() not in base64.b64decode(out["body"]["file"]["content_base64"])
    assert out["body"]["file"]["filename"] == "blob.bin" and out["body"]["note"] == "hi"


def test_truncate_never_cuts_a_placeholder() -> None:
    text = "x" * 10 + "<redacted:x-api-key#1>" + "y" * 10
    assert truncate(text, 15) == "x" * 10
    assert truncate(text, 100) == text


def test_bad_redact_values_are_input_errors() -> None:
    with pytest.raises(InputError):
        check_extra([""])
    assert check_extra(["x-tenant", "/body/a"]) == ("x-tenant", "/body/a")


def test_cli_rejects_an_empty_redact_before_loading_anything() -> None:
    result = CliRunner().invoke(cli, ["run", "missing-good.json", "missing-bad.json", "--redact", ""])
    assert result.exit_code == 2
    assert "--redact" in result.output and "Traceback" not in result.output


# -- properties -----------------------------------------------------------------------------

MARK = "Ω"  # every secret holds it and no other string does, so a survivor is easy to spot
SECRET_NAMES = ["authorization", "x-api-key", "api_key", "password", "access_token", "client_secret",
                "sessionid", "x-csrftoken", "user[password]", "auth", "refreshToken"]
PLAIN_NAMES = ["accept", "model", "q", "page", "content-type", "name", "max_tokens", "role", "items", "0"]
plain_text = st.text(st.characters(exclude_characters=MARK, exclude_categories=["Cs"]), max_size=12)
secrets = st.text(st.characters(exclude_categories=["Cs"]), max_size=24).map(lambda s: MARK + s)
leaf = st.one_of(st.none(), st.booleans(), st.integers(), plain_text)


def secret_value() -> st.SearchStrategy[Any]:
    return st.recursive(
        secrets,
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(PLAIN_NAMES), inner, max_size=2),
        max_leaves=4,
    )


def mixed(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda plain, secret: {**plain, **secret},
        st.dictionaries(st.sampled_from(PLAIN_NAMES), values, max_size=3),
        st.dictionaries(st.sampled_from(SECRET_NAMES), secret_value(), max_size=3),
    )


body = st.recursive(leaf, lambda inner: st.lists(inner, max_size=3) | mixed(inner), max_leaves=12)
documents = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "POST"]),
    "url": st.just("https://api.example.com/v1/x"),
    "headers": mixed(plain_text),
    "query": mixed(plain_text),
    "cookies": st.dictionaries(st.sampled_from(PLAIN_NAMES), secrets | st.lists(secrets, min_size=1, max_size=2)),
    "body": body,
})


@settings(max_examples=300, deadline=None)
@given(documents)
@example({"method": "GET", "url": "https://api.example.com/v1/x", "headers": {"authorization": MARK + "Bearer x"},
          "query": {}, "cookies": {}, "body": {"auth": {"0": [MARK + " ", 7]}}})
@example({"method": "POST", "url": "https://api.example.com/v1/x", "headers": {"x-api-key": MARK + "\ud800'\n"},
          "query": {"password": [MARK + "%+ &"]}, "cookies": {"0": MARK}, "body": [{"token": MARK + "\x00"}]})
def test_no_secret_survives_and_redaction_is_idempotent(document: dict[str, Any]) -> None:
    redactor = Redactor()
    once = redactor.redact_document(document)
    assert MARK not in json.dumps(once, ensure_ascii=False)
    assert redactor.redact_document(once) == once
    assert Redactor().redact_document(once) == once


fragments = st.one_of(
    plain_text,
    st.builds(lambda s: f"Bearer {s}", st.text(string.ascii_letters + string.digits, min_size=8, max_size=20)),
    st.builds(lambda n, s: f"{n}={s}", st.sampled_from(SECRET_NAMES + PLAIN_NAMES),
              st.text(string.ascii_letters + string.digits + "%+-", min_size=1, max_size=12)),
    st.builds(lambda n, s: json.dumps({n: s}), st.sampled_from(SECRET_NAMES + PLAIN_NAMES), plain_text),
    st.just("sk-ant-api03-abcdefghijklmnopqrstuvwxyz"),
    st.just("<redacted:x-api-key#1>"),
    st.just("%3Credacted%3Ax-api-key%231%3E"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(fragments, max_size=6).map(" ".join))
def test_redacting_text_twice_changes_nothing_more(text: str) -> None:
    redactor = Redactor()
    once = redactor.redact_text(text)
    assert redactor.redact_text(once) == once
    assert Redactor().redact_text(once) == once


def test_describe_patch_hides_secret_values_but_not_plain_ones() -> None:
    redactor = Redactor()
    redactor.learn(bad_document())
    words = describe_patch(
        [{"op": "replace", "path": "/body/model", "value": "m-small"},
         {"op": "add", "path": "/cookies/session", "value": "n3w-s3ss10n-value"}],
        bad_document(), redactor=redactor,
    )
    assert words == ('changed body.model from "m-large" to "m-small"; '
                     "added cookie session (a secret) = <redacted:session#1>")
