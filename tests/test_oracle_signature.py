"""Signatures survive echoes: per error shape, the same failure with other input looks the same.

For each shape of ``reqbisect.error_shapes`` two answers that differ only in what
they echo of their own request have one signature, and two answers with
different error types do not.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reqbisect.errors import BaselineError
from reqbisect.journal import Recorded
from reqbisect.oracle import Reply, SignatureOracle
from reqbisect.outcome import Outcome
from reqbisect.signature import Signature, signature


def reply(status: int, body: Any) -> Reply:
    return Reply(status=status, body=json.dumps(body).encode())


def request(body: Any, path: str = "/v1/items") -> dict[str, Any]:
    return {"method": "POST", "url": f"https://api.example.test{path}", "headers": {}, "body": body}


def same(a: tuple[Reply, dict[str, Any]], b: tuple[Reply, dict[str, Any]]) -> bool:
    first, second = signature(*a), signature(*b)
    return first.whole == second.whole and first.entries == second.entries and first.shape == second.shape


# -- one case per shape: (answer to doc1, doc1), (answer to doc2, doc2), (another error, doc) ---------------

def problem_details() -> tuple[Any, ...]:
    def answer(item: str, problem: str = "out-of-stock") -> Reply:
        return reply(409, {
            "type": f"https://shop.example.test/problems/{problem}", "title": "The item cannot be ordered.",
            "status": 409, "detail": f"Item '{item}' cannot be ordered right now.", "instance": f"/orders/{item}",
        })
    doc1, doc2 = request({"item": "blue-widget", "qty": 2}), request({"item": "red-gadget", "qty": 7})
    return (answer("blue-widget"), doc1), (answer("red-gadget"), doc2), (answer("blue-widget", "embargo"), doc1)


def pydantic_errors() -> tuple[Any, ...]:
    def answer(user: dict[str, Any], kind: str = "int_parsing") -> Reply:
        return reply(422, {"detail": [
            {"type": kind, "loc": ["body", "user", "age"], "msg": "Input should be a valid integer, unable to parse "
             "string as an integer", "input": user["age"], "ctx": {"given": user["age"]}},
            {"type": "missing", "loc": ["body", "user", "email"], "msg": "Field required", "input": user,
             "url": "https://errors.pydantic.dev/2.9/v/missing"},
        ]})
    user1, user2 = {"name": "ann", "age": "ten"}, {"name": "bob", "age": "eleven", "nickname": "b"}
    doc1, doc2 = request({"user": user1}), request({"user": user2})
    return (answer(user1), doc1), (answer(user2), doc2), (answer(user1, "greater_than"), doc1)


def drf_field_errors() -> tuple[Any, ...]:
    def answer(name: str, message: str = "A user with that username already exists: {}.") -> Reply:
        return reply(400, {"username": [message.format(name)], "profile": {"birth_date": [
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}})
    doc1, doc2 = request({"username": "ann_smith"}), request({"username": "bob_jones"})
    return (answer("ann_smith"), doc1), (answer("bob_jones"), doc2), (answer("x", "This field may not be blank."), doc1)


def graphql_errors() -> tuple[Any, ...]:
    def answer(value: str, code: str = "BAD_USER_INPUT") -> Reply:
        return reply(200, {"data": None, "errors": [{
            "message": f'Variable "$sku" got invalid value "{value}"; Expected type "Sku".',
            "locations": [{"line": 1, "column": 12 + len(value)}], "path": ["product", 3, "sku"],
            "extensions": {"code": code, "exception": {"input": value}},
        }]})
    doc1 = request({"query": "query($sku: Sku){...}", "variables": {"sku": "ab-12"}}, "/graphql")
    doc2 = request({"query": "query($sku: Sku){...}", "variables": {"sku": "zz-9999"}}, "/graphql")
    return (answer("ab-12"), doc1), (answer("zz-9999"), doc2), (answer("ab-12", "FORBIDDEN"), doc1)


def jsonrpc_error() -> tuple[Any, ...]:
    def answer(call: int, params: dict[str, Any], code: int = -32602) -> Reply:
        return reply(200, {"jsonrpc": "2.0", "id": call, "error": {
            "code": code, "message": "Invalid params", "data": {"received": params}}})
    params1, params2 = {"account": "acme", "limit": "many"}, {"account": "globex", "limit": "lots"}
    doc1 = request({"jsonrpc": "2.0", "id": 7, "method": "list", "params": params1}, "/rpc")
    doc2 = request({"jsonrpc": "2.0", "id": 8, "method": "list", "params": params2}, "/rpc")
    return (answer(7, params1), doc1), (answer(8, params2), doc2), (answer(7, params1, -32601), doc1)


SHAPES = {
    "problem": problem_details, "pydantic": pydantic_errors, "drf": drf_field_errors,
    "graphql": graphql_errors, "jsonrpc": jsonrpc_error,
}


@pytest.mark.parametrize("shape", SHAPES)
def test_answers_that_differ_only_in_echoed_input_have_one_signature(shape: str) -> None:
    first, second, _ = SHAPES[shape]()
    assert signature(*first).shape == shape
    assert same(first, second)
    # Without the requests, the echoes show and the two answers differ.
    assert signature(first[0]).whole != signature(second[0]).whole


@pytest.mark.parametrize("shape", SHAPES)
def test_answers_with_different_error_types_have_different_signatures(shape: str) -> None:
    first, _, other = SHAPES[shape]()
    assert not same(first, other)
    assert signature(*first).entries != signature(*other).entries


def test_an_echoed_object_is_masked_whole_and_a_quoted_value_inside_text() -> None:
    doc = request({"order": {"sku": "blue-widget", "qty": 3}, "note": "gift"})
    answer = reply(400, {"error": {"echo": {"sku": "blue-widget", "qty": 3}, "message": "no stock for blue-widget"}})
    masked = signature(answer, doc)
    other_doc = request({"order": {"sku": "red-gadget", "qty": 1}, "note": "gift"})
    other = reply(400, {"error": {"echo": {"sku": "red-gadget", "qty": 1}, "message": "no stock for red-gadget"}})
    assert masked.whole == signature(other, other_doc).whole
    different = reply(400, {"error": {"echo": {"sku": "red-gadget", "qty": 1}, "message": "account closed"}})
    assert masked.whole != signature(different, other_doc).whole


def test_a_record_gives_back_the_signature_a_journal_kept() -> None:
    (answer, doc), _, _ = pydantic_errors()
    sig = signature(answer, doc)
    assert Signature.from_record(422, sig.record) == sig
    replayed = Reply(status=422, recorded=Recorded(Outcome.BAD, sig.record))
    assert signature(replayed) == sig


def graphql_success(doc: dict[str, Any]) -> Reply:
    return reply(200, {"data": {"product": {"sku": doc["body"]["variables"]["sku"], "price": 12.5}}})


def test_graphql_answers_with_one_status_are_told_apart_by_their_errors() -> None:
    (bad, bad_doc), (echoed, echoed_doc), (other, other_doc) = graphql_errors()
    good_doc = request({"query": "query($sku: Sku){...}", "variables": {"sku": "AB-12"}}, "/graphql")
    oracle = SignatureOracle.learn([graphql_success(good_doc)], [bad], documents=(good_doc, bad_doc))
    assert oracle.basis == "GraphQL errors"
    assert oracle(graphql_success(echoed_doc), echoed_doc) is Outcome.GOOD
    assert oracle(echoed, echoed_doc) is Outcome.BAD
    assert oracle(other, other_doc) is Outcome.UNRESOLVED
    assert oracle(reply(500, {"data": None}), echoed_doc) is Outcome.UNRESOLVED


def test_jsonrpc_answers_with_one_status_are_told_apart_by_their_error_member() -> None:
    (bad, bad_doc), (echoed, echoed_doc), (other, other_doc) = jsonrpc_error()
    good = reply(200, {"jsonrpc": "2.0", "id": 7, "result": []})
    oracle = SignatureOracle.learn([good], [bad], documents=(bad_doc, bad_doc))
    assert oracle.basis == "JSON-RPC error"
    assert oracle(reply(200, {"jsonrpc": "2.0", "id": 9, "result": [1]}), echoed_doc) is Outcome.GOOD
    assert oracle(echoed, echoed_doc) is Outcome.BAD
    assert oracle(other, other_doc) is Outcome.UNRESOLVED


def test_some_of_bads_errors_and_no_other_is_the_same_failure() -> None:
    (bad, bad_doc), _, (other, other_doc) = pydantic_errors()
    oracle = SignatureOracle.learn([reply(200, {"ok": True})], [bad], documents=(bad_doc, bad_doc))
    assert oracle.basis == "status 200 vs 422"
    fewer = reply(422, {"detail": [json.loads(bad.body)["detail"][1]]})
    assert oracle(fewer, bad_doc) is Outcome.BAD
    assert oracle(other, other_doc) is Outcome.UNRESOLVED
    assert oracle(reply(422, {"detail": []}), bad_doc) is Outcome.UNRESOLVED


def test_same_status_bodies_are_told_apart_by_their_signature() -> None:
    doc = request({"mode": "fast"})
    good, bad = reply(200, {"status": "queued", "id": 123}), reply(200, {"status": "rejected", "reason": "quota"})
    oracle = SignatureOracle.learn([good], [bad], documents=(doc, doc))
    assert oracle.basis == "body signature"
    assert oracle(reply(200, {"status": "queued", "id": 999}), doc) is Outcome.GOOD
    assert oracle(reply(200, {"status": "rejected", "reason": "quota"}), doc) is Outcome.BAD
    assert oracle(reply(200, {"status": "rejected", "reason": "banned"}), doc) is Outcome.UNRESOLVED


def test_goods_answer_repeated_to_bad_is_the_same_answer_though_its_echoes_differ() -> None:
    # GOOD's answer quotes GOOD's customer; the same bytes given to BAD (a cache, a lie) do
    # not echo BAD's request, so echo masking alone would tell the two apart.
    good_doc, bad_doc = request({"customer": "Acme Corporation"}), request({"customer": "Globex"})
    answer = {"id": "ext_b034351db5cd", "status": "completed", "output": {"customer": "Acme Corporation"}}
    with pytest.raises(BaselineError, match="GOOD and BAD get the same answer"):
        SignatureOracle.learn([reply(200, answer)], [reply(200, answer)], documents=(good_doc, bad_doc))
    # BAD's own answer, echoing BAD's customer, is a distinct answer.
    rejected = {"status": "failed", "output": {"customer": "Globex"}}
    oracle = SignatureOracle.learn([reply(200, answer)], [reply(200, rejected)], documents=(good_doc, bad_doc))
    assert oracle.basis == "body signature"


def test_a_resumed_oracle_learns_the_same_from_recorded_signatures() -> None:
    (bad, bad_doc), (echoed, echoed_doc), _ = graphql_errors()
    good_doc = request({"query": "query($sku: Sku){...}", "variables": {"sku": "AB-12"}}, "/graphql")
    good = graphql_success(good_doc)
    fresh = SignatureOracle.learn([good], [bad], documents=(good_doc, bad_doc))

    def recorded(answer: Reply, doc: dict[str, Any], outcome: Outcome) -> Reply:
        return Reply(status=answer.status, recorded=Recorded(outcome, signature(answer, doc).record))

    resumed = SignatureOracle.learn([recorded(good, good_doc, Outcome.GOOD)], [recorded(bad, bad_doc, Outcome.BAD)])
    assert resumed == fresh
    assert resumed(echoed, echoed_doc) is Outcome.BAD
