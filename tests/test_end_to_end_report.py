"""Reports and outputs of real runs: curl repros that reproduce, and no secret leaks."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from reqbisect.cli import cli

from .conftest import CASES, case_expected, load_case_app, serve

CANARY = "canary-7f3e9b2c4d1a8e6f5b0c"


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def curl_blocks(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [t.content for t in tokens if t.type == "fence" and t.content.lstrip().startswith("curl ")]


def run_curl(command: str, origin: str) -> tuple[int, str]:
    """Run a report's curl command with real curl, pointed at ``origin``; (status, body)."""
    command = re.sub(r"https://api\.example\.com", origin, command)
    command = command.rstrip() + " \\\n  --silent --show-error --max-time 20 --write-out '\\n%{http_code}'"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True)
    body, _, status = proc.stdout.rpartition("\n")
    return int(status), body


def test_the_billing_header_report_reproduces_with_real_curl(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    folder = CASES / "billing-header"
    code, _, err = run_cli(
        "run", str(folder / "good.json"), str(folder / "bad.json"), "--app", f"{folder / 'app.py'}:app",
        "--report", str(report), "-q",
    )
    assert code == 0, err
    text = report.read_text()
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert len(headings) >= 4
    fences = [t.content for t in tokens if t.type == "fence"]
    assert any(json.loads(f) == case_expected("billing-header")["patch"] for f in fences if f.lstrip().startswith("["))
    good_command, bad_command = curl_blocks(text)[:2]
    assert "x-anthropic-billing-header" in good_command and "x-anthropic-billing-header" not in bad_command
    with serve(load_case_app("billing-header")) as server:
        good_status, good_body = run_curl(good_command, server.url)
        bad_status, bad_body = run_curl(bad_command, server.url)
    assert good_status == 200, good_body
    assert bad_status == 400 and json.loads(bad_body)["error"]["message"] == "Error"


def plant(document: dict[str, Any]) -> dict[str, Any]:
    """The same canary secret in a header, a cookie, a query parameter and a nested body key."""
    document = json.loads(json.dumps(document))
    document["headers"]["authorization"] = f"Bearer {CANARY}"
    document.setdefault("cookies", {})["sessionid"] = CANARY
    document.setdefault("query", {})["api_key"] = CANARY
    if isinstance(document.get("body"), dict):
        document["body"]["auth"] = {"password": CANARY}
    return document


#: Cases whose server ignores extra credentials: (case, a secret the minimal patch needs, or None).
CANARY_CASES = [
    ("cookie-jar", ("good", "cookies", "csrftoken")),
    ("billing-header", None),
    ("waf-header", None),
    ("deep-messages", None),
]


@pytest.mark.parametrize(("name", "needed_at"), CANARY_CASES)
def test_planted_secrets_never_reach_report_summary_json_or_journal(
    tmp_path: Path, name: str, needed_at: tuple[str, str, str] | None
) -> None:
    folder = CASES / name
    docs = {side: json.loads((folder / f"{side}.json").read_text()) for side in ("good", "bad")}
    needed = docs[needed_at[0]][needed_at[1]][needed_at[2]] if needed_at else None
    for side, document in docs.items():
        (tmp_path / f"{side}.json").write_text(json.dumps(plant(document)))
    patch_file, report, journal = tmp_path / "fix.json", tmp_path / "report.md", tmp_path / "journal"
    code, out, err = run_cli(
        "run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", f"{folder / 'app.py'}:app",
        "-o", str(patch_file), "--report", str(report), "--json", "--journal", str(journal),
    )
    assert code == 0, err
    assert json.loads(out)["outcome"] == "found"
    assert json.loads(patch_file.read_text()) == case_expected(name)["patch"]
    if needed is not None:
        assert needed in patch_file.read_text()
    outputs = {"stdout --json": out, "stderr": err, "report": report.read_text(), "journal": journal.read_text()}
    for where, text in outputs.items():
        assert CANARY not in text, where
        if needed is not None:
            assert needed not in text, where


def test_no_redact_shows_the_secrets(tmp_path: Path) -> None:
    folder = CASES / "cookie-jar"
    code, out, _ = run_cli(
        "run", str(folder / "good.json"), str(folder / "bad.json"), "--app", f"{folder / 'app.py'}:app",
        "--json", "--no-redact",
    )
    assert code == 0
    good = json.loads((folder / "good.json").read_text())
    assert good["cookies"]["csrftoken"] in out
