"""``reqbisect log``: every request of a run, in order and in words, never a secret; journals still resume."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from reqbisect import abisect, load_request
from reqbisect.cli import cli

from .conftest import case_file, load_case_app

CASE = "login-form"
CANARY = "sk-live-CANARY-7f3a9c2e41d8b6"


def documents() -> tuple[dict[str, object], dict[str, object]]:
    """The case's requests, with a planted secret in both (and a second one only in BAD)."""
    good = load_request(case_file(CASE, "good")).document
    bad = load_request(case_file(CASE, "bad")).document
    for document, token in ((good, CANARY), (bad, CANARY + "-bad")):
        document["headers"] = {**document["headers"], "authorization": f"Bearer {token}"}
    return good, bad


def log(journal: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["log", str(journal), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


async def test_log_lists_every_request_sent_in_words_and_no_secret(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    good, bad = documents()
    result = await abisect(good, bad, app=load_case_app(CASE), journal=journal)
    text = log(journal, "--full")
    assert CANARY not in text and CANARY not in journal.read_text()
    lines = [line for line in text.splitlines() if re.match(r"\s*\d+\. ", line)]
    sent = [line for line in lines if "not sent again" not in line]
    assert len(sent) == result.stats.requests
    assert f"{result.stats.requests} requests sent and answered" in text
    assert lines[0].split(": ", 1)[0].endswith("GOOD (baseline)")
    assert any("BAD (baseline): bad" in line and "BAD unchanged" in line for line in lines)
    # Which changes each request applied, by pointer: the planted header is named, its value is not.
    assert any("/headers/authorization" in line for line in lines)
    assert all(re.search(r"\((status \d+|no status)", line) and "took" in line for line in lines)
    patch_paths = [op["path"] for op in result.patch]
    assert any(all(path in line for path in patch_paths) and "re-check: good" in line for line in lines)


async def test_a_journal_without_change_names_still_resumes_and_logs(tmp_path: Path) -> None:
    journal = tmp_path / "old.jsonl"
    good, bad = documents()
    first = await abisect(good, bad, app=load_case_app(CASE), journal=journal)
    # What older versions wrote: no changes, times or elapsed.
    old = [json.loads(line) for line in journal.read_text().splitlines()]
    for entry in old[1:]:
        for key in ("changes", "t", "elapsed"):
            entry.pop(key, None)
    old[0].pop("started", None)
    journal.write_text("".join(json.dumps(entry) + "\n" for entry in old))
    again = await abisect(good, bad, app=load_case_app(CASE), resume=journal)
    assert again.patch == first.patch and again.stats.requests == 0
    assert "changes not recorded" in log(journal)


def test_log_of_a_file_that_is_not_a_journal_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"log": {}}\n')
    result = CliRunner().invoke(cli, ["log", str(path)])
    assert result.exit_code == 2 and "not a reqbisect journal" in result.stderr
