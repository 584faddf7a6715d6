"""The command line: exit codes, stdout/stderr contracts, real servers on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reqbisect.cli import cli

from .conftest import ROOT, case_expected, case_file, load_case_app, serve

BILLING = ROOT / "cases" / "billing-header"
APP = f"{BILLING / 'app.py'}:app"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_prints_the_patch_and_a_summary() -> None:
    code, out, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "-q")
    assert code == 0, err
    assert json.loads(out) == case_expected("billing-header")["patch"]
    assert '400 "Error"' in err and "200" in err and "system" in err
    assert "verified: yes" in err


def test_json_output_has_the_documented_fields() -> None:
    code, out, _ = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["schema_version"] == 1 and data["mode"] == "fix" and data["outcome"] == "found"
    assert data["verified"] is True and data["minimal"] is True
    assert set(data["stats"]) >= {"requests", "cache_hits", "unresolved", "rounds", "seconds"}
    assert data["minimal_good"]["body"]["system"][0]["text"].startswith("x-anthropic-billing-header:")


def test_output_file_gets_the_patch(tmp_path: Path) -> None:
    target = tmp_path / "fix.json"
    code, _, _ = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "-o", str(target))
    assert code == 0
    assert json.loads(target.read_text()) == case_expected("billing-header")["patch"]


def test_swapped_baselines_exit_1_and_say_which_side() -> None:
    code, out, err = invoke("run", str(BILLING / "bad.json"), str(BILLING / "good.json"), "--app", APP)
    assert code == 1
    assert "GOOD is not good" in err and "400" in err
    assert "Traceback" not in err


def test_equal_requests_exit_1() -> None:
    code, _, err = invoke("run", str(BILLING / "bad.json"), str(BILLING / "bad.json"), "--app", APP)
    assert code == 1
    assert "same request" in err


def test_budget_spent_exits_3_with_the_best_so_far() -> None:
    code, out, err = invoke(
        "run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "--max-requests", "8", "--json"
    )
    assert code == 3
    data = json.loads(out)
    assert data["outcome"] == "inconclusive" and data["minimal"] is False
    assert data["stats"]["requests"] <= 8
    assert "budget" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--good-if", "stauts == 200"], "--good-if: name 'stauts' is not defined; available: status, headers, text, json, elapsed"),
        (["--bad-if", "status ==="], "--bad-if"),
        (["--ignore", "headers/x"], "--ignore"),
        (["--target", "http://127.0.0.1:8000"], "--target: --app and --target exclude each other"),
    ],
)
def test_bad_options_exit_2_in_one_line(args: list[str], message: str) -> None:
    code, out, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "nan"], "Invalid value for '--timeout': 'nan' is not a finite number"),
        (["--max-time", "inf"], "Invalid value for '--max-time': 'inf' is not a finite number"),
        # Written after the search: a directory that is not there must stop the run before it starts.
        (["-o", "/nonexistent/dir/p.json"], "the directory '/nonexistent/dir' does not exist"),
        (["--report", "/nonexistent/dir/r.md"], "the directory '/nonexistent/dir' does not exist"),
        (["--journal", "/nonexistent/dir/j.jsonl"], "the directory '/nonexistent/dir' does not exist"),
        (["--target", "127.0.0.1:8000"], "--target: not an origin to send to (expected scheme://host[:port]"),
        (["--target", "http://127.0.0.1:99999"], "--target: not a valid URL: Port out of range"),
    ],
)
def test_unusable_option_values_exit_2_before_anything_is_sent(args: list[str], message: str) -> None:
    served = load_case_app("billing-header")
    with serve(served) as server:
        code, out, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"),
                                "--target", server.url, "--yes", *args)
        assert server.counter.received == []
    assert code == 2
    assert message in err and "Traceback" not in err
    assert out == ""


def test_missing_file_exits_2() -> None:
    code, _, err = invoke("run", "nope/good.json", str(BILLING / "bad.json"), "--app", APP)
    assert code == 2
    assert "nope/good.json" in err
    assert "Traceback" not in err


def test_good_if_expression_replaces_the_default_oracle() -> None:
    code, out, err = invoke(
        "run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "--good-if", "status == 200"
    )
    assert code == 0, err
    assert json.loads(out) == case_expected("billing-header")["patch"]


def test_diff_then_apply_gives_the_other_document(tmp_path: Path) -> None:
    code, out, _ = invoke("diff", str(BILLING / "bad.json"), str(BILLING / "good.json"))
    assert code == 0
    patch_file = tmp_path / "all.json"
    patch_file.write_text(out)
    code, out, _ = invoke("apply", str(BILLING / "bad.json"), str(patch_file))
    assert code == 0
    assert json.loads(out) == json.loads((BILLING / "good.json").read_text())


def test_apply_of_a_patch_that_does_not_apply_exits_2(tmp_path: Path) -> None:
    patch_file = tmp_path / "p.json"
    patch_file.write_text('[{"op": "remove", "path": "/body/nothing"}]')
    code, _, err = invoke("apply", str(BILLING / "bad.json"), str(patch_file))
    assert code == 2
    assert "p.json" in err and "does not apply" in err


def test_post_without_a_terminal_or_yes_refuses_before_sending() -> None:
    with serve(load_case_app("billing-header")) as server:
        code, _, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--target", server.url)
        assert code == 2
        assert "--yes" in err
        assert server.counter.received == []


def test_a_port_with_no_server_exits_1_in_one_line() -> None:
    with serve(load_case_app("billing-header")) as server:
        url = server.url
    code, _, err = invoke(
        "run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--target", url, "--yes", "--retries", "0"
    )
    assert code == 1
    assert "GOOD got no response" in err and "connect" in err
    assert "Traceback" not in err


def _run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "bisect"))
    return subprocess.run(
        [sys.executable, "-m", "reqbisect", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.mark.parametrize("name", ["billing-header", "waf-header"])
def test_python_m_over_a_real_server_counts_match(name: str) -> None:
    with serve(load_case_app(name)) as server:
        proc = _run_module(
            "run", str(case_file(name, "good")), str(case_file(name, "bad")),
            "--target", server.url, "--yes", "--json", "-j", "4",
        )
        received = list(server.counter.received)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["patch"] == case_expected(name)["patch"]
    assert "minimal difference" in proc.stderr
    assert data["stats"]["requests"] == len(received)
    # Only the final re-verification repeats a request on purpose (each baseline is
    # sent once on a consistent server); no candidate is sent twice.
    duplicates = len(received) - len(set(received))
    assert duplicates == data["stats"]["verification"]
    # The answer twice, and a single step only when no answer the search saw predicts it
    # (which speculative answers arrived before the search ended depends on timing at -j 4).
    assert data["verification"]["reason"] == "consistent" and data["verification"]["doubts"] == []
    assert 2 <= data["verification"]["sends"] <= 4
    # Two candidates can make the same request (then it is sent once).
    assert len(set(received)) <= data["stats"]["candidates"] + 2


MALFORMED = {
    "invalid.json": ('{"method": "GET",\n  "url": "https://a.example/x",\n  oops}', "line 3"),
    "types.json": ('{"method": "GET", "url": "https://a.example/x", "headers": {"accept": 3}}', "/headers/accept"),
    "both.json": (
        '{"method": "POST", "url": "https://a.example/x", "body": "a", "body_base64": "YQ=="}',
        "body_base64",
    ),
    "quote.curl": ("curl 'https://a.example/x' \\\n  -H 'accept: */*\n", "line 2"),
    "typo.curl": ("curl https://a.example/x --data-binry 'a=1'\n", "did you mean '--data-binary'"),
    "missing.curl": ("curl https://a.example/x --data-binary @nowhere.bin\n", "nowhere.bin"),
    "notjson.har": ("{ this is not json", "line 1"),
    "nohost.http": ("GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n", "Host"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_input_is_one_line_naming_file_and_place(tmp_path: Path, name: str) -> None:
    text, where = MALFORMED[name]
    path = tmp_path / name
    path.write_text(text)
    code, out, err = invoke("convert", str(path), "--to", "json")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert name in lines[0] and where in lines[0]


def test_unknown_har_entry_lists_what_there_is(tmp_path: Path) -> None:
    entry = {
        "request": {"method": "GET", "url": "https://a.example/x", "httpVersion": "HTTP/1.1", "headers": [],
                    "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [], "cookies": [],
                     "content": {"size": 0, "mimeType": "text/plain"}, "redirectURL": "", "headersSize": -1,
                     "bodySize": 0},
        "startedDateTime": "2026-01-01T00:00:00Z", "time": 1, "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    har = tmp_path / "capture.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
                                       "entries": [entry, entry, entry]}}))
    code, _, err = invoke("convert", f"{har}#7", "--to", "json")
    assert code == 2
    assert "capture.har#7: no entry 7 (the file has 3 entries: #0..#2)" in err


def test_send_prints_status_body_and_outcome() -> None:
    code, out, err = invoke(
        "send", str(BILLING / "bad.json"), "--app", APP, "--bad-if", "json['error']['message'] == 'Error'"
    )
    assert code == 0, err
    first, outcome = out.strip().splitlines()
    assert first.startswith("400 ") and '"message":"Error"' in first.replace(" ", "")
    assert outcome == "outcome: bad"


def test_send_over_a_real_server_names_a_transport_error() -> None:
    with serve(load_case_app("billing-header")) as server:
        url = server.url
        code, out, _ = invoke("send", str(BILLING / "good.json"), "--target", url, "--good-if", "status == 200")
        assert code == 0
        assert out.startswith("200 ") and out.strip().endswith("outcome: good")
    code, out, _ = invoke("send", str(BILLING / "good.json"), "--target", url)
    assert code == 1
    assert "transport error" in out


def test_a_loader_warning_names_its_file_once(tmp_path: Path) -> None:
    path = tmp_path / "creds.http"
    path.write_text("GET http://user:pw@a.example/x HTTP/1.1\n\n", encoding="utf-8")
    code, out, err = invoke("convert", str(path), "--to", "json")
    assert code == 0 and json.loads(out)["url"] == "http://a.example/x"
    assert err.count(str(path)) == 1 and err.startswith("reqbisect: ") and "credentials in the URL" in err


def test_an_ignore_that_matches_nothing_is_said(tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    code, out, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP,
                            "--ignore", "/headers/x-no-such-header", "--report", str(report))
    assert code == 0 and json.loads(out) == case_expected("billing-header")["patch"]
    warning = "--ignore /headers/x-no-such-header: GOOD and BAD do not differ there, so it changes nothing"
    assert f"reqbisect: {warning}" in err
    assert warning in report.read_text(encoding="utf-8")


def test_good_and_bad_cannot_both_come_from_stdin() -> None:
    result = CliRunner().invoke(cli, ["run", "-", "-", "--app", APP], input="{}")
    assert result.exit_code == 2
    assert "GOOD and BAD cannot both be read from standard input" in result.stderr


ECHOING_APP = """
async def app(scope, receive, send):
    key = dict(scope["headers"]).get(b"x-api-key", b"")
    await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"denied: your key " + key + b" is not valid"})
"""


def test_a_refused_baseline_is_reported_without_the_secret_it_echoes(tmp_path: Path) -> None:
    (tmp_path / "echo.py").write_text(ECHOING_APP, encoding="utf-8")
    good = {"method": "GET", "url": "http://h.example/v1", "headers": {"x-api-key": "KEYgood1234567890abcdef"}}
    bad = {"method": "GET", "url": "http://h.example/v1", "headers": {"x-api-key": "KEYbad0987654321fedcba"}}
    for name, doc in (("good.json", good), ("bad.json", bad)):
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    code, out, err = invoke("run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"),
                            "--app", f"{tmp_path / 'echo.py'}:app", "--good-if", "status == 200", "--json")
    assert code == 1 and "GOOD is not good" in err
    assert "<redacted:x-api-key#" in err
    assert "KEYgood" not in err + out and "KEYbad" not in err + out


def test_a_redact_pointer_that_leads_nowhere_is_said() -> None:
    code, _, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP,
                          "--redact", "/body/no_such_key", "--redact", "/body/model", "--redact", "x-anything")
    assert code == 0
    assert "reqbisect: --redact /body/no_such_key: neither GOOD nor BAD has it, so it hides nothing" in err
    assert "/body/model:" not in err and "x-anything" not in err


# -- messages that tell the truth ---------------------------------------------------------------


def test_a_failing_good_if_is_shown_with_the_expression_and_the_answer() -> None:
    code, out, err = invoke(
        "run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "--good-if", "json['nope']"
    )
    assert code == 1 and out == ""
    assert "--good-if \"json['nope']\" failed with KeyError 'nope' on 200" in err
    assert "hint" not in err  # nothing about signatures here


def test_the_hook_hint_needs_an_answer_about_signatures() -> None:
    code, _, err = invoke("run", str(BILLING / "bad.json"), str(BILLING / "good.json"), "--app", APP)
    assert code == 1 and "GOOD is not good" in err and "--hook" not in err


def test_a_flaky_baseline_is_not_told_to_use_repeat() -> None:
    from reqbisect.errors import BaselineError
    from reqbisect.oracle import Reply, SignatureOracle

    with pytest.raises(BaselineError) as caught:
        SignatureOracle.learn([Reply(status=200), Reply(status=500)], [Reply(status=400), Reply(status=400)])
    assert "flaky" in caught.value.format_message() and "--repeat" not in caught.value.format_message()


def test_apply_names_the_op_and_pointer_never_the_document(tmp_path: Path) -> None:
    secret = "sk-ant-api03-CANARYCANARYCANARY"
    request = tmp_path / "req.json"
    request.write_text(json.dumps({"method": "GET", "url": "https://x.test/", "headers": {"x-api-key": secret}}))
    patch = tmp_path / "p.json"
    patch.write_text(json.dumps([
        {"op": "add", "path": "/headers/accept", "value": "*/*"},
        {"op": "remove", "path": "/body/missing"},
    ]))
    code, out, err = invoke("apply", str(request), str(patch))
    assert code == 2 and out == ""
    assert "operation 1 (remove /body/missing) does not apply" in err
    assert secret not in err and "x-api-key" not in err


def test_json_timeout_says_timed_out(tmp_path: Path) -> None:
    good, bad = tmp_path / "g.json", tmp_path / "b.json"
    good.write_text('{"a": 1}')
    bad.write_text('{"a": 2}')
    code, _, err = invoke("json", str(good), str(bad), "--test", "sleep 5", "--timeout", "0.2")
    assert code == 1
    assert "timed out after 0.2s" in err and "raise --timeout" in err


async def test_retry_on_retries_those_statuses_with_the_same_backoff() -> None:
    from reqbisect import BaselineError, Inconclusive, abisect
    from reqbisect.options import RunOptions

    app = load_case_app("billing-header")
    seen: set[bytes] = set()

    async def every_other_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The first attempt of every distinct request gets 502; the next one goes through."""
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        fingerprint = repr(scope["headers"]).encode() + body
        if fingerprint not in seen:
            seen.add(fingerprint)
            await send({"type": "http.response.start", "status": 502, "headers": []})
            await send({"type": "http.response.body", "body": b"bad gateway"})
            return

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    good, bad = BILLING / "good.json", BILLING / "bad.json"
    # Without it, a 502 is an answer: the baselines' majority may still come through on
    # re-sends, but every candidate's first answer is unresolved and nothing is found.
    with pytest.raises((BaselineError, Inconclusive)):
        await abisect(good, bad, app=every_other_fails, options=RunOptions(backoff=0, concurrency=1))
    seen.clear()
    result = await abisect(
        good, bad, app=every_other_fails, options=RunOptions(backoff=0, concurrency=1, retry_on=frozenset({502}))
    )
    assert result.patch == case_expected("billing-header")["patch"]


def test_retry_on_must_be_statuses() -> None:
    code, _, err = invoke("run", str(BILLING / "good.json"), str(BILLING / "bad.json"), "--app", APP, "--retry-on", "5xx")
    assert code == 2 and "--retry-on" in err
