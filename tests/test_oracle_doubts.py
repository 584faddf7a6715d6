"""The result says when it is unsure: a change kept only because its removal was unresolved.

The server below fails on ``/body/plan`` (400) and answers unpredictably (502 or
504, alternating, with changing text) whenever ``region`` is still GOOD's while
the plan is BAD's: the search cannot tell whether ``region`` matters, keeps it
(an unresolved removal counts as no flip), and the result must say so.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from click.testing import CliRunner

from reqbisect import abisect
from reqbisect.cli import cli

GOOD = {
    "method": "POST", "url": "http://unsure.test/v1/jobs", "headers": {"content-type": "application/json"},
    "body": {"plan": "basic", "region": "eu-west", "priority": "low", "label": "nightly"},
}
BAD = {
    "method": "POST", "url": "http://unsure.test/v1/jobs", "headers": {"content-type": "application/json"},
    "body": {"plan": "enterprise", "region": "us-east", "priority": "high", "label": "hourly"},
}


def unsure_app() -> Any:
    flips = itertools.count()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        job = json.loads(body)
        if job["plan"] == "enterprise" and job["region"] == "eu-west":
            n = next(flips)
            status, answer = (502, {"error": f"upstream {n % 3} busy"}) if n % 2 else (504, {"fault": "timeout"})
        elif job["plan"] == "enterprise":
            status, answer = 400, {"error": {"type": "plan_unavailable", "message": "plan not available"}}
        else:
            status, answer = 200, {"id": "job-1", "state": "queued"}
        payload = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})

    return app


async def test_a_change_kept_only_by_unresolved_answers_is_named_with_a_suggestion() -> None:
    result = await abisect(GOOD, BAD, app=unsure_app(), mode="break", concurrency=4, retries=0)
    assert result.outcome == "found" and result.minimal
    assert {op["path"] for op in result.patch} == {"/body/plan", "/body/region"}
    assert result.oracle == "status 200 vs 400"
    (warning,) = [w for w in result.warnings if w.startswith("/body/region")]
    assert "unresolved" in warning and ("502" in warning or "504" in warning)
    assert '--bad-if "status == 400"' in warning and '--good-if "status == 200"' in warning
    assert not any(w.startswith("/body/plan") for w in result.warnings)


async def test_the_suggested_expression_gives_the_exact_answer() -> None:
    from reqbisect.console import expression_oracle

    # The 502/504 answers are failures too: the plan alone is the cause.
    oracle = expression_oracle("status == 200", None)
    result = await abisect(GOOD, BAD, app=unsure_app(), mode="break", concurrency=4, retries=0, oracle=oracle)
    assert result.patch == [{"op": "replace", "path": "/body/plan", "value": "enterprise"}]
    assert not [w for w in result.warnings if "unresolved" in w]


async def test_a_clear_run_carries_no_doubt() -> None:
    good = {**GOOD, "body": {**GOOD["body"], "region": "us-east"}}
    result = await abisect(good, BAD, app=unsure_app(), mode="break", concurrency=4, retries=0)
    assert result.patch == [{"op": "replace", "path": "/body/plan", "value": "enterprise"}]
    assert result.warnings == ()


def test_the_summary_says_how_the_oracle_decided_and_what_minimal_means(tmp_path: Any, monkeypatch: Any) -> None:
    import sys
    import types

    module = types.ModuleType("_unsure_app")
    module.app = unsure_app()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_unsure_app", module)
    (tmp_path / "good.json").write_text(json.dumps(GOOD))
    (tmp_path / "bad.json").write_text(json.dumps(BAD))
    run = CliRunner().invoke(cli, [
        "run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--app", "_unsure_app:app",
        "--mode", "break", "--retries", "0", "--json", "--report", str(tmp_path / "report.md"),
    ])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["oracle"] == "status 200 vs 400" and data["minimal"] is True
    assert any(w.startswith("/body/region") and "--bad-if" in w for w in data["warnings"])
    assert "oracle: status 200 vs 400; 1-minimal under unresolved-counts-as-no-flip" in run.stderr
    report = (tmp_path / "report.md").read_text()
    assert "told apart by: status 200 vs 400" in report and "unresolved-counts-as-no-flip" in report
