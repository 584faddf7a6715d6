"""Redaction is precise: credentials go, ordinary values named like them stay, canaries never leak.

Three values that over-eager redaction used to hide must stay readable: a Jira
project key (``{"project": {"key": "WID"}}``), the issue key a response
returns (``"key": "WID-50"``) and ``x-atlassian-token: no-check``. Secrets of
every known shape, planted where no name says they are secret, must be absent
from the report, the summary, ``--json``, the journal, the ``--report-dir``
files and progress.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import reqbisect
from reqbisect.cli import cli
from reqbisect.oracle import Reply
from reqbisect.report.markdown import render_markdown
from reqbisect.report.placeholders import PLACEHOLDER
from reqbisect.report.redact import Redactor
from reqbisect.report.shapes import looks_like_credential
from reqbisect.result import Result, Stats

from .conftest import CASES

#: One secret of each shape; the CANARY part of each must never show.
SHAPES = {
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.CANARYjwtSig0aB3dE5fG7hJ9kL",
    "anthropic": "sk-ant-api03-CANARYantKEY0123456789abcdefXYZ",
    "openai": "sk-proj-CANARYopenai0123456789abcdef",
    "aws-id": "AKIACANARYAWS1234567",
    "ghp": "ghp_CANARYghp0123456789abcdefghijklmnop",
    "gho": "gho_CANARYgho0123456789abcdefghijklmnop",
    "ghs": "ghs_CANARYghs0123456789abcdefghijklmnop",
    "github-pat": "github_pat_CANARYpat0123456789abcdefghij_klmnopqrstuvwxyz0123456789",
    "slack": "xoxb-123456789012-CANARYslack0abcdef",
    "url-basic": "https://dana:CANARYurlPass99@db.example.com/x",
}
#: Secrets that only their position and shape give away: an AWS secret key under "key", a tenant key.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCANARYsk40"
TENANT_KEY = "Zq8vN2pLr5TxW9yB3mKcCANARYtenant"
FRAGMENTS = ["CANARYjwtSig", "CANARYantKEY", "CANARYopenai", "CANARYAWS", "CANARYghp", "CANARYgho", "CANARYghs",
             "CANARYpat", "CANARYslack", "CANARYurlPass", "CANARYsk40", "CANARYtenant"]


def leaks(text: str) -> list[str]:
    return [fragment for fragment in FRAGMENTS if fragment in text]


def plant(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(json.dumps(document))
    document["headers"]["x-tenant-key"] = TENANT_KEY
    document["body"]["notes"] = list(SHAPES.values())
    document["body"]["signing"] = {"key": AWS_SECRET}
    return document


def test_every_planted_shape_is_absent_everywhere(tmp_path: Path) -> None:
    folder = CASES / "billing-header"
    for side in ("good", "bad"):
        (tmp_path / f"{side}.json").write_text(json.dumps(plant(json.loads((folder / f"{side}.json").read_text()))))
    report, journal, out = tmp_path / "report.md", tmp_path / "journal", tmp_path / "dir"
    result = CliRunner().invoke(cli, [
        "run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", f"{folder / 'app.py'}:app",
        "--report", str(report), "--json", "--journal", str(journal), "--report-dir", str(out),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outcome"] == "found"
    outputs = {"--json": result.stdout, "stderr": result.stderr, "report": report.read_text(),
               "journal": journal.read_text()}
    outputs |= {f"--report-dir {p.name}": p.read_text(errors="replace") for p in out.iterdir()}
    assert {where: leaks(text) for where, text in outputs.items() if leaks(text)} == {}
    shown = json.loads(result.stdout)["minimal_bad"]
    assert all(PLACEHOLDER.search(note) for note in shown["body"]["notes"])
    assert PLACEHOLDER.fullmatch(shown["body"]["signing"]["key"]) and PLACEHOLDER.fullmatch(
        shown["headers"]["x-tenant-key"])


def test_progress_never_carries_a_planted_secret() -> None:
    folder = CASES / "billing-header"
    docs = [plant(json.loads((folder / f"{side}.json").read_text())) for side in ("good", "bad")]
    seen: list[str] = []
    from .conftest import load_case_app

    reqbisect.bisect(docs[0], docs[1], app=load_case_app("billing-header"), progress=lambda p: seen.append(repr(p)))
    assert seen and leaks("\n".join(seen)) == []


@pytest.mark.parametrize("value", [*SHAPES.values(), AWS_SECRET, TENANT_KEY,
                                   "Basic " + base64.b64encode(b"dana:CANARYpw").decode()])
def test_credential_shapes_are_recognised(value: str) -> None:
    assert looks_like_credential(value)


@pytest.mark.parametrize("value", ["WID", "WID-50", "no-check", "nocheck", "PROJ-1234", "true", "2023-06-01",
                                   "application/json", "the quick brown fox jumps"])
def test_ordinary_values_do_not_look_like_credentials(value: str) -> None:
    assert not looks_like_credential(value)


def jira_app_source() -> str:
    return '''
import json

async def app(scope, receive, send):
    headers = dict(scope["headers"])
    if headers.get(b"x-atlassian-token") == b"no-check":
        status, body = 201, {"id": "10000", "key": "WID-50", "self": "https://jira.example.com/rest/api/2/issue/10000"}
    else:
        status, body = 403, {"errorMessages": ["XSRF check failed"]}
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
'''


def test_the_three_over_redactions_stay_readable(tmp_path: Path) -> None:
    bad = {"method": "POST", "url": "https://jira.example.com/rest/api/2/issue",
           "headers": {"content-type": "application/json", "authorization": "Bearer s3cr3t-t0ken-CANARYjira"},
           "body": {"fields": {"project": {"key": "WID"}, "summary": "Printer on fire", "issuetype": {"name": "Bug"}}}}
    good = json.loads(json.dumps(bad))
    good["headers"]["x-atlassian-token"] = "no-check"
    (tmp_path / "app.py").write_text(jira_app_source())
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    report = tmp_path / "report.md"
    result = CliRunner().invoke(cli, [
        "run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", f"{tmp_path / 'app.py'}:app",
        "--report", str(report), "--json",
        # An expression over the body makes the good answer's body read (by default its status decides).
        "--good-if", "status == 201 and json['key'].startswith('WID')",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["patch"] == [{"op": "add", "path": "/headers/x-atlassian-token", "value": "no-check"}]
    assert data["minimal_bad"]["body"]["fields"]["project"] == {"key": "WID"}
    assert json.loads(data["responses"]["minimal_good"]["body"])["key"] == "WID-50"
    assert 'added header x-atlassian-token = "no-check"' in result.stderr
    text = report.read_text()
    assert '+/headers/x-atlassian-token: "no-check"' in text
    assert '"key": "WID-50"' in text and '/body/fields/project/key: "WID"' in text
    assert "CANARYjira" not in text + result.stdout + result.stderr
    assert data["minimal_bad"]["headers"]["authorization"] == "Bearer <redacted:authorization#1>"


def test_keep_leaves_a_named_value_readable_from_the_command_line() -> None:
    folder = CASES / "billing-header"
    args = ["run", str(folder / "good.json"), str(folder / "bad.json"), "--app", f"{folder / 'app.py'}:app", "--json"]
    hidden = json.loads(CliRunner().invoke(cli, args).stdout)
    kept = json.loads(CliRunner().invoke(cli, [*args, "--keep", "x-api-key"]).stdout)
    key = json.loads((folder / "bad.json").read_text())["headers"]["x-api-key"]
    assert PLACEHOLDER.search(hidden["minimal_bad"]["headers"]["x-api-key"])
    if looks_like_credential(key):  # a key of a known format stays hidden even where it is kept
        assert PLACEHOLDER.search(kept["minimal_bad"]["headers"]["x-api-key"])
    else:
        assert kept["minimal_bad"]["headers"]["x-api-key"] == key


def test_keep_by_name_and_pointer_in_the_library() -> None:
    document = {"headers": {"x-session-mode": "strict", "x-api-key": "plainvalue1"},
                "body": {"session": {"id": "abc123def"}, "password": "hunter2hunter2", "jwt": SHAPES["jwt"]}}
    redactor = Redactor(keep=["x-session-mode", "/body/session", "x-api-key", "/body/jwt"])
    out = redactor.redact_document(document)
    assert out["headers"] == {"x-session-mode": "strict", "x-api-key": "plainvalue1"}
    assert out["body"]["session"] == {"id": "abc123def"}
    assert PLACEHOLDER.fullmatch(out["body"]["password"])
    assert PLACEHOLDER.fullmatch(out["body"]["jwt"]), "a known format is hidden even where it is kept"
    both = Redactor(keep=["/body/session"], extra=["/body/session/id"]).redact_document(document)
    assert PLACEHOLDER.fullmatch(both["body"]["session"]["id"]), "--redact wins over --keep"


def test_bad_keep_values_are_usage_errors() -> None:
    result = CliRunner().invoke(cli, ["run", "missing-good.json", "missing-bad.json", "--keep", ""])
    assert result.exit_code == 2 and "--keep" in result.output and "Traceback" not in result.output


def test_a_placeholder_is_never_cut_in_a_table_cell_or_a_message() -> None:
    secret = "tok-" + "q7" * 20
    message = "x" * 60 + f" authorization {secret} rejected"
    challenge = 'Bearer realm="api", error="invalid_token", error_description="' + "y" * 190 + f' {secret}"'
    bad_reply = Reply(status=401, headers=(("www-authenticate", challenge), ("content-type", "application/json")),
                      body=json.dumps({"error": {"message": message}}).encode(), elapsed=0.1)
    good_reply = Reply(status=200, headers=(), body=b"{}", elapsed=0.1)
    bad = {"method": "GET", "url": "https://api.example.com/x", "headers": {"authorization": secret}}
    good = {"method": "GET", "url": "https://api.example.com/x", "headers": {"authorization": secret, "x-v": "2"}}
    result = Result(mode="fix", outcome="found", patch=[{"op": "add", "path": "/headers/x-v", "value": "2"}],
                    minimal_good=good, minimal_bad=bad, stats=Stats(), verified=True, minimal=True,
                    baseline_good=good_reply, baseline_bad=bad_reply, reply_good=good_reply, reply_bad=bad_reply)
    text = render_markdown(result)
    assert secret not in text
    unescaped = text.replace("\\<", "<").replace("\\>", ">").replace("\\_", "_").replace("`<redacted:…>`", "")
    fragments = unescaped.count("<redacted:")
    assert fragments > 0 and fragments == len(PLACEHOLDER.findall(unescaped))
    assert "| www-authenticate |" in unescaped and "authorization …" in unescaped  # both were cut, before the placeholder
