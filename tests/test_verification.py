"""Evidence-driven verification: few requests when answers agree, more where they contradict.

* ``reqbisect.evidence`` on hand-made answers: contradictions, corroboration, the ledger's lead;
* runs over real loopback servers (uvicorn on 127.0.0.1): a consistent server gets each
  baseline once and the final pair once; a server that lies once is caught and the answer
  corrected; a server that answers the final pair inconsistently ends in exit 3.
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from typing import Any

import pytest
from click.testing import CliRunner

import reqbisect.phases
from reqbisect import Inconclusive, abisect, abisect_documents
from reqbisect.budget import plan_bound
from reqbisect.cli import cli
from reqbisect.evidence import Ledger, contradictions, corroborated
from reqbisect.mode import Mode
from reqbisect.outcome import Outcome
from reqbisect.phases import HOPELESS_AFTER
from reqbisect.plan import make_plan

from .conftest import serve

G, B, U = Outcome.GOOD, Outcome.BAD, Outcome.UNRESOLVED

GOOD = {"method": "GET", "url": "http://app.test/", "headers": {"a": "1", "b": "2", "c": "3", "d": "4"}}
BAD = {"method": "GET", "url": "http://app.test/", "headers": {"a": "9", "b": "X", "c": "8", "d": "7"}}


def s(*items: int) -> frozenset[int]:
    return frozenset(items)


# -- the evidence, pure ------------------------------------------------------------


def test_a_top_subset_of_a_bottom_configuration_is_a_contradiction() -> None:
    known = {s(): B, s(0, 1, 2): G, s(0): G, s(0, 1): B, s(2): B}
    assert contradictions(known, top=G) == [(s(0), s(0, 1))]
    assert contradictions({s(): G, s(0): B, s(0, 1): G}, top=B) == [(s(0), s(0, 1))]


def test_answers_are_corroborated_only_by_other_answers_that_predict_them() -> None:
    known = {s(): B, s(0, 1, 2): G, s(0, 1): U, s(1): G}
    assert corroborated(s(0), B, known, top=G)  # a superset {0, 1} was not good either
    assert not corroborated(s(0, 1, 2), B, {s(): B, s(0, 1, 2): G}, top=G)
    assert corroborated(s(1, 2), G, known, top=G)  # {1} is good and a subset
    assert not corroborated(s(0, 2), G, known, top=G)


def test_the_ledger_settles_on_a_lead_of_two() -> None:
    ledger = Ledger()
    config = s(1)
    ledger.add(config, [G])
    assert not ledger.settled(config)
    ledger.add(config, [B])
    assert ledger.disputed() == [config] and ledger.leader(config)[1] == 0
    ledger.add(config, [B, B])
    assert ledger.leader(config) == (B, 2) and ledger.settled(config)
    flaky = s(2)
    ledger.add(flaky, [G, B] * 4 + [G])
    assert not ledger.settled(flaky) and ledger.exhausted(flaky)


# -- runs against loopback servers ---------------------------------------------------


def truth(headers: dict[str, str]) -> int:
    """The server's rule: the request works unless header ``b`` is "X"."""
    return 403 if headers.get("b") == "X" else 200


class Server:
    """An ASGI app that answers by :func:`truth`, but lies as ``lie(count, status)`` says.

    ``count`` is how many times the same request was received before.
    """

    def __init__(self, lie: Any = None) -> None:
        self.seen: Tally[tuple[tuple[str, str], ...]] = Tally()
        self.lie = lie or (lambda count, status: status)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"] if k.decode() in "abcd"}
        key = tuple(sorted(headers.items()))
        status = self.lie(self.seen[key], truth(headers))
        self.seen[key] += 1
        body = b"ok" if status == 200 else b'{"error": "forbidden"}'
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})


def documents(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return {**GOOD, "url": url + "/"}, {**BAD, "url": url + "/"}


async def test_a_consistent_server_gets_each_baseline_once_and_the_final_pair_once() -> None:
    app = Server()
    with serve(app) as server:
        good, bad = documents(server.url)
        result = await abisect(good, bad, target=server.url, concurrency=1)
        received = list(server.counter.received)
    assert result.patch == [{"op": "replace", "path": "/headers/b", "value": "2"}]
    assert result.verification == "consistent" and result.doubts == ()
    assert result.stats.verification == 2
    # Baselines once each, the search's candidates once each; only the minimal good
    # request is sent again, twice (the minimal bad one is BAD, a baseline).
    assert sorted(n for n in Tally(received).values() if n > 1) == [3]
    assert result.stats.requests == len(received) == result.stats.candidates + 2 + 2


async def test_a_lie_that_misleads_the_search_is_re_asked_and_corrected() -> None:
    # The first answer to "only b reverted" is a lie (403); every later one is true.
    target = (("a", "9"), ("b", "2"), ("c", "8"), ("d", "7"))
    lying = Tally[tuple[tuple[str, str], ...]]()

    class Liar(Server):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            headers = tuple(sorted((k.decode(), v.decode()) for k, v in scope["headers"] if k.decode() in "abcd"))
            self.lie = (lambda count, status: 403) if headers == target and not lying[headers] else None
            self.lie = self.lie or (lambda count, status: status)
            lying[headers] += 1
            await super().__call__(scope, receive, send)

    with serve(Liar()) as server:
        good, bad = documents(server.url)
        result = await abisect(good, bad, target=server.url, concurrency=1)
    assert result.outcome == "found" and result.verified and result.minimal
    assert result.patch == [{"op": "replace", "path": "/headers/b", "value": "2"}]
    assert result.verification in ("contradictory", "corrected") and result.doubts


def test_a_server_that_answers_the_final_pair_inconsistently_ends_in_exit_3(tmp_path: Any) -> None:
    # Every request is answered truly the first time and the other way every time after.
    app = Server(lambda count, status: status if count == 0 else (403 if status == 200 else 200))
    with serve(app) as server:
        good, bad = documents(server.url)
        (tmp_path / "good.json").write_text(json.dumps(good))
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        result = CliRunner().invoke(
            cli, ["run", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--target", server.url,
                  "--yes", "--json", "-j", "2"],
            catch_exceptions=False,
        )
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["outcome"] == "inconclusive" and not data["verified"]
    assert "re-verification failed" in data["reason"]
    assert data["verification"]["sends"] == data["stats"]["verification"] > 2
    assert data["verification"]["reason"] in ("contradictory", "corrected") and data["verification"]["doubts"]


@pytest.mark.parametrize("repeat", [1, 3])
async def test_repeat_judges_every_candidate_and_the_baselines_by_a_majority(repeat: int) -> None:
    app = Server()
    with serve(app) as server:
        good, bad = documents(server.url)
        result = await abisect(good, bad, target=server.url, concurrency=2, repeat=repeat)
        received = len(server.counter.received)
    assert result.verification == "consistent"
    assert result.stats.verification == max(2, repeat)
    assert received == result.stats.requests == repeat * (2 + result.stats.candidates) + max(2, repeat)


async def test_a_lie_to_a_baseline_is_outvoted_by_two_more_sends_and_makes_the_run_careful() -> None:
    good_key = tuple(sorted(GOOD["headers"].items()))
    tally: Tally[tuple[tuple[str, str], ...]] = Tally()

    def first_good_lies(count: int, status: int) -> int:
        return status

    class Liar(Server):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            headers = tuple(sorted((k.decode(), v.decode()) for k, v in scope["headers"] if k.decode() in "abcd"))
            self.lie = (lambda count, status: 403) if headers == good_key and not tally[headers] else first_good_lies
            tally[headers] += 1
            await super().__call__(scope, receive, send)

    with serve(Liar()) as server:
        good, bad = documents(server.url)
        result = await abisect(good, bad, target=server.url, concurrency=1)
    assert result.outcome == "found" and result.patch == [{"op": "replace", "path": "/headers/b", "value": "2"}]
    assert tally[good_key] >= 3 and result.verification == "contradictory"
    assert any("GOOD answered 403" in doubt for doubt in result.doubts), result.doubts


async def test_a_search_whose_answers_stay_unresolved_stops_at_a_few_times_the_plan() -> None:
    good = {"fields": {f"f{i}": i for i in range(200)}, "flag": True}
    bad = {"fields": {f"f{i}": -i for i in range(200)}, "flag": False}
    # Only the two documents themselves get a verdict: anything in between fails some other way.
    calls = Tally[str]()

    def test(document: Any) -> Outcome:
        calls["all"] += 1
        return Outcome.GOOD if document == good else Outcome.BAD if document == bad else Outcome.UNRESOLVED

    give_up = HOPELESS_AFTER * plan_bound(make_plan(Mode.FIX, good, bad).space, concurrency=1).search
    with pytest.raises(Inconclusive, match="were unresolved, so the answer says little") as caught:
        await abisect_documents(good, bad, test, concurrency=4)
    # Without the stop the search would ask about every one of the 201 changes, and more.
    assert give_up < 201
    assert give_up <= calls["all"] - 2 <= give_up + 4
    assert caught.value.result is not None and caught.value.result.stats.requests == calls["all"]


async def test_a_search_far_past_what_the_plan_provides_for_stops_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Contradicting answers can send a minimisation round its retries thousands of times; the
    # factor that stops it is made small here so that an ordinary search reaches it.
    good = {"fields": {f"f{i}": i for i in range(64)}}
    bad = {"fields": {f"f{i}": -i for i in range(64)}}
    needed = {"f3", "f17", "f40", "f41", "f60"}

    def test(document: Any) -> Outcome:
        return Outcome.GOOD if all(document["fields"][name] >= 0 for name in needed) else Outcome.BAD

    planned = plan_bound(make_plan(Mode.FIX, good, bad).space, concurrency=1).search
    monkeypatch.setattr(reqbisect.phases, "ASTRAY_AFTER", 10 / planned)
    with pytest.raises(Inconclusive, match="far more than the changes that matter would need") as caught:
        await abisect_documents(good, bad, test, concurrency=1)
    assert caught.value.result is not None and caught.value.result.stats.candidates == 10
