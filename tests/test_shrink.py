"""``--shrink``: the minimal pair without what it does not need, same patch, same outcomes.

Every case is shrunk once (cached for the module) and checked three ways: the result's own
re-verification, the patch between the shrunk pair (rebuilt by ``diff``), and the real curl
binary sending the shrunk pair's curl commands to the case's app served on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import jsonpatch
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

import reqbisect
from reqbisect.cli import cli
from reqbisect.diff import diff
from reqbisect.errors import Interrupted
from reqbisect.formats import dump, load_request
from reqbisect.oracle import Reply, SignatureOracle
from reqbisect.outcome import Outcome
from reqbisect.phases import Phase, Progress
from reqbisect.result import Result
from reqbisect.search import Ask, Done
from reqbisect.search.implied import implied
from reqbisect.shrink import measure
from reqbisect.shrink_space import make_shrink_space
from reqbisect.wire import to_wire

from .conftest import CASES, case_expected, case_file, case_names, case_origin, case_route, load_case_app, serve
from .servers import is_socket_case
from .test_cases import case_hook

NAMES = case_names()


@functools.cache
def shrunk(name: str, concurrency: int = 8) -> Result:
    return reqbisect.bisect(
        case_file(name, "good"), case_file(name, "bad"), **case_route(name), prepare=case_hook(name),
        shrink=True, concurrency=concurrency,
    )


@functools.cache
def unshrunk(name: str) -> Result:
    return reqbisect.bisect(
        case_file(name, "good"), case_file(name, "bad"), **case_route(name), prepare=case_hook(name)
    )


@pytest.mark.parametrize("name", NAMES)
def test_shrink_keeps_the_patch_and_both_outcomes(name: str) -> None:
    result = shrunk(name)
    record = result.shrink
    assert record is not None and record.verified, record
    assert result.outcome == "found" and result.verified and result.minimal
    assert result.patch == case_expected(name)["patch"]
    # The patch between the shrunk pair is the same patch, rebuilt from the two requests.
    between = diff(result.minimal_bad, result.minimal_good)
    assert between.patch(range(len(between.changes))) == result.patch
    assert jsonpatch.apply_patch(result.minimal_bad, result.patch) == result.minimal_good
    # The shrunk pair was sent again: its answers are the minimal good and bad replies.
    assert result.reply_good is not None and result.reply_bad is not None
    assert measure(result.minimal_bad) == record.bad_after
    assert record.bad_after.total <= record.bad_before.total
    assert result.stats.shrink == record.requests > 0
    assert result.stats.requests > record.requests


def test_large_body_shrinks_under_two_kilobytes() -> None:
    result = shrunk("large-body")
    assert result.shrink is not None and result.shrink.bad_before.total > 100_000
    assert len(_wire_bytes(result.minimal_bad)) < 2048
    assert len(_wire_bytes(result.minimal_good)) < 2048
    assert "body 111.1 KB → 1.5 KB" in result.shrink.summary()


def _wire_bytes(document: dict[str, Any]) -> bytes:
    wire = to_wire(document)
    lines = [f"{wire.method} {wire.url} HTTP/1.1", *(f"{name}: {value}" for name, value in wire.headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + wire.body


# -- the real curl binary ------------------------------------------------------------------


def _curl(command: str, home: Path, *, options: str = "") -> Reply:
    dead = "http://127.0.0.1:9"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LC_ALL": "C.UTF-8",
           "http_proxy": dead, "https_proxy": dead, "all_proxy": dead, "no_proxy": "127.0.0.1"}
    head, body = home / "head.txt", home / "body.bin"
    assert command.startswith("curl ")
    command = f"curl -s -D {head} -o {body} {options} " + command.removeprefix("curl ")
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    lines = head.read_text(encoding="latin-1").split("\r\n")
    headers = tuple((n.strip().lower(), v.strip()) for n, _, v in (line.partition(":") for line in lines[1:] if line))
    return Reply(status=int(lines[0].split()[1]), headers=headers, body=body.read_bytes())


@pytest.mark.network
@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
@pytest.mark.parametrize("name", NAMES)
def test_the_shrunk_curl_commands_reproduce_with_real_curl(name: str, tmp_path: Path) -> None:
    result = shrunk(name)
    assert result.baseline_good is not None and result.baseline_bad is not None
    # Learnt as the run learnt it: from the baselines' answers and the requests they echo.
    captures = (load_request(case_file(name, "good")).document, load_request(case_file(name, "bad")).document)
    oracle = SignatureOracle.learn([result.baseline_good], [result.baseline_bad], documents=captures)
    hook = case_hook(name)
    with contextlib.ExitStack() as stack:
        # A case on real sockets is already served; a private CA is trusted as a user would (--cacert).
        origin = case_origin(name) if is_socket_case(name) else stack.enter_context(serve(load_case_app(name)))
        trust = f"--cacert {origin.ca_cert}" if getattr(origin, "ca_cert", None) else ""
        for document, want in ((result.minimal_good, Outcome.GOOD), (result.minimal_bad, Outcome.BAD)):
            assert document is not None
            # A hooked run's requests are shown before the hook: re-sign them as the run did.
            sent = hook(copy.deepcopy(document)) if hook is not None else document
            sent = {**sent, "url": origin.url + urlsplit(sent["url"]).path}
            reply = _curl(dump(sent, "curl"), tmp_path, options=trust)
            assert oracle(reply, sent) is want, (want, reply.status, reply.text)


# -- a --hook ------------------------------------------------------------------------------


def test_signed_webhook_keeps_what_the_hook_signs() -> None:
    result, before = shrunk("signed-webhook"), unshrunk("signed-webhook")
    assert result.minimal_bad is not None and before.minimal_bad is not None
    # The signature covers timestamp and body: both stay, the body as it was.
    assert result.minimal_bad["body"] == before.minimal_bad["body"]
    kept = set(result.minimal_bad["headers"])
    assert {"x-webhook-timestamp", "x-webhook-signature"} <= kept < set(before.minimal_bad["headers"])


SECRET = b"s3cret"


def _sign(document: dict[str, Any]) -> dict[str, Any]:
    """Signs the body as sent, without pinning it: the stored signature of a capture stays valid."""
    signed = copy.deepcopy(document)
    unsigned = {**signed, "headers": {k: v for k, v in signed["headers"].items() if k != "x-sig"}}
    digest = hmac.new(SECRET, to_wire(unsigned).body, hashlib.sha256).hexdigest()
    signed["headers"]["x-sig"] = digest
    return signed


async def _signed_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = dict(scope["headers"])
    if headers.get(b"x-sig", b"").decode() != hmac.new(SECRET, body, hashlib.sha256).hexdigest():
        status, payload = 401, {"error": "bad_signature"}
    elif isinstance(json.loads(body).get("amount"), str):
        status, payload = 422, {"error": "invalid_amount"}
    else:
        status, payload = 200, {"ok": True}
    data = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


def test_a_body_under_a_valid_signature_is_not_shrunk_even_though_the_hook_would_re_sign_it() -> None:
    def request(amount: object) -> dict[str, Any]:
        return _sign({
            "method": "POST", "url": "http://shop.test/hook",
            "headers": {"content-type": "application/json", "user-agent": "shop/1.0", "x-trace": "t-1"},
            "body": {"amount": amount, "note": "a long note nobody reads at all", "meta": {"a": 1, "b": [1, 2]}},
        })

    good, bad = request(4990), request("49.90")
    assert _sign(good) == good  # the hook changes nothing on the captures: no field is rewritten
    result = reqbisect.bisect(good, bad, app=_signed_app, prepare=_sign, shrink=True)
    assert result.patch == [{"op": "replace", "path": "/body/amount", "value": 4990}]
    assert result.minimal_bad is not None and result.minimal_good is not None
    assert result.minimal_bad["body"] == bad["body"]
    assert "x-sig" in result.minimal_bad["headers"] and not {"user-agent", "x-trace"} & set(result.minimal_bad["headers"])
    # The hook does to the shrunk pair what it did to the minimal one: BAD's signature still holds
    # as shown, and the good request (BAD + patch) is re-signed to the very same signature.
    before = reqbisect.bisect(good, bad, app=_signed_app, prepare=_sign)
    assert before.minimal_good is not None
    assert _sign(result.minimal_bad) == result.minimal_bad
    assert _sign(result.minimal_good)["headers"]["x-sig"] == _sign(before.minimal_good)["headers"]["x-sig"]


# -- the search: determinism, journal, budget, stop -----------------------------------------


def test_the_shrunk_pair_does_not_depend_on_concurrency() -> None:
    one, many = shrunk("cookie-jar", 1), shrunk("cookie-jar", 8)
    assert (one.minimal_good, one.minimal_bad) == (many.minimal_good, many.minimal_bad)


def test_resume_replays_the_shrink_without_sending(tmp_path: Path) -> None:
    name, journal = "waf-header", tmp_path / "run.journal"
    first = reqbisect.bisect(case_file(name, "good"), case_file(name, "bad"), app=load_case_app(name), shrink=True,
                             journal=journal)
    again = reqbisect.bisect(case_file(name, "good"), case_file(name, "bad"), app=load_case_app(name), shrink=True,
                             resume=journal)
    assert again.stats.requests == 0
    assert (again.minimal_good, again.minimal_bad) == (first.minimal_good, first.minimal_bad)
    assert first.shrink is not None and first.shrink.kept < first.shrink.parts


def test_a_small_budget_ends_the_shrink_early_and_keeps_the_answer() -> None:
    name = "cookie-jar"
    limit = unshrunk(name).stats.requests + 12
    result = reqbisect.bisect(case_file(name, "good"), case_file(name, "bad"), app=load_case_app(name), shrink=True,
                              max_requests=limit)
    assert result.outcome == "found" and result.patch == case_expected(name)["patch"]
    assert result.stats.requests <= limit
    assert result.shrink is not None and result.shrink.note is not None
    assert "budget" in result.shrink.note


async def test_stop_while_shrinking_keeps_the_verified_unshrunk_pair() -> None:
    name, stop, seen = "cookie-jar", anyio.Event(), []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.phase is Phase.SHRINK and "→" in (p.shrunk or ""):
            stop.set()

    with pytest.raises(Interrupted) as caught:
        await reqbisect.abisect(case_file(name, "good"), case_file(name, "bad"), app=load_case_app(name),
                                shrink=True, stop=stop, progress=progress)
    result, before = caught.value.result, unshrunk(name)
    assert result is not None and result.outcome == "found" and result.verified
    assert (result.minimal_good, result.minimal_bad) == (before.minimal_good, before.minimal_bad)
    assert result.shrink is not None and "interrupted" in (result.shrink.note or "")
    assert any(re.match(r"headers \d+ → \d+", p.shrunk or "") for p in seen if p.phase is Phase.SHRINK)


# -- the space (pure) ------------------------------------------------------------------------


def test_the_space_never_touches_what_the_patch_points_into() -> None:
    source = json.loads((CASES / "deep-messages" / "bad.json").read_text())
    patch = case_expected("deep-messages")["patch"]
    space = make_shrink_space(source, patch)
    smallest = space.apply(frozenset())
    messages = smallest["body"]["messages"]
    assert len(messages) == 28  # elements before index 27 stay, so the index still means the same
    assert messages[27]["content"][1]["source"]["media_type"] == source["body"]["messages"][27]["content"][1][
        "source"]["media_type"]
    pair = space.pair(frozenset())
    assert pair is not None
    between = diff(*pair)
    assert between.patch(range(len(between.changes))) == patch


def test_groups_come_before_their_parts_and_positions_stand_for_every_array() -> None:
    source = {"method": "POST", "url": "http://x.test/", "headers": {"content-type": "application/json"},
              "body": {"items": [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": ["c"]}], "flag": True}}
    patch = [{"op": "replace", "path": "/body/flag", "value": False}]
    space = make_shrink_space(source, patch)
    paths = [tuple(map(str, node.path)) for node in space.nodes]
    assert paths.index(("body", "items", "*", "tags")) < paths.index(("body", "items", "*", "tags", "*", "0"))
    first_tags = next(node for node in space.nodes if tuple(map(str, node.path)) == ("body", "items", "*", "tags",
                                                                                     "*", "0"))
    assert set(first_tags.values) == {("body", "items", 0, "tags", 0), ("body", "items", 1, "tags", 0)}
    assert all(space.space.parents[i] is None or space.space.parents[i] < i for i in range(space.size))
    keep = frozenset(i for i, node in enumerate(space.nodes) if tuple(map(str, node.path))[:2] != ("body", "items"))
    assert space.apply(keep)["body"] == {"flag": True}


def test_long_strings_lose_tokens_and_short_body_strings_can_be_emptied() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    source = {"method": "POST", "url": "http://x.test/", "headers": {"content-type": "application/json"},
              "body": {"text": text, "name": "short-name", "flag": True}}
    space = make_shrink_space(source, [{"op": "remove", "path": "/body/flag"}])
    labels = ["/".join(map(str, node.path)) for node in space.nodes]
    assert "body/text/~/13" in labels and "body/name/~/0" not in labels  # a short string is one piece
    keep_one = frozenset(i for i, label in enumerate(labels) if not label.startswith("body/text/~/") or
                         label == "body/text/~/2")
    body = space.apply(keep_one)["body"]
    assert body["text"] == "three" and body["name"] == "short-name"
    emptied = frozenset(i for i, node in enumerate(space.nodes) if not node.tokens)
    assert space.apply(emptied)["body"] == {"text": "", "name": "", "flag": True}


def test_implied_answers_a_question_inside_a_lost_one_without_asking() -> None:
    asked: list[frozenset[int]] = []

    def ask(config: frozenset[int], then: Any) -> Ask:
        asked.append(config)
        return Ask(config=config, p_good=0.5, then=then, best=None)  # type: ignore[arg-type]

    done = Done(best=None)  # type: ignore[arg-type]
    second = ask(frozenset({1}), lambda o: done)
    step = implied(ask(frozenset({1, 2}), lambda o: second))
    assert isinstance(step, Ask) and step.config == frozenset({1, 2})
    assert step.then(Outcome.BAD) is done  # {1} lies inside the lost {1, 2}: answered without asking
    assert isinstance(step.then(Outcome.GOOD), Ask)


# -- the command line ------------------------------------------------------------------------


def test_cli_shrink_prints_the_summary_and_a_valid_json_record() -> None:
    schema = json.loads((Path(reqbisect.__file__).parent / "result.schema.json").read_text(encoding="utf-8"))
    case = CASES / "waf-header"
    run = CliRunner().invoke(cli, ["run", str(case / "good.json"), str(case / "bad.json"), "--app",
                                   f"{case / 'app.py'}:app", "--shrink", "--json", "-q"], catch_exceptions=False)
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    Draft202012Validator(schema).validate(data)
    assert data["shrink"]["verified"] and data["shrink"]["after"]["bad"]["headers"] == 2
    assert data["stats"]["shrink"] == data["shrink"]["requests"] > 0
    assert re.search(r"shrunk: headers 22 → 2, query 5 → 1 .*; \d+ requests", run.stderr)
