"""The run pipeline: phases in order, one runner for requests and documents, exact request counts."""

from __future__ import annotations

import inspect

import httpx
import pytest

from reqbisect import Outcome, Progress, abisect, abisect_documents
from reqbisect.budget import Budget, BudgetSpent
from reqbisect.errors import BaselineError, Inconclusive
from reqbisect.phases import Phase

GOOD = {"method": "GET", "url": "http://app.test/", "headers": {"a": "1", "b": "2", "c": "3"}}
BAD = {"method": "GET", "url": "http://app.test/", "headers": {"a": "1", "b": "X", "c": "4"}}


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(403 if request.headers.get("b") == "X" else 200, text="no" if request.headers.get("b") == "X" else "ok")


def phases_of(events: list[Progress]) -> list[Phase]:
    order: list[Phase] = []
    for event in events:
        if not order or order[-1] is not event.phase:
            order.append(event.phase)
    return order


def runner_frames() -> set[str]:
    return {f"{frame.filename.rsplit('/', 1)[-1]}:{frame.function}" for frame in inspect.stack()}


async def test_a_run_goes_baselines_search_verification_conclusion() -> None:
    events: list[Progress] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    result = await abisect(GOOD, BAD, client=client, progress=events.append)
    await client.aclose()
    assert result.patch == [{"op": "replace", "path": "/headers/b", "value": "2"}]
    assert phases_of(events) == [Phase.BASELINES, Phase.SEARCH, Phase.VERIFICATION, Phase.CONCLUSION]
    assert events[-1].requests == result.stats.requests


async def test_requests_and_documents_share_one_runner() -> None:
    seen: dict[str, set[str]] = {}

    def oracle(reply: object, document: dict[str, object]) -> Outcome:
        seen.setdefault("requests", runner_frames())
        status = getattr(reply, "status")
        return Outcome.GOOD if status == 200 else Outcome.BAD

    def test(document: dict[str, object]) -> bool:
        seen.setdefault("documents", runner_frames())
        return document["b"] != "X"

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    await abisect(GOOD, BAD, client=client, oracle=oracle)
    await client.aclose()
    await abisect_documents(GOOD["headers"], BAD["headers"], test)
    shared = {"pipeline.py:run", "phases.py:establish_baselines"}
    assert shared <= seen["requests"] and shared <= seen["documents"]


async def test_a_document_budget_counts_test_calls_exactly() -> None:
    calls = 0

    def test(document: dict[str, str]) -> bool:
        nonlocal calls
        calls += 1
        return document.get("k3") != "bad"

    good = {f"k{i}": "good" for i in range(16)}
    bad = {**good, **{f"k{i}": "bad" for i in range(16)}}
    with pytest.raises(Inconclusive) as raised:
        await abisect_documents(good, bad, test, max_requests=5)
    assert raised.value.result.stats.requests == calls == 5


def test_a_ticket_that_never_reached_the_server_is_released() -> None:
    budget = Budget(2)
    with budget.reserve():
        assert budget.left == 1 and budget.sent == 0
    with budget.reserve() as ticket:
        ticket.commit()
    assert (budget.sent, budget.reserved, budget.left) == (1, 0, 1)
    budget.reserve().commit()
    with pytest.raises(BudgetSpent):
        budget.reserve()


async def test_a_budget_spent_by_baseline_retries_is_a_baseline_error_that_says_so() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    with pytest.raises(BaselineError) as raised:
        await abisect(GOOD, BAD, client=client, max_requests=4, retries=3, backoff=0.0)
    await client.aclose()
    assert "request budget (4) ran out" in raised.value.message
    assert "--max-requests" in (raised.value.hint or "")
    assert raised.value.result is not None and raised.value.result.stats.requests == 4
