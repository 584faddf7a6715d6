"""The library as tooling uses it: sync from plain code, async inside a running event loop
(asyncio and trio), oracles as any sync or async callable, documents with any test."""

from __future__ import annotations

import copy
from typing import Any

import anyio
import httpx
import jsonpatch
import pytest

import reqbisect
from reqbisect import Inconclusive, Outcome, Reply

from .conftest import case_expected, case_file, load_case_app

BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
WAF = "waf-header"


def waf() -> tuple[Any, Any, Any]:
    return case_file(WAF, "good"), case_file(WAF, "bad"), load_case_app(WAF)


# -- oracles --------------------------------------------------------------------------------


def sync_oracle(reply: Reply, document: dict[str, Any]) -> bool:
    """200 is good; the WAF's block page is bad (everything else counts as bad too)."""
    return reply.status == 200


async def async_oracle(reply: Reply, document: dict[str, Any]) -> Outcome:
    await anyio.lowlevel.checkpoint()
    if reply.status == 200:
        return Outcome.GOOD
    return Outcome.BAD if reply.status == 403 else Outcome.UNRESOLVED


@pytest.mark.parametrize("oracle", [sync_oracle, async_oracle], ids=["sync", "async"])
def test_bisect_from_plain_code_with_a_sync_or_async_oracle(oracle: Any) -> None:
    good, bad, app = waf()
    result = reqbisect.bisect(good, bad, app=app, oracle=oracle)
    assert result.patch == case_expected(WAF)["patch"]
    assert result.outcome == "found" and result.verified and result.minimal
    assert jsonpatch.apply_patch(result.minimal_bad, result.patch) == result.minimal_good


@BACKENDS
@pytest.mark.parametrize("oracle", [None, sync_oracle, async_oracle], ids=["default", "sync", "async"])
async def test_abisect_inside_a_running_event_loop(anyio_backend: str, oracle: Any) -> None:
    good, bad, app = waf()
    result = await reqbisect.abisect(good, bad, app=app, oracle=oracle)
    assert result.patch == case_expected(WAF)["patch"]
    assert result.outcome == "found"


async def test_the_oracle_sees_the_candidate_document_it_judges() -> None:
    good, bad, app = waf()
    judged: list[tuple[int | None, bool]] = []

    def oracle(reply: Reply, document: dict[str, Any]) -> bool:
        blocked = "x-forwarded-for" in document["headers"]
        judged.append((reply.status, blocked))
        return reply.status == 200

    await reqbisect.abisect(good, bad, app=app, oracle=oracle)
    assert judged and all((status == 403) == blocked for status, blocked in judged)


@BACKENDS
async def test_transport_errors_reach_the_oracle_as_reply_error(anyio_backend: str) -> None:
    names = "abcdef"
    base = {"method": "GET", "url": "https://api.example.com/items"}
    good = {**base, "headers": {name: "1" for name in names}}
    bad = {**base, "headers": {name: "2" for name in names}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["a"] == "2" and request.headers["f"] == "1":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200 if request.headers["a"] == "1" else 500)

    errors: list[str] = []

    def oracle(reply: Reply, document: dict[str, Any]) -> Outcome:
        if reply.error is not None:
            assert reply.status is None
            errors.append(reply.error)
            return Outcome.UNRESOLVED
        return Outcome.GOOD if reply.status == 200 else Outcome.BAD

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        result = await reqbisect.abisect(good, bad, client=client, oracle=oracle, retries=0, concurrency=1)
    assert errors and all("connection refused" in error for error in errors)
    assert result.stats.unresolved == len(errors)
    assert result.patch == [{"op": "replace", "path": "/headers/a", "value": "1"}]


# -- results and errors ---------------------------------------------------------------------------


def test_a_result_carries_its_minimal_requests_stats_and_report() -> None:
    good, bad, app = waf()
    result = reqbisect.bisect(good, bad, app=app, concurrency=1)
    assert isinstance(result, reqbisect.Result) and isinstance(result.stats, reqbisect.Stats)
    assert result.stats.requests > 0 and result.stats.rounds > 0
    assert "x-forwarded-for" not in result.minimal_good["headers"]  # type: ignore[index]
    report = result.to_markdown()
    assert "x-forwarded-for" in report and "eyJhbGciOiJIUzI1NiJ9" not in report


def test_a_spent_budget_raises_inconclusive_with_the_best_so_far() -> None:
    good, bad, app = waf()
    with pytest.raises(Inconclusive) as caught:
        reqbisect.bisect(good, bad, app=app, max_requests=6)
    assert caught.value.result.outcome == "inconclusive"
    assert caught.value.result.patch


def test_load_request_and_diff_are_public() -> None:
    good, bad = reqbisect.load_request(case_file(WAF, "good")), reqbisect.load_request(case_file(WAF, "bad"))
    tree = reqbisect.diff(bad.document, good.document)
    patch = tree.patch(range(len(tree.changes)))
    assert jsonpatch.apply_patch(bad.document, patch) == good.document


# -- any two JSON documents ---------------------------------------------------------------------------

GOOD_CONFIG = {"workers": 4, "cache": {"size": 128, "ttl": 60}, "features": ["a", "b"]}
BAD_CONFIG = {"workers": 16, "cache": {"size": 0, "ttl": 5}, "features": ["a", "b", "c"]}


def starts(config: Any) -> bool:
    """The service starts unless its cache has no room."""
    return bool(config["cache"]["size"])


async def astarts(config: Any) -> Outcome:
    await anyio.lowlevel.checkpoint()
    return Outcome.GOOD if starts(config) else Outcome.BAD


@pytest.mark.parametrize("test", [starts, astarts], ids=["sync", "async"])
def test_bisect_documents_from_plain_code(test: Any) -> None:
    result = reqbisect.bisect_documents(GOOD_CONFIG, BAD_CONFIG, test)
    assert result.patch == [{"op": "replace", "path": "/cache/size", "value": 128}]
    assert result.stats.requests < 10


@BACKENDS
@pytest.mark.parametrize("test", [starts, astarts], ids=["sync", "async"])
async def test_abisect_documents_inside_a_running_event_loop(anyio_backend: str, test: Any) -> None:
    result = await reqbisect.abisect_documents(GOOD_CONFIG, BAD_CONFIG, test, mode="break")
    assert result.patch == [{"op": "replace", "path": "/cache/size", "value": 0}]


def test_a_test_that_edits_its_document_changes_neither_the_inputs_nor_the_search() -> None:
    good, bad = copy.deepcopy(GOOD_CONFIG), copy.deepcopy(BAD_CONFIG)

    def meddling(config: Any) -> bool:
        verdict = starts(config)
        config["cache"].clear()
        config["features"].append("x")
        return verdict

    result = reqbisect.bisect_documents(good, bad, meddling)
    assert (good, bad) == (GOOD_CONFIG, BAD_CONFIG)
    assert result.patch == [{"op": "replace", "path": "/cache/size", "value": 128}]
    assert result.minimal_good == {**BAD_CONFIG, "cache": {"size": 128, "ttl": 5}}


@pytest.mark.parametrize(("good", "bad"), [(True, 1), (1, 1.0), (0, False)])
def test_documents_that_differ_only_in_json_type_are_bisected(good: Any, bad: Any) -> None:
    # Python says True == 1, but a server that wants a boolean does not.
    result = reqbisect.bisect_documents({"v": good}, {"v": bad}, lambda d: type(d["v"]) is type(good))
    assert result.patch == [{"op": "replace", "path": "/v", "value": good}]
    assert type(result.patch[0]["value"]) is type(good)


def test_an_error_in_a_test_is_raised_as_itself() -> None:
    def broken(config: Any) -> bool:
        if config is not None and config.get("workers") == 16 and config["cache"]["size"] == 128:
            raise ValueError("the test itself is broken")
        return starts(config)

    with pytest.raises(ValueError, match="the test itself is broken"):
        reqbisect.bisect_documents(GOOD_CONFIG, BAD_CONFIG, broken, concurrency=4)


def test_an_error_in_an_oracle_is_raised_as_itself() -> None:
    good, bad, app = waf()
    calls = 0

    def broken(reply: Reply, document: dict[str, Any]) -> bool:
        nonlocal calls
        calls += 1
        if calls > 4:  # after the baselines
            raise KeyError("oracle bug")
        return reply.status == 200

    with pytest.raises(KeyError, match="oracle bug"):
        reqbisect.bisect(good, bad, app=app, oracle=broken, concurrency=4)


@pytest.mark.parametrize(
    ("options", "message"),
    [({"concurrency": 0}, "concurrency: must be at least 1"), ({"max_requests": 1}, "max_requests: must be at least 2")],
)
def test_bisect_documents_checks_its_options_before_testing(options: dict[str, Any], message: str) -> None:
    called = []
    with pytest.raises(reqbisect.InputError, match=message):
        reqbisect.bisect_documents(GOOD_CONFIG, BAD_CONFIG, lambda d: called.append(d) or starts(d), **options)
    assert not called


def test_a_hook_that_signs_in_place_leaves_inputs_and_results_alone() -> None:
    good, bad, app = waf()
    good_capture, bad_capture = reqbisect.load_request(good), reqbisect.load_request(bad)
    before = copy.deepcopy((good_capture.document, bad_capture.document))
    seen: list[int] = []

    def sign(document: dict[str, Any]) -> dict[str, Any]:
        headers = document.setdefault("headers", {})
        seen.append(len(headers))
        headers["x-nonce"] = str(len(seen))
        return document

    result = reqbisect.bisect(good_capture, bad_capture, app=app, prepare=sign)
    assert result.patch == case_expected(WAF)["patch"]
    assert (good_capture.document, bad_capture.document) == before
    assert "x-nonce" not in result.minimal_good.get("headers", {})
    assert "x-nonce" not in result.minimal_bad.get("headers", {})


@pytest.mark.parametrize("answer", ["GOOD", "Good", "good", Outcome.GOOD, True])
def test_an_oracle_may_answer_in_any_of_the_documented_spellings(answer: Any) -> None:
    good, bad, app = waf()
    result = reqbisect.bisect(good, bad, app=app, oracle=lambda reply, doc: answer if reply.status == 200 else False)
    assert result.patch == case_expected(WAF)["patch"]


@pytest.mark.parametrize("answer", [1, "yes", 0.0])
def test_an_oracle_answer_that_means_nothing_is_a_type_error_naming_it(answer: Any) -> None:
    with pytest.raises(TypeError, match=f"not {answer!r}"):
        reqbisect.bisect_documents(GOOD_CONFIG, BAD_CONFIG, lambda d: answer)
