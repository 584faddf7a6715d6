"""Per-candidate hooks: ``prepare=`` in the library, ``--hook`` on the command line, ``pin_body``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reqbisect import BaselineError, abisect, bisect, load_request, pin_body
from reqbisect.cli import cli
from reqbisect.errors import InputError
from reqbisect.hooks import load_hook
from reqbisect.wire import to_wire
from reqbisect.progress import PLAIN_PREFIX

from .conftest import ROOT, case_expected, load_case_app

CASE = ROOT / "cases" / "signed-webhook"
GOOD, BAD, HOOK = CASE / "good.json", CASE / "bad.json", f"{CASE / 'hook.py'}:sign"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# -- the signed-webhook case -------------------------------------------------------------


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_the_signed_webhook_case_needs_its_hook(anyio_backend: str) -> None:
    app = load_case_app("signed-webhook")
    with pytest.raises(BaselineError, match="bad_signature"):
        await abisect(GOOD, BAD, app=app)
    result = await abisect(GOOD, BAD, app=app, prepare=load_hook(HOOK))
    assert result.patch == case_expected("signed-webhook")["patch"]
    assert result.outcome == "found" and result.verified


def test_run_without_the_hook_exits_1_and_suggests_one() -> None:
    code, out, err = invoke("run", str(GOOD), str(BAD), "--app", f"{CASE / 'app.py'}:app")
    assert code == 1 and out == ""
    first, hint = [line for line in err.splitlines() if not line.startswith(PLAIN_PREFIX)]
    assert "GOOD and BAD get the same answer" in first and "bad_signature" in first
    assert "--hook MODULE:FUNCTION" in hint


def test_run_with_the_hook_finds_the_amount(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    code, out, err = invoke("run", str(GOOD), str(BAD), "--app", f"{CASE / 'app.py'}:app", "--hook", HOOK,
                            "--report", str(report))
    assert code == 0, err
    assert json.loads(out) == case_expected("signed-webhook")["patch"]
    assert "hint" not in err
    # The minimal requests are shown before the hook signed them: say so, or the repro fails with 401.
    assert "went through the hook" in err and "went through the hook" in report.read_text(encoding="utf-8")


async def test_an_async_hook_works_too() -> None:
    sign = load_hook(HOOK)
    seen: list[dict[str, Any]] = []

    async def prepare(document: dict[str, Any]) -> dict[str, Any]:
        seen.append(document)
        signed: dict[str, Any] = sign(document)  # type: ignore[assignment]
        return signed

    result = await abisect(GOOD, BAD, app=load_case_app("signed-webhook"), prepare=prepare)
    assert result.patch == case_expected("signed-webhook")["patch"]
    # The baselines, the candidates and the verification all pass through the hook.
    for document in (load_request(GOOD).document, load_request(BAD).document, result.minimal_bad):
        assert document in seen
    assert len(seen) > 3


# -- loading a hook -----------------------------------------------------------------------


def test_a_hook_loads_from_an_importable_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_hooks.py").write_text("def stamp(document):\n    return dict(document, stamped=True)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_hook("my_hooks:stamp")({"a": 1}) == {"a": 1, "stamped": True}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sign", "--hook: expected MODULE:ATTR, e.g. hooks:sign or path/hook.py:sign"),
        ("no/such/file.py:sign", "--hook: no such file: no/such/file.py"),
        (f"{CASE / 'hook.py'}:nope", "has no attribute 'nope'"),
        (f"{CASE / 'hook.py'}:SECRET", "is not callable (expected a function"),
        ("no_such_module_here:sign", "--hook: cannot import no_such_module_here"),
    ],
)
def test_a_bad_hook_is_an_input_error_naming_the_option(spec: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_hook(spec)
    assert message in caught.value.format_message()


def test_a_bad_hook_on_the_command_line_exits_2_before_anything_is_sent() -> None:
    code, out, err = invoke("run", str(GOOD), str(BAD), "--hook", "no/such/file.py:sign")
    assert code == 2 and out == ""
    assert err == "reqbisect: --hook: no such file: no/such/file.py\n"


# -- pin_body -----------------------------------------------------------------------------------


def test_pin_body_returns_the_bytes_that_are_sent() -> None:
    document = {
        "method": "POST",
        "url": "https://api.example.com/v1",
        "headers": {"content-type": "application/json"},
        "body": {"name": "Zoë", "tags": ["a", "b"]},
    }
    pinned, body = pin_body(document)
    assert "body" not in pinned and base64.b64decode(pinned["body_base64"]) == body
    assert json.loads(body) == document["body"]
    assert to_wire(pinned).body == body
    assert pin_body(pinned) == (pinned, body)


def test_pin_body_keeps_a_content_coding_and_a_multipart_boundary() -> None:
    import gzip

    coded = {
        "method": "POST",
        "url": "https://api.example.com/v1",
        "headers": {"content-type": "application/json", "content-encoding": "gzip"},
        "body": {"a": 1},
    }
    pinned, body = pin_body(coded)
    assert json.loads(gzip.decompress(body)) == {"a": 1}
    form = {
        "method": "POST",
        "url": "https://api.example.com/upload",
        "headers": {"content-type": "multipart/form-data"},
        "body": {"note": "hi", "file": {"filename": "a.txt", "content": "data"}},
    }
    pinned, body = pin_body(form)
    boundary = pinned["headers"]["content-type"].partition("boundary=")[2]
    assert boundary and body.startswith(b"--" + boundary.encode())


def test_pin_body_leaves_a_document_without_body_alone() -> None:
    document = {"method": "GET", "url": "https://api.example.com/v1"}
    assert pin_body(document) == (document, b"")


SECRET = b"s3cret"


async def verify(request: Request) -> JSONResponse:
    body = await request.body()
    expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(request.headers.get("x-signature", ""), expected):
        return JSONResponse({"error": "bad signature"}, status_code=401)
    if json.loads(body).get("currency") != "EUR":
        return JSONResponse({"error": "unsupported currency"}, status_code=422)
    return JSONResponse({"ok": True})


SIGNED_APP = Starlette(routes=[Route("/pay", verify, methods=["POST"])])


def curl(body: str) -> str:
    return f"curl https://pay.example.com/pay -H 'content-type: application/json' --data '{body}'"


def test_a_pinned_body_is_signed_exactly_even_when_the_capture_has_its_own_json_style() -> None:
    # The captures are spaced JSON, so a changed body goes out spaced: a hook that
    # serialises the body itself (compactly) signs bytes that are not the ones sent.
    good = load_request(curl('{"amount": 10, "currency": "EUR", "note": "x"}'))
    bad = load_request(curl('{"amount": 12, "currency": "USD", "note": "y"}'))

    def naive(document: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(document["body"], separators=(",", ":")).encode()
        signature = hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
        return {**document, "headers": {**document["headers"], "x-signature": signature}}

    def pinned(document: dict[str, Any]) -> dict[str, Any]:
        fixed, raw = pin_body(document)
        signature = hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
        return {**fixed, "headers": {**fixed["headers"], "x-signature": signature}}

    with pytest.raises(BaselineError):
        bisect(good, bad, app=SIGNED_APP, prepare=naive)
    result = bisect(good, bad, app=SIGNED_APP, prepare=pinned)
    assert result.patch == [{"op": "replace", "path": "/body/currency", "value": "EUR"}]


def test_an_app_or_hook_whose_import_fails_is_an_input_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('no config file')\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"--hook: importing .*broken.py failed: RuntimeError: no config file"):
        load_hook(f"{broken}:sign")
    code, _, err = invoke("run", str(CASE / "good.json"), str(CASE / "bad.json"), "--app", f"{broken}:app")
    assert code == 2 and "RuntimeError: no config file" in err and "Traceback" not in err
